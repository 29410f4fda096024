//! Figure encoders: the SVG given its printed size, PNG and TIFF with their resolution, and
//! the PDF converted from the SVG (vector, the embedded font subset into the file).

use std::sync::{Arc, OnceLock};

/// Gives the SVG written by plotters (`width="W" height="H"` in pixels) its printed size in
/// millimetres; the `viewBox` keeps the pixel coordinates, so nothing else changes.
pub(super) fn svg_in_mm(svg: String, w: u32, h: u32, dpi: f64) -> Result<String, String> {
    let mm = |px: u32| px as f64 / dpi * 25.4;
    let from = format!("width=\"{w}\" height=\"{h}\"");
    let to = format!("width=\"{:.4}mm\" height=\"{:.4}mm\"", mm(w), mm(h));
    // Only the root element's (the first) attributes; the PDF's page size depends on them.
    match svg.find(&from) {
        Some(at) if at < 200 => Ok(svg.replacen(&from, &to, 1)),
        _ => Err("the SVG's root has no width and height to give in millimetres".to_string()),
    }
}

/// RGB pixels as PNG, the resolution in the pHYs chunk.
pub(super) fn png(rgb: &[u8], w: u32, h: u32, dpi: f64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let ppm = (dpi / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// RGB pixels as a TIFF, LZW-compressed with the horizontal predictor, the resolution in
/// pixels per inch in XResolution / YResolution.
pub(super) fn tiff(rgb: &[u8], w: u32, h: u32, dpi: f64) -> Result<Vec<u8>, String> {
    use tiff::encoder::{colortype::RGB8, Compression, Predictor, Rational, TiffEncoder};
    use tiff::tags::ResolutionUnit;
    let mut out = std::io::Cursor::new(Vec::new());
    let e = |e: tiff::TiffError| e.to_string();
    let mut enc = TiffEncoder::new(&mut out)
        .map_err(e)?
        .with_compression(Compression::Lzw)
        .with_predictor(Predictor::Horizontal);
    let mut image = enc.new_image::<RGB8>(w, h).map_err(e)?;
    image.resolution(
        ResolutionUnit::Inch,
        Rational {
            n: dpi.round() as u32,
            d: 1,
        },
    );
    image.write_data(rgb).map_err(e)?;
    Ok(out.into_inner())
}

/// The fonts the PDF converter knows: only the figures' own (embedded in the binary), as
/// "sans-serif"; no system font is read, so the PDF is the same on every machine.
fn fontdb() -> Arc<svg2pdf::usvg::fontdb::Database> {
    static DB: OnceLock<Arc<svg2pdf::usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = svg2pdf::usvg::fontdb::Database::new();
        db.load_font_data(epaint_default_fonts::UBUNTU_LIGHT.to_vec());
        let family = db
            .faces()
            .next()
            .and_then(|f| f.families.first())
            .map(|(name, _)| name.clone());
        if let Some(family) = family {
            db.set_sans_serif_family(family);
        }
        Arc::new(db)
    })
    .clone()
}

/// The SVG as a one-page vector PDF of its printed size, text kept as text.
pub(super) fn pdf(svg: &str) -> Result<Vec<u8>, String> {
    // usvg turns millimetres into pixels at `dpi`; the page then goes back to points at
    // the same dpi, so the page is the SVG's printed size.
    const DPI: f32 = 96.0;
    let options = svg2pdf::usvg::Options {
        fontdb: fontdb(),
        dpi: DPI,
        ..svg2pdf::usvg::Options::default()
    };
    let tree = svg2pdf::usvg::Tree::from_str(svg, &options).map_err(|e| format!("PDF: {e}"))?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi: DPI },
    )
    .map_err(|e| format!("PDF: {e}"))
}

/// The plotters SVG `svg` (a pixel canvas of `width` × `height`, before [`svg_in_mm`]) as
/// RGB pixels on white, drawn by resvg with the figures' own font. The web build's raster
/// figures: there plotters measures text in the page but cannot draw it into pixels.
#[cfg(target_arch = "wasm32")]
pub(super) fn rasterize(svg: &str, width: u32, height: u32) -> Result<Vec<u8>, String> {
    let options = svg2pdf::usvg::Options {
        fontdb: fontdb(),
        ..svg2pdf::usvg::Options::default()
    };
    let tree = svg2pdf::usvg::Tree::from_str(svg, &options).map_err(|e| format!("PNG: {e}"))?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| format!("PNG: cannot draw {width} × {height} pixels"))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    // Opaque on white: the premultiplied colour is the colour.
    Ok(pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect())
}
