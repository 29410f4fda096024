//! What the app is: its version (window title, About dialog), the window icon, and the
//! About dialog (license, intended use, how to cite, the libraries it stands on).

use eframe::egui;

/// The version, as in `Cargo.toml` and `survival-explorer --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The window's title: the name and the version.
pub fn window_title() -> String {
    format!("Survival Explorer {VERSION}")
}

/// The window icon (the same drawing as the .exe's and the desktop entry's, made by
/// `packaging/make_icon.py`). `None` only if the bundled PNG were broken (checked by tests).
#[cfg(not(target_arch = "wasm32"))]
pub fn window_icon() -> Option<egui::IconData> {
    let png = include_bytes!("../../assets/icon/survival-explorer-64.png");
    let (width, height, rgba) = super::actions::decode_png_rgba(png).ok()?;
    Some(egui::IconData {
        rgba,
        width,
        height,
    })
}

/// The libraries the app stands on, with what each does for it.
const LIBRARIES: [(&str, &str); 12] = [
    ("egui, eframe, egui_plot", "the window and its plots"),
    ("csv-core, rayon", "CSV files, read on every core"),
    ("polars", "Parquet files"),
    ("calamine", "Excel and OpenDocument sheets"),
    ("statrs", "distributions"),
    ("nalgebra", "matrices"),
    (
        "plotters, svg2pdf, tiff",
        "exported figures (SVG, PDF, PNG, TIFF)",
    ),
    ("serde, serde_json, toml", "JSON reports and spec files"),
    ("clap", "the command line"),
    ("rfd, arboard", "file dialogs, the clipboard"),
    ("wasm-bindgen, resvg", "the web build"),
    (
        "R: survival, MatchIt",
        "the methods it reproduces and is tested against",
    ),
];

fn open_id() -> egui::Id {
    egui::Id::unique("about dialog open")
}

/// Opens the About dialog (from the Help menu).
pub fn open(ctx: &egui::Context) {
    ctx.data_mut(|d| d.insert_temp(open_id(), true));
}

/// Draws the About dialog while it is open.
pub fn about_ui(ctx: &egui::Context) {
    let mut open = ctx.data(|d| d.get_temp::<bool>(open_id()).unwrap_or(false));
    if !open {
        return;
    }
    let mut close = false;
    egui::Window::new("About Survival Explorer")
        .collapsible(false)
        .resizable(false)
        .open(&mut open)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.heading(window_title());
            ui.label("Kaplan–Meier, Cox and propensity-score matching for two-arm cohorts.");
            ui.label(egui::RichText::new("For research; not a medical device.").strong());
            ui.label("License: MIT OR Apache-2.0, at your option.");
            ui.label("Offline: no network code, no telemetry.");
            ui.separator();
            ui.label(egui::RichText::new("How to cite").strong());
            ui.label(format!(
                "Survival Explorer (version {VERSION}), software, 2026 — and R's survival and \
                 MatchIt, whose methods it reproduces (docs/methods.md lists each reference)."
            ));
            ui.separator();
            ui.label(egui::RichText::new("Built on").strong());
            egui::Grid::new("about libraries").show(ui, |ui| {
                for (name, what) in LIBRARIES {
                    ui.label(name);
                    ui.weak(what);
                    ui.end_row();
                }
            });
            ui.separator();
            if ui.button("Close").clicked() {
                close = true;
            }
        });
    if close {
        open = false;
    }
    ctx.data_mut(|d| d.insert_temp(open_id(), open));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_icon_decodes_to_a_square_rgba_image() {
        let icon = window_icon().expect("the bundled icon decodes");
        assert_eq!((icon.width, icon.height), (64, 64));
        assert_eq!(icon.rgba.len(), 64 * 64 * 4);
    }
}
