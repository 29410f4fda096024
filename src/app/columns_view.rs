//! The "Columns and roles" dialog: which column of the file plays each role (patient id, arm,
//! each endpoint's time and event, responses, dates), which sheet of a workbook is read and how
//! dates are written. It edits [`LoadOptions`]; applying re-prepares the cohort through the
//! core (`Cohort::prepare`), so the window and `analyze --map … --sheet … --date-format …` read
//! a file the same way. The mapping is saved in the spec file.

use std::collections::BTreeMap;

use eframe::egui;

use super::App;
use crate::cohort::{Cohort, DateFormat, LoadOptions, ROLE_LABELS};

/// What the dialog edits, applied only on "Apply".
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnsDialog {
    pub options: LoadOptions,
    /// Per event role, the values that mean the event, comma-separated as typed (empty: the
    /// usual codes and words).
    pub event_values: BTreeMap<String, String>,
}

/// The event roles whose coding the dialog lets the user declare.
const EVENT_ROLES: [(&str, &str); 2] = [
    ("os_event", "OS event (death)"),
    ("pfs_event", "PFS event (progression or death)"),
];

/// The file's column that currently plays `role` in `cohort` (prepared from `raw`), or how it
/// got there.
pub fn current_source(raw: &Cohort, cohort: &Cohort, role: &str) -> String {
    match cohort.columns.iter().position(|c| c.name == role) {
        // Renames keep the column's place; derived columns are appended after the file's.
        Some(k) if k < raw.columns.len() => raw.columns[k].name.clone(),
        Some(_) => "derived from dates".to_string(),
        None => "—".to_string(),
    }
}

const AUTOMATIC: &str = "automatic (common names)";

fn date_format_label(f: DateFormat) -> &'static str {
    match f {
        DateFormat::Auto => "decide from the data",
        DateFormat::Dmy => "day/month/year (15/03/2024)",
        DateFormat::Mdy => "month/day/year (03/15/2024)",
    }
}

impl App {
    pub fn open_columns_dialog(&mut self) {
        let event_values = EVENT_ROLES
            .iter()
            .map(|(role, _)| {
                let text = self
                    .settings
                    .spec
                    .declared_event_values(role)
                    .map(|v| v.join(", "))
                    .unwrap_or_default();
                (role.to_string(), text)
            })
            .collect();
        self.columns_dialog = Some(ColumnsDialog {
            options: self.loaded.options.clone(),
            event_values,
        });
    }

    pub(super) fn columns_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = &mut self.columns_dialog else {
            return;
        };
        let raw = &self.loaded.raw;
        let cohort = &self.loaded.cohort;
        let mut open = true;
        let mut apply = false;
        let mut cancel = false;
        egui::Window::new("Columns and roles")
            .open(&mut open)
            .default_width(620.0)
            .collapsible(false)
            .show(ctx, |ui| {
                ui.label(
                    "Each role is found by its common names; choose a column to override. \
                     Saved with the analysis spec.",
                );
                ui.add_space(4.0);
                read_options_ui(ui, &mut dialog.options, raw);
                ui.add_space(6.0);
                egui::Grid::new("roles")
                    .num_columns(3)
                    .striped(true)
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        ui.strong("Role");
                        ui.strong("Column");
                        ui.strong("Read now from");
                        ui.end_row();
                        for (role, label) in ROLE_LABELS {
                            let label = ui.label(label);
                            role_combo(ui, &mut dialog.options.column_map, raw, role)
                                .labelled_by(label.id);
                            ui.weak(current_source(raw, cohort, role));
                            ui.end_row();
                        }
                    });
                ui.add_space(6.0);
                event_values_ui(ui, &mut dialog.event_values);
                ui.add_space(6.0);
                ui.horizontal(|ui| {
                    apply = ui.button("Apply").clicked();
                    if ui.button("All automatic").clicked() {
                        dialog.options.column_map.clear();
                    }
                    cancel = ui.button("Cancel").clicked();
                });
            });
        if apply {
            let options = dialog.options.clone();
            for (role, text) in &dialog.event_values {
                let values: Vec<String> = text
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect();
                if values.is_empty() {
                    self.settings.spec.event_values.remove(role);
                } else {
                    self.settings.spec.event_values.insert(role.clone(), values);
                }
            }
            self.columns_dialog = None;
            self.apply_load_options(options);
        } else if cancel || !open {
            self.columns_dialog = None;
        }
    }
}

fn role_combo(
    ui: &mut egui::Ui,
    map: &mut BTreeMap<String, String>,
    raw: &Cohort,
    role: &str,
) -> egui::Response {
    let selected = map.get(role).cloned();
    let mut choice = selected.clone();
    let response = egui::ComboBox::from_id_salt(("role", role))
        .width(240.0)
        .selected_text(selected.as_deref().unwrap_or(AUTOMATIC))
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut choice, None, AUTOMATIC);
            for c in &raw.columns {
                ui.selectable_value(&mut choice, Some(c.name.clone()), &c.name);
            }
        })
        .response;
    if choice != selected {
        match choice {
            Some(c) => {
                map.insert(role.to_string(), c);
            }
            None => {
                map.remove(role);
            }
        }
    }
    response
}

/// Which sheet of a workbook is read, and how dates written with the year last are read.
fn read_options_ui(ui: &mut egui::Ui, options: &mut LoadOptions, raw: &Cohort) {
    if raw.sheets.len() > 1 {
        ui.horizontal(|ui| {
            let label = ui.label("Sheet");
            let current = options
                .sheet
                .clone()
                .unwrap_or_else(|| "first with data".to_string());
            egui::ComboBox::from_id_salt("sheet")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut options.sheet, None, "first with data");
                    for name in &raw.sheets {
                        ui.selectable_value(&mut options.sheet, Some(name.clone()), name);
                    }
                })
                .response
                .labelled_by(label.id);
        });
    }
    ui.horizontal(|ui| {
        let label = ui.label("Dates written as");
        egui::ComboBox::from_id_salt("date_format")
            .selected_text(date_format_label(options.date_format))
            .show_ui(ui, |ui| {
                for f in [DateFormat::Auto, DateFormat::Dmy, DateFormat::Mdy] {
                    ui.selectable_value(&mut options.date_format, f, date_format_label(f));
                }
            })
            .response
            .labelled_by(label.id);
        ui.weak("months = days / 30.4375");
    });
}

/// The values that mean the event in each event column (empty: 1/0 and the usual words).
fn event_values_ui(ui: &mut egui::Ui, event_values: &mut BTreeMap<String, String>) {
    ui.label(
        "Event values: what the event column writes for the event (e.g. Deceased); \
         every other value is censored. Empty: 1/0 and the usual words.",
    );
    egui::Grid::new("event_values")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for (role, label) in EVENT_ROLES {
                let label = ui.label(label);
                let text = event_values.entry(role.to_string()).or_default();
                ui.add(
                    egui::TextEdit::singleline(text)
                        .hint_text("e.g. Deceased")
                        .desired_width(240.0),
                )
                .labelled_by(label.id);
                ui.end_row();
            }
        });
}
