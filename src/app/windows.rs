//! The menu bar, the status bar and the floating windows (errors, R code).

use eframe::egui;

use super::{theme, App, View};
use crate::DEMO_LABEL;

impl App {
    /// The export's size and resolution (remembered in the settings).
    fn export_choice_ui(&mut self, ui: &mut egui::Ui) {
        use super::settings::ExportChoice;
        let choice = &mut self.settings.export;
        let current = ExportChoice::SIZES
            .iter()
            .find(|(k, _)| *k == choice.size)
            .map_or(choice.size.clone(), |(_, l)| l.to_string());
        egui::ComboBox::from_label("size")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (key, label) in ExportChoice::SIZES {
                    ui.selectable_value(&mut choice.size, key.to_string(), label);
                }
            });
        let dpi_text = |d: Option<u32>| match d {
            None => "the size's own (slides 144, journals 300 dpi)".to_string(),
            Some(d) => format!("{d} dpi"),
        };
        egui::ComboBox::from_label("resolution (PNG, TIFF)")
            .selected_text(dpi_text(choice.dpi))
            .show_ui(ui, |ui| {
                for d in [None, Some(300), Some(600)] {
                    ui.selectable_value(&mut choice.dpi, d, dpi_text(d));
                }
            });
    }

    pub(super) fn menu_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open cohort…  (Ctrl+O)").clicked() {
                    ui.close();
                    self.open_dialog();
                }
                if ui.button("Open the synthetic demo cohort").clicked() {
                    ui.close();
                    self.open_demo();
                }
                if ui.button("Columns and roles…").clicked() {
                    ui.close();
                    self.open_columns_dialog();
                }
                ui.separator();
                if ui.button("Save analysis spec…  (Ctrl+S)").clicked() {
                    ui.close();
                    self.save_spec_dialog();
                }
                if ui.button("Open analysis spec…  (Ctrl+Shift+O)").clicked() {
                    ui.close();
                    self.open_spec_dialog();
                }
                ui.separator();
                ui.label("Export the current view (Ctrl+E: as last time)");
                self.export_choice_ui(ui);
                for format in crate::export::Format::ALL {
                    let label = match format {
                        crate::export::Format::Svg => "Save as SVG (vector, editable)…",
                        crate::export::Format::Pdf => "Save as PDF (vector, font embedded)…",
                        crate::export::Format::Png => "Save as PNG…",
                        crate::export::Format::Tiff => "Save as TIFF (LZW)…",
                    };
                    let mut text = egui::RichText::new(label);
                    if format == self.settings.export.format {
                        text = text.strong();
                    }
                    if ui.button(text).clicked() {
                        ui.close();
                        self.export_figure(format);
                    }
                }
                #[cfg(not(target_arch = "wasm32"))]
                if ui.button("Copy figure to the clipboard (PNG)").clicked() {
                    ui.close();
                    self.copy_figure();
                }
                ui.separator();
                ui.label("Save the analysis shown");
                if ui
                    .button("Report as JSON (as `analyze` prints it)…  (Ctrl+J)")
                    .clicked()
                {
                    ui.close();
                    self.save_report_json();
                }
                ui.menu_button("Tables as CSV", |ui| {
                    let tables = self.tables();
                    if tables.is_empty() {
                        ui.label("still updating…");
                    }
                    for (name, _) in tables.iter() {
                        if ui.button(name).clicked() {
                            ui.close();
                            self.save_table(name);
                        }
                    }
                });
                ui.separator();
                if ui.button("Show as R code…").clicked() {
                    ui.close();
                    self.show_r_code();
                }
                if !self.settings.recent.is_empty() && cfg!(not(target_arch = "wasm32")) {
                    ui.separator();
                    ui.label("Recent files");
                    let recent = self.settings.recent.clone();
                    for p in recent {
                        if ui.button(p.display().to_string()).clicked() {
                            ui.close();
                            self.open_file(&p);
                        }
                    }
                }
            });
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.settings.show_ci, "Confidence bands");
                ui.checkbox(&mut self.settings.dark, "Dark theme");
                if ui.button("Presentation mode  (F11)").clicked() {
                    ui.close();
                    let ctx = ui.ctx().clone();
                    self.set_presentation(&ctx, true);
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("About Survival Explorer").clicked() {
                    ui.close();
                    super::about::open(ui.ctx());
                }
            });
            ui.separator();
            for (v, label) in [
                (View::Survival, "Survival"),
                (View::Response, "Response"),
                (View::Balance, "Balance"),
                (View::Sensitivity, "Caliper sensitivity"),
                (View::Subgroups, "Subgroups"),
                (View::Predictors, "Predictors"),
                (View::Summary, "Sensitivity summary"),
            ] {
                ui.selectable_value(&mut self.settings.view, v, label);
            }
            ui.separator();
            if self.loaded.is_demo {
                ui.label(
                    egui::RichText::new(DEMO_LABEL.to_uppercase())
                        .color(theme::WARNING)
                        .strong(),
                )
                .on_hover_text("The bundled cohort is simulated (see README): no patient in it.");
            } else {
                ui.label(&self.loaded.label);
            }
        });
    }

    pub(super) fn status_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some((path, secs)) = self.loading() {
                ui.spinner();
                ui.label(format!(
                    "reading {} … {secs:.1} s",
                    path.file_name().unwrap_or_default().to_string_lossy()
                ));
                ui.weak("·");
            }
            if self.pending.is_some() {
                ui.spinner();
                ui.label("computing…");
            } else {
                ui.weak(format!(
                    "{} rows · analysis {:.1} ms",
                    self.loaded.cohort.n_rows, self.last_analysis_ms
                ));
            }
            ui.weak("· Ctrl+O open · Ctrl+S save spec · drop a file · F11 presentation");
        });
    }

    pub(super) fn r_code_ui(&mut self, ctx: &egui::Context) {
        let Some(code) = self.r_code.clone() else {
            return;
        };
        let mut open = true;
        egui::Window::new("R code for this analysis")
            .open(&mut open)
            .default_size([720.0, 520.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui.button("Copy").clicked() {
                        ui.ctx().copy_text(code.clone());
                    }
                    ui.weak(
                        "Runs with R's survival and MatchIt; prints the same medians, HRs and DCR.",
                    );
                });
                egui::ScrollArea::both().show(ui, |ui| {
                    let mut text = code.clone();
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .code_editor()
                            .desired_width(f32::INFINITY),
                    );
                });
            });
        if !open {
            self.r_code = None;
        }
    }

    pub(super) fn error_ui(&mut self, ctx: &egui::Context) {
        let Some(msg) = self.error.clone() else {
            return;
        };
        let mut open = true;
        let mut dismissed = false;
        egui::Window::new("Something went wrong")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 60.0])
            .show(ctx, |ui| {
                ui.label(&msg);
                ui.weak("The previous cohort is still loaded.");
                if ui.button("OK").clicked() {
                    dismissed = true;
                }
            });
        if !open || dismissed {
            self.error = None;
        }
    }
}
