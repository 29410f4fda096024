//! Colours, type sizes and the look of normal and presentation mode.

use eframe::egui;
use egui::Color32;

/// Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008).
pub struct Palette;

impl Palette {
    pub const BLUE: Color32 = Color32::from_rgb(0x00, 0x72, 0xB2);
    pub const VERMILLION: Color32 = Color32::from_rgb(0xD5, 0x5E, 0x00);
    pub const ORANGE: Color32 = Color32::from_rgb(0xE6, 0x9F, 0x00);
    pub const SKY: Color32 = Color32::from_rgb(0x56, 0xB4, 0xE9);
    pub const GREEN: Color32 = Color32::from_rgb(0x00, 0x9E, 0x73);

    /// Treated arm first, control second.
    pub fn arm(index: usize) -> Color32 {
        if index == 0 {
            Self::BLUE
        } else {
            Self::VERMILLION
        }
    }
}

pub const WARNING: Color32 = Color32::from_rgb(0xC0, 0x6A, 0x00);
pub const IMBALANCE: Color32 = Color32::from_rgb(0xC8, 0x32, 0x00);

/// Applies the theme; presentation mode enlarges everything and raises contrast.
pub fn apply(ctx: &egui::Context, dark: bool, presentation: bool) {
    ctx.set_theme(if dark {
        egui::Theme::Dark
    } else {
        egui::Theme::Light
    });
    ctx.set_zoom_factor(if presentation { 1.45 } else { 1.0 });
    let mut visuals = if dark {
        egui::Visuals::dark()
    } else {
        egui::Visuals::light()
    };
    if presentation {
        visuals.override_text_color = Some(if dark { Color32::WHITE } else { Color32::BLACK });
        if !dark {
            visuals.panel_fill = Color32::WHITE;
            visuals.window_fill = Color32::WHITE;
        }
    }
    ctx.set_visuals(visuals);
}

/// Line width of the curves.
pub fn curve_width(presentation: bool) -> f32 {
    if presentation {
        4.0
    } else {
        2.2
    }
}

/// Writes an RGBA image as PNG.
pub fn save_png(path: &std::path::Path, image: &egui::ColorImage) -> Result<(), String> {
    let [w, h] = image.size;
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    writer.write_image_data(&bytes).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}
