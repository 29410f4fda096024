//! The sensitivity summary for the endpoint on screen: the arm's hazard ratio unadjusted,
//! matched, IPTW-weighted and in the multivariable Cox model, in one table and one forest
//! plot — read from the core's `sensitivity` rows.

use eframe::egui;
use egui::RichText;
use egui_plot::Plot;

use super::plot_util::{num, p_value};
use super::theme::{Palette, IMBALANCE};
use super::{Reports, ViewContext};

/// The report holding the summary: the adjusted analysis when there is one, else the
/// unadjusted (whichever sample the other views show).
pub fn summary_report(reports: &Reports) -> Result<&crate::analysis::Report, &str> {
    match &reports.matched {
        Some(r) => r.as_deref().map_err(|e| e.as_str()),
        None => reports.unmatched.as_deref().map_err(|e| e.as_str()),
    }
}

pub fn summary_ui(ui: &mut egui::Ui, ctx: &ViewContext, reports: &Reports) {
    let report = match summary_report(reports) {
        Ok(r) => r,
        Err(e) => {
            ui.colored_label(IMBALANCE, e);
            return;
        }
    };
    let Some(ep) = report.endpoints.get(&ctx.settings.endpoint) else {
        return;
    };
    let Some(rows) = &ep.sensitivity else {
        ui.spinner();
        return;
    };
    ui.label(
        RichText::new(format!(
            "{}: hazard ratio of {} vs {}, by adjustment",
            ep.label, report.sample.treated_label, report.sample.control_label
        ))
        .strong()
        .size(17.0),
    );
    ui.weak("The same cohort, subgroup and endpoint analysed four ways: agreement across them is what a reviewer looks for. Propensity covariates: the matching's (or the weighting's); multivariable: the Predictors view's covariates.");
    egui::Grid::new("sensitivity table")
        .striped(true)
        .num_columns(4)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for h in ["Analysis", "n", "HR (95% CI)", "p"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for r in rows {
                ui.label(&r.label);
                ui.label(r.n.to_string());
                match &r.not_estimable {
                    Some(why) => {
                        ui.colored_label(IMBALANCE, "not estimable")
                            .on_hover_text(why);
                        ui.label("");
                    }
                    None => {
                        ui.label(format!(
                            "{} ({}–{}){}",
                            num(r.hr, 2),
                            num(r.ci[0], 2),
                            num(r.ci[1], 2),
                            if r.robust { ", robust SE" } else { "" }
                        ));
                        ui.label(p_value(r.p_value));
                    }
                }
                ui.end_row();
            }
        });
    let ok: Vec<_> = rows
        .iter()
        .filter(|r| r.hr.is_finite() && r.ci[0] > 0.0 && r.ci[1].is_finite())
        .collect();
    let n = ok.len() as f64;
    let labels: Vec<String> = ok.iter().map(|r| r.method.to_string()).collect();
    let plot = super::plot_util::row_axis(Plot::new("sensitivity forest"), labels)
        .height((ui.available_height() - 8.0).clamp(160.0, 360.0))
        .y_axis_min_width(110.0);
    super::plot_util::log_hr_axis(plot, &[0.1, 0.25, 0.5, 1.0, 2.0, 4.0], 2.0).show(ui, |pui| {
        super::plot_util::hr_one_line(pui);
        for (i, r) in ok.iter().enumerate() {
            super::plot_util::hr_row(pui, r.method, n - i as f64, r.hr, r.ci, Palette::BLUE, 4.5);
        }
    });
}
