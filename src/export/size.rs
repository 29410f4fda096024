//! Figure sizes (physical: millimetres and a resolution) and figure formats.

use super::figure::Scale;

/// A figure's size: its pixel canvas and the resolution that gives it a physical size
/// (`width_px / dpi` inches). Every layout depends on the physical size only, so the same
/// size at 300 and at 600 dpi gives the same figure, finer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FigureSize {
    pub width_px: u32,
    pub height_px: u32,
    pub dpi: f64,
    /// A journal size names a width: a figure of table rows (forest, sensitivity summary,
    /// predictors) is then as tall as its rows need, not padded to `height_px`. Slides and
    /// explicit sizes keep their height (and grow only when the rows need more).
    pub fit_height: bool,
}

/// Millimetres per inch.
const MM: f64 = 25.4;

/// The largest canvas `--size` and `--dpi` may ask for (a double column at 1200 dpi is 50).
const MAX_MEGAPIXELS: f64 = 100.0;

/// The names `--size` takes, for messages and menus.
pub const SIZE_NAMES: &str =
    "slide, slide-4:3, single-column (85 mm), double-column (180 mm), WxHmm (e.g. 120x90mm, at least 80 mm wide) or WxH pixels";

impl FigureSize {
    /// Slide 16:9: 13.33 × 7.5 in, PowerPoint's widescreen slide (1920 × 1080 at 144 dpi).
    pub const SLIDE_16_9: FigureSize = FigureSize {
        width_px: 1920,
        height_px: 1080,
        dpi: 144.0,
        fit_height: false,
    };
    /// Slide 4:3: 10 × 7.5 in (1440 × 1080 at 144 dpi).
    pub const SLIDE_4_3: FigureSize = FigureSize {
        width_px: 1440,
        height_px: 1080,
        dpi: 144.0,
        fit_height: false,
    };

    /// `width_mm` × `height_mm` at `dpi`.
    pub fn mm(width_mm: f64, height_mm: f64, dpi: f64) -> FigureSize {
        FigureSize {
            width_px: (width_mm / MM * dpi).round() as u32,
            height_px: (height_mm / MM * dpi).round() as u32,
            dpi,
            fit_height: false,
        }
    }

    /// A journal's single column: 85 mm wide, 110 mm high.
    pub fn single_column(dpi: f64) -> FigureSize {
        FigureSize {
            fit_height: true,
            ..Self::mm(85.0, 110.0, dpi)
        }
    }

    /// A journal's full page width: 180 mm wide, 130 mm high.
    pub fn double_column(dpi: f64) -> FigureSize {
        FigureSize {
            fit_height: true,
            ..Self::mm(180.0, 130.0, dpi)
        }
    }

    /// A slide at another resolution (the same layout, more pixels).
    fn slide(base: FigureSize, dpi: f64) -> FigureSize {
        let inches = |px: u32| px as f64 / base.dpi;
        Self::mm(inches(base.width_px) * MM, inches(base.height_px) * MM, dpi)
    }

    /// Parses `--size` and `--dpi`: "slide" (or "slide-16:9"), "slide-4:3",
    /// "single-column", "double-column", "WxHmm" (80–600 mm wide, 40–600 mm high), or "WxH" pixels
    /// (200–20,000 each). Journal sizes default to 300 dpi, slides and pixels to 144.
    pub fn parse(size: &str, dpi: Option<f64>) -> Result<FigureSize, String> {
        if let Some(d) = dpi {
            if !(72.0..=2400.0).contains(&d) || d.fract() != 0.0 {
                return Err(format!(
                    "--dpi {d}: expected a whole number of dots per inch from 72 to 2400 (journals ask 300 or 600)"
                ));
            }
        }
        let parsed = Self::parse_size(size, dpi)?;
        // Figures of rows and the KMunicate table may add to the height: room for that too.
        let megapixels = parsed.width_px as f64 * parsed.height_px as f64 / 1e6;
        if megapixels > MAX_MEGAPIXELS {
            return Err(format!(
                "--size {size} at {} dpi is {megapixels:.0} million pixels: at most {MAX_MEGAPIXELS:.0} (a smaller size or resolution)",
                parsed.dpi
            ));
        }
        Ok(parsed)
    }

    fn parse_size(size: &str, dpi: Option<f64>) -> Result<FigureSize, String> {
        let journal = dpi.unwrap_or(300.0);
        let screen = dpi.unwrap_or(144.0);
        let s = size.trim().to_ascii_lowercase();
        Ok(match s.as_str() {
            "slide" | "slide-16:9" => Self::slide(Self::SLIDE_16_9, screen),
            "slide-4:3" => Self::slide(Self::SLIDE_4_3, screen),
            "single-column" => Self::single_column(journal),
            "double-column" => Self::double_column(journal),
            other => {
                let bad = || format!("--size '{size}': expected {SIZE_NAMES}");
                let (dims, mm) = match other.strip_suffix("mm") {
                    Some(d) => (d, true),
                    None => (other, false),
                };
                let (w, h) = dims.split_once('x').ok_or_else(bad)?;
                let (w, h): (f64, f64) = (
                    w.trim().parse().map_err(|_| bad())?,
                    h.trim().parse().map_err(|_| bad())?,
                );
                if mm {
                    // Under 80 mm wide, 8 pt text leaves no room for a figure's columns.
                    if !((80.0..=600.0).contains(&w) && (40.0..=600.0).contains(&h)) {
                        return Err(format!(
                            "--size '{size}': width from 80 to 600 mm, height from 40 to 600 mm"
                        ));
                    }
                    Self::mm(w, h, journal)
                } else {
                    let ok = |v: f64| v.fract() == 0.0 && (200.0..=20_000.0).contains(&v);
                    if !(ok(w) && ok(h)) {
                        return Err(format!(
                            "--size '{size}': width and height from 200 to 20000 whole pixels"
                        ));
                    }
                    FigureSize {
                        width_px: w as u32,
                        height_px: h as u32,
                        dpi: screen,
                        fit_height: false,
                    }
                }
            }
        })
    }

    /// The printed width in millimetres.
    pub fn width_mm(&self) -> f64 {
        self.width_px as f64 / self.dpi * MM
    }

    /// The printed height in millimetres.
    pub fn height_mm(&self) -> f64 {
        self.height_px as f64 / self.dpi * MM
    }

    pub(super) fn scale(&self) -> Scale {
        Scale::new(self.height_px, self.dpi)
    }
}

/// A figure file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Vector, editable; sized in millimetres.
    Svg,
    /// Raster with its resolution (pHYs).
    Png,
    /// Vector PDF from the same drawing as the SVG, the font embedded.
    Pdf,
    /// Raster, LZW-compressed, with its resolution tags.
    Tiff,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Svg, Format::Png, Format::Pdf, Format::Tiff];

    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Pdf => "pdf",
            Format::Tiff => "tiff",
        }
    }

    /// Parses one format name ("tif" too).
    pub fn parse(s: &str) -> Result<Format, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "svg" => Ok(Format::Svg),
            "png" => Ok(Format::Png),
            "pdf" => Ok(Format::Pdf),
            "tiff" | "tif" => Ok(Format::Tiff),
            other => Err(format!(
                "--format '{other}': expected svg, png, pdf and/or tiff"
            )),
        }
    }
}
