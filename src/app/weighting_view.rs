//! The Balance view under weighting (IPTW): the weighted standardized mean differences per
//! covariate column with a love plot, the effective sample sizes, and the weights'
//! distribution per arm — all read from the core's weighting report.

use eframe::egui;
use egui::RichText;
use egui_plot::{Bar, BarChart, Legend, Plot};

use super::plot_util::num;
use super::theme::{Palette, IMBALANCE};
use super::ViewContext;
use crate::analysis::Report;
use crate::weighting::WeightingReport;

pub fn weighted_balance_ui(
    ui: &mut egui::Ui,
    ctx: &ViewContext,
    report: &Report,
    w: &WeightingReport,
) {
    ui.label(
        RichText::new(format!(
            "Covariate balance · {} · {}",
            w.describe(),
            if report.sample.subgroup.is_empty() {
                "all patients".to_string()
            } else {
                format!("subgroup: {}", report.sample.subgroup.join(", "))
            }
        ))
        .strong()
        .size(15.0),
    );
    if ctx.loaded.is_demo {
        ui.label(
            RichText::new(crate::DEMO_LABEL)
                .small()
                .color(super::theme::WARNING),
        );
    }
    let ess: Vec<String> = w
        .weights
        .ess
        .iter()
        .map(|(k, v)| format!("{k} {}", num(*v, 1)))
        .collect();
    let sums: Vec<String> = w
        .weights
        .sum
        .iter()
        .map(|(k, v)| format!("{k} {}", num(*v, 1)))
        .collect();
    ui.label(format!(
        "Weighted: {} patients, {} excluded · weights {}–{} · sum of weights: {} · effective sample size: {}",
        w.n,
        w.n_excluded,
        num(w.weights.min, 2),
        num(w.weights.max, 2),
        sums.join(", "),
        ess.join(", ")
    ))
    .on_hover_text("Effective sample size: Kish's (Σw)²/Σw² per arm");
    for e in &w.excluded {
        ui.weak(format!("{} excluded: {}", e.n, e.reason));
    }
    for warning in &w.warnings {
        ui.colored_label(super::theme::WARNING, warning);
    }
    let rows: Vec<(String, f64, f64)> = w
        .balance
        .iter()
        .map(|b| (b.covariate.clone(), b.smd_before, b.smd_after))
        .collect();
    ui.columns(2, |cols| {
        smd_table_ui(&mut cols[0], &rows, w.estimand);
        super::balance_view::love_rows_ui(&mut cols[1], &rows, "weighting");
    });
    weights_histogram_ui(ui, w);
}

fn smd_table_ui(ui: &mut egui::Ui, rows: &[(String, f64, f64)], estimand: &str) {
    let sd = if estimand == "att" {
        "the treated arm's SD"
    } else {
        "the pooled SD sqrt((s₁² + s₀²)/2)"
    };
    egui::Grid::new("weighted smd table")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.label(RichText::new("Covariate").strong());
            ui.label(RichText::new("SMD before").strong())
                .on_hover_text(format!(
                    "Difference in means over {sd} (unweighted, n − 1), every column alike"
                ));
            ui.label(RichText::new("SMD after weighting").strong())
                .on_hover_text(format!("Difference in weighted means over the same {sd}"));
            ui.end_row();
            for (name, before, after) in rows {
                ui.label(name);
                for v in [before, after] {
                    let t = RichText::new(num(*v, 3));
                    ui.label(if v.abs() > 0.1 {
                        t.color(IMBALANCE).strong()
                    } else {
                        t
                    });
                }
                ui.end_row();
            }
        });
    ui.weak("|SMD| > 0.1 is shown in red.");
}

fn weights_histogram_ui(ui: &mut egui::Ui, w: &WeightingReport) {
    let h = &w.histogram;
    ui.label(RichText::new("Distribution of the weights").strong());
    let width = h
        .edges
        .get(1)
        .zip(h.edges.first())
        .map(|(b, a)| b - a)
        .unwrap_or(0.1);
    let arms: Vec<(&String, &Vec<f64>)> = h.counts.iter().collect();
    Plot::new("weights hist")
        .height((ui.available_height() - 10.0).clamp(140.0, 260.0))
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_label("weight")
        .y_axis_label(match arms.as_slice() {
            [(t, _), (c, _)] => format!("patients: {t} above, {c} below"),
            _ => "patients".to_string(),
        })
        .legend(Legend::default())
        .show(ui, |pui| {
            for (k, (name, counts)) in arms.iter().enumerate() {
                let sign = if k == 0 { 1.0 } else { -1.0 };
                let bars: Vec<Bar> = counts
                    .iter()
                    .enumerate()
                    .map(|(i, &y)| Bar::new(h.edges[i] + width / 2.0, sign * y).width(width * 0.95))
                    .collect();
                pui.bar_chart(BarChart::new(name.as_str(), bars).color(Palette::arm(k)));
            }
        });
}
