//! The side panel: edits the settings (and through them the spec). Reads the report only to
//! show counts.

use eframe::egui;
use egui::RichText;

use super::{LoadedCohort, Reports, Settings};
use crate::analysis::{resolve_endpoints, RiskTable, Subgroup, TimeUnit};
use crate::cohort::{Cohort, Column, ColumnData};
use crate::stats::cox::Ties;
use crate::stats::km::ConfType;

/// Columns that carry outcomes or identity, never a covariate or a subgroup.
const ROLE_COLUMNS: [&str; 8] = [
    "patient_id",
    "pfs_months",
    "pfs_event",
    "os_months",
    "os_event",
    "first_line_months",
    "best_response",
    "time",
];

/// A numeric column with at most this many distinct values is offered as categories.
const MAX_LEVELS: usize = 8;

pub use crate::format::column_label;

/// A column as the window names it: the file's own header when the file named it otherwise
/// (an alias renamed it), else the role's readable label.
pub fn display_name(cohort: &Cohort, name: &str) -> String {
    let read = cohort.name_as_read(name);
    if read != name {
        read.to_string()
    } else {
        column_label(name)
    }
}

/// The columns that can be model covariates: not a role's column, and not constant.
pub fn covariate_candidates<'a>(settings: &Settings, cohort: &'a Cohort) -> Vec<&'a Column> {
    cohort
        .columns
        .iter()
        .filter(|c| !is_role(settings, cohort, c) && c.n_distinct() >= 2)
        .collect()
}

/// Not a subgroup filter: a role's column (arm, endpoint times and events, id, dates), a
/// column of identifiers (every value different) or of times (a unit, "date" or "time" in
/// its name).
fn is_role(settings: &Settings, cohort: &Cohort, col: &Column) -> bool {
    if ROLE_COLUMNS.contains(&col.name.as_str()) || col.name == settings.spec.arm_column {
        return true;
    }
    let named = cohort.name_as_read(&col.name);
    let lower = named.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).collect();
    if TimeUnit::in_name(named).is_some()
        || words
            .iter()
            .any(|w| matches!(*w, "date" | "time" | "id" | "mrn"))
        || crate::cohort::DATE_ROLES.contains(&col.name.as_str())
    {
        return true;
    }
    if col.is_identifier_like() {
        return true;
    }
    resolve_endpoints(cohort, &settings.spec)
        .map(|eps| {
            eps.iter()
                .any(|e| e.event == col.name || e.time.contains(&col.name))
        })
        .unwrap_or(false)
}

/// Categorical: text, or numbers with few distinct values.
fn is_categorical(col: &Column) -> bool {
    match &col.data {
        ColumnData::Text { levels, .. } => levels.len() <= 30,
        ColumnData::Numeric(_) => col.n_distinct() <= MAX_LEVELS,
    }
}

/// Draws the controls; true when the user asked for the column-mapping dialog.
pub fn controls_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    loaded: &LoadedCohort,
    reports: Option<&Reports>,
) -> bool {
    let cohort = &loaded.cohort;
    let columns = data_ui(ui, settings, loaded, reports);
    ui.separator();
    arms_ui(ui, settings, cohort);
    ui.separator();
    endpoint_ui(ui, settings, cohort);
    ui.separator();
    subgroup_ui(ui, settings, cohort, reports);
    ui.separator();
    super::adjustment_panel::adjustment_ui(ui, settings, cohort, reports);
    ui.separator();
    method_ui(ui, settings);
    columns
}

fn data_ui(
    ui: &mut egui::Ui,
    settings: &Settings,
    loaded: &LoadedCohort,
    reports: Option<&Reports>,
) -> bool {
    let columns = ui
        .horizontal(|ui| {
            ui.heading("Data");
            ui.button("Columns…")
                .on_hover_text("Which column is which role; sheet; date format")
                .clicked()
        })
        .inner;
    if loaded.is_demo {
        ui.label(
            RichText::new("Synthetic demo data (no real patients)").color(super::theme::WARNING),
        );
    }
    let c = &loaded.cohort;
    ui.label(format!(
        "{} rows in {}",
        c.n_rows,
        short_name(&loaded.label)
    ));
    let Some(Ok(r)) = reports.map(|r| &r.unmatched) else {
        return columns;
    };
    ui.label(format!("Per arm: {}", r.cohort.arms.joined(" · ")));
    for e in &r.sample.excluded {
        ui.weak(format!("{} left out: {}", e.n, e.reason));
    }
    if let Some(ep) = r.endpoints.get(&settings.endpoint) {
        for e in &ep.excluded {
            ui.weak(format!("{} left out of {}: {}", e.n, ep.label, e.reason));
        }
    }
    // Many notes (renamed columns, dates read) would push the controls down: folded away
    // past three, with their count.
    let notes: Vec<&String> = r.cohort.warnings.iter().chain(&r.warnings).collect();
    if notes.len() <= 3 {
        for w in notes {
            ui.colored_label(super::theme::WARNING, w);
        }
    } else {
        egui::CollapsingHeader::new(
            RichText::new(format!(
                "{} notes on the file and the analysis",
                notes.len()
            ))
            .color(super::theme::WARNING),
        )
        .id_salt("notes")
        .show(ui, |ui| {
            for w in notes {
                ui.colored_label(super::theme::WARNING, w);
            }
        });
    }
    if let Some(Some(Ok(m))) = reports.map(|r| &r.matched) {
        if let Some(mr) = &m.matching {
            if mr.n_tie_decisions > 0 {
                ui.colored_label(
                    super::theme::WARNING,
                    crate::matching::tie_warning(mr.n_tie_decisions),
                );
            }
        }
    }
    columns
}

fn short_name(label: &str) -> &str {
    std::path::Path::new(label)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or(label)
}

fn arms_ui(ui: &mut egui::Ui, settings: &mut Settings, cohort: &Cohort) {
    ui.heading("Arms");
    let spec = &mut settings.spec;
    let candidates: Vec<&Column> = cohort
        .columns
        .iter()
        .filter(|c| is_categorical(c) && c.n_distinct() >= 2)
        .collect();
    egui::ComboBox::from_label("Arm column")
        .selected_text(spec.arm_column.clone())
        .show_ui(ui, |ui| {
            for c in &candidates {
                ui.selectable_value(&mut spec.arm_column, c.name.clone(), c.name.clone());
            }
        });
    let levels = cohort
        .column(&spec.arm_column)
        .map(|c| c.levels())
        .unwrap_or_default();
    for (label, value) in [
        ("Treated", &mut spec.treated),
        ("Control", &mut spec.control),
    ] {
        egui::ComboBox::from_label(label)
            .selected_text(value.clone())
            .show_ui(ui, |ui| {
                for l in &levels {
                    ui.selectable_value(value, l.clone(), l.clone());
                }
            });
    }
    // A label per arm, used in every legend, table and figure ("1" shown as "Lenvatinib").
    for (role, level) in [
        ("Treated", spec.treated.clone()),
        ("Control", spec.control.clone()),
    ] {
        let mut text = spec.label_for(&level).unwrap_or_default().to_string();
        ui.horizontal(|ui| {
            let label = ui.label(format!("{role} shown as"));
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut text)
                        .hint_text(level.as_str())
                        .desired_width(140.0),
                )
                .labelled_by(label.id);
            if edit.changed() {
                let label = (!text.trim().is_empty()).then(|| text.clone());
                spec.set_label(&level, label);
            }
        });
    }
}

fn endpoint_ui(ui: &mut egui::Ui, settings: &mut Settings, cohort: &Cohort) {
    ui.heading("Endpoint");
    let eps = resolve_endpoints(cohort, &settings.spec).unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        for e in eps {
            ui.selectable_value(&mut settings.endpoint, e.name.clone(), e.label())
                .on_hover_text(format!("time: {}; event: {}", e.time.join(" + "), e.event));
        }
    });
}

fn subgroup_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    cohort: &Cohort,
    reports: Option<&Reports>,
) {
    ui.heading("Subgroup");
    if let Some(Ok(r)) = reports.map(|r| &r.unmatched) {
        ui.label(format!(
            "n in subgroup: {}",
            r.sample.n_subgroup.joined(" · ")
        ));
    }
    if cohort.has_column("prior_io_response") {
        let resistant = Subgroup::Levels {
            column: "prior_io_response".to_string(),
            values: vec!["PD".to_string()],
        };
        let on = settings.spec.subgroups.contains(&resistant);
        if ui
            .selectable_label(on, "Primary resistance to A+B (PD) only")
            .on_hover_text(
                "Patients whose best response to atezolizumab + bevacizumab was progression",
            )
            .clicked()
        {
            settings
                .spec
                .subgroups
                .retain(|s| s.column() != "prior_io_response");
            if !on {
                settings.spec.subgroups.push(resistant);
            }
        }
    }
    let columns: Vec<&Column> = cohort
        .columns
        .iter()
        .filter(|c| !is_role(settings, cohort, c))
        .collect();
    for col in columns {
        if is_categorical(col) {
            levels_filter_ui(ui, settings, col);
        } else if let ColumnData::Numeric(v) = &col.data {
            range_filter_ui(ui, settings, col, v);
        }
    }
    if !settings.spec.subgroups.is_empty() && ui.button("Clear subgroup").clicked() {
        settings.spec.subgroups.clear();
    }
}

fn levels_filter_ui(ui: &mut egui::Ui, settings: &mut Settings, col: &Column) {
    let levels = col.levels();
    let current: Option<Vec<String>> = settings.spec.subgroups.iter().find_map(|s| match s {
        Subgroup::Levels { column, values } if *column == col.name => Some(values.clone()),
        _ => None,
    });
    let active = current.is_some();
    let title = if active {
        RichText::new(format!("{} (filtered)", column_label(&col.name))).strong()
    } else {
        RichText::new(column_label(&col.name))
    };
    egui::CollapsingHeader::new(title)
        .id_salt(("subgroup", &col.name))
        .show(ui, |ui| {
            let mut ticked: Vec<bool> = levels
                .iter()
                .map(|l| current.as_ref().is_none_or(|v| v.contains(l)))
                .collect();
            let mut changed = false;
            ui.horizontal_wrapped(|ui| {
                for (l, t) in levels.iter().zip(ticked.iter_mut()) {
                    changed |= ui.checkbox(t, l.as_str()).changed();
                }
            });
            if changed {
                settings.spec.subgroups.retain(|s| s.column() != col.name);
                if ticked.iter().any(|t| !t) {
                    settings.spec.subgroups.push(Subgroup::Levels {
                        column: col.name.clone(),
                        values: levels
                            .iter()
                            .zip(&ticked)
                            .filter(|(_, t)| **t)
                            .map(|(l, _)| l.clone())
                            .collect(),
                    });
                }
            }
        });
}

fn range_filter_ui(ui: &mut egui::Ui, settings: &mut Settings, col: &Column, v: &[f64]) {
    let lo = v
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(f64::INFINITY, f64::min);
    let hi = v
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    if !(lo.is_finite() && hi.is_finite()) {
        return;
    }
    let (mut a, mut b) = settings
        .spec
        .subgroups
        .iter()
        .find_map(|s| match s {
            Subgroup::Range { column, min, max } if *column == col.name => {
                Some((min.unwrap_or(lo), max.unwrap_or(hi)))
            }
            _ => None,
        })
        .unwrap_or((lo, hi));
    let mut changed = false;
    ui.horizontal(|ui| {
        let from = ui.label(format!("{} from", column_label(&col.name)));
        let speed = (hi - lo) / 200.0;
        changed |= ui
            .add(egui::DragValue::new(&mut a).range(lo..=hi).speed(speed))
            .labelled_by(from.id)
            .changed();
        let to = ui.label("to");
        changed |= ui
            .add(egui::DragValue::new(&mut b).range(lo..=hi).speed(speed))
            .labelled_by(to.id)
            .changed();
    });
    if changed {
        settings.spec.subgroups.retain(|s| s.column() != col.name);
        if a > lo || b < hi {
            settings.spec.subgroups.push(Subgroup::Range {
                column: col.name.clone(),
                min: (a > lo).then_some(a),
                max: (b < hi).then_some(b),
            });
        }
    }
}

fn method_ui(ui: &mut egui::Ui, settings: &mut Settings) {
    ui.heading("Methods");
    let spec = &mut settings.spec;
    egui::ComboBox::from_label("Survival CI")
        .selected_text(spec.conf_type.r_name())
        .show_ui(ui, |ui| {
            for c in [ConfType::LogLog, ConfType::Log, ConfType::Plain] {
                ui.selectable_value(&mut spec.conf_type, c, c.r_name());
            }
        });
    egui::ComboBox::from_label("Cox ties")
        .selected_text(spec.ties.name())
        .show_ui(ui, |ui| {
            for t in [Ties::Efron, Ties::Breslow] {
                ui.selectable_value(&mut spec.ties, t, t.name());
            }
        });
    let units = [
        TimeUnit::Days,
        TimeUnit::Weeks,
        TimeUnit::Months,
        TimeUnit::Years,
    ];
    egui::ComboBox::from_label("Time unit in the file")
        .selected_text(spec.time_unit.name())
        .show_ui(ui, |ui| {
            for u in units {
                ui.selectable_value(&mut spec.time_unit, u, u.name());
            }
        })
        .response
        .on_hover_text("The unit the file's time columns are in");
    let shown = spec.shown_unit();
    let mut show_in = shown;
    egui::ComboBox::from_label("Show times in")
        .selected_text(shown.name())
        .show_ui(ui, |ui| {
            for u in units {
                ui.selectable_value(&mut show_in, u, u.name());
            }
        })
        .response
        .on_hover_text("Times converted: 7 days a week, 30.4375 a month, 365.25 a year");
    if show_in != shown {
        spec.show_in = (show_in != spec.time_unit).then_some(show_in);
    }
    ui.checkbox(&mut settings.show_ci, "Show confidence bands");
    let name = |t: RiskTable| match t {
        RiskTable::AtRisk => "number at risk",
        RiskTable::Kmunicate => "KMunicate",
    };
    let table = &mut settings.spec.risk_table;
    egui::ComboBox::from_label("Table under the curves")
        .selected_text(name(*table))
        .show_ui(ui, |ui| {
            for t in [RiskTable::AtRisk, RiskTable::Kmunicate] {
                ui.selectable_value(table, t, name(t));
            }
        })
        .response
        .on_hover_text(
            "KMunicate (Morris et al. 2019): per arm the number at risk, and how many were \
             censored and had the event to date",
        );
}
