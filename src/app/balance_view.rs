//! Balance view: SMD before/after per covariate (|SMD| > 0.1 highlighted), a love plot, the
//! propensity-score distribution per arm before and after matching, and the matched counts.

use eframe::egui;
use egui::RichText;
use egui_plot::{Bar, BarChart, Legend, MarkerShape, Plot, Points, VLine};

use super::plot_util::num;
use super::theme::{Palette, IMBALANCE};
use super::{Reports, ViewContext};
use crate::analysis::MatchingReport;

pub fn balance_ui(ui: &mut egui::Ui, ctx: &ViewContext, reports: &Reports) {
    let m = match &reports.matched {
        None => {
            ui.label(RichText::new("Balance").strong().size(15.0));
            ui.label("No adjustment is chosen: choose matching or weighting (IPTW) under Adjustment in the side panel to see the covariate balance before and after it.");
            return;
        }
        Some(Err(e)) => {
            ui.colored_label(IMBALANCE, e);
            return;
        }
        Some(Ok(r)) => r,
    };
    if let Some(w) = &m.weighting {
        super::weighting_view::weighted_balance_ui(ui, ctx, m, w);
        return;
    }
    let Some(mr) = &m.matching else {
        return;
    };
    let sub = if m.sample.subgroup.is_empty() {
        "all patients".to_string()
    } else {
        format!("subgroup: {}", m.sample.subgroup.join(", "))
    };
    ui.label(
        RichText::new(format!(
            "Covariate balance · {} caliper {} SD (width {}) · {sub}",
            mr.caliper_scale,
            mr.caliper,
            num(mr.caliper_width, 4)
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
    ui.label(format!(
        "Matched: {} · unmatched: {} · {} pairs (links)",
        mr.n_matched.joined(", "),
        mr.n_unmatched.joined(", "),
        mr.pairs.len()
    ));
    for w in &mr.warnings {
        ui.colored_label(super::theme::WARNING, w);
    }
    ui.columns(2, |cols| {
        smd_table_ui(&mut cols[0], mr);
        love_plot_ui(&mut cols[1], mr);
    });
    ps_histograms_ui(ui, mr);
}

fn smd_table_ui(ui: &mut egui::Ui, mr: &MatchingReport) {
    egui::Grid::new("smd table").striped(true).num_columns(4).show(ui, |ui| {
        ui.label(RichText::new("Covariate").strong());
        ui.label(RichText::new("SMD before").strong())
            .on_hover_text("Standardized mean difference, MatchIt's definition: treated SD of the unmatched sample (sqrt(p(1−p)) for 0/1)");
        ui.label(RichText::new("SMD after").strong());
        ui.label(RichText::new("Var. ratio after").strong())
            .on_hover_text("Variance treated / control in the matched sample (not for 0/1 covariates)");
        ui.end_row();
        for b in &mr.balance {
            ui.label(&b.covariate);
            for (v, flag) in [(b.smd_before, b.imbalanced_before), (b.smd_after, b.imbalanced_after)] {
                let t = RichText::new(num(v, 3));
                ui.label(if flag { t.color(IMBALANCE).strong() } else { t });
            }
            ui.label(num(b.variance_ratio_after, 2));
            ui.end_row();
        }
    });
    ui.weak("|SMD| > 0.1 is shown in red.");
}

fn love_plot_ui(ui: &mut egui::Ui, mr: &MatchingReport) {
    let rows: Vec<(String, f64, f64)> = mr
        .balance
        .iter()
        .filter(|b| b.covariate != "distance")
        .map(|b| (b.covariate.clone(), b.smd_before, b.smd_after))
        .collect();
    love_rows_ui(ui, &rows, "matching");
}

/// Love plot of (covariate, SMD before, SMD after) rows; `what` names the adjustment.
pub(super) fn love_rows_ui(ui: &mut egui::Ui, rows: &[(String, f64, f64)], what: &str) {
    let pui_text = ui.visuals().strong_text_color();
    let names: Vec<String> = rows.iter().map(|b| b.0.clone()).collect();
    let n = rows.len() as f64;
    let before: Vec<[f64; 2]> = rows
        .iter()
        .enumerate()
        .map(|(i, b)| [b.1.abs(), n - i as f64])
        .collect();
    let after: Vec<[f64; 2]> = rows
        .iter()
        .enumerate()
        .map(|(i, b)| [b.2.abs(), n - i as f64])
        .collect();
    let max_x = rows
        .iter()
        .flat_map(|b| [b.1.abs(), b.2.abs()])
        .filter(|v| v.is_finite())
        .fold(0.25f64, f64::max);
    super::plot_util::row_axis(Plot::new("love plot"), names)
        .height((22.0 * n as f32 + 80.0).max(160.0))
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        // Room on the right for the legend, past the largest SMD.
        .default_x_bounds(0.0, max_x * 1.5)
        .x_axis_label("|standardized mean difference|")
        .y_axis_min_width(140.0)
        .legend(Legend::default().position(egui_plot::Corner::RightTop))
        .show(ui, |pui| {
            pui.vline(
                VLine::new("0.1", 0.1)
                    .color(IMBALANCE)
                    .style(egui_plot::LineStyle::dashed_loose()),
            );
            pui.points(
                Points::new(format!("before {what}"), before)
                    .shape(MarkerShape::Circle)
                    .filled(false)
                    .radius(5.0)
                    // Not the arms' colours: blue and orange mean the arms elsewhere.
                    .color(egui::Color32::from_gray(140)),
            );
            pui.points(
                Points::new(format!("after {what}"), after)
                    .shape(MarkerShape::Circle)
                    .filled(true)
                    .radius(5.0)
                    .color(pui_text),
            );
        });
}

fn ps_histograms_ui(ui: &mut egui::Ui, mr: &MatchingReport) {
    let h = &mr.ps_histogram;
    let names: Vec<&String> = mr.n_matched.iter().map(|(k, _)| k).collect();
    let (t_name, c_name) = (
        names.first().map(|s| s.as_str()).unwrap_or("treated"),
        names.get(1).map(|s| s.as_str()).unwrap_or("control"),
    );
    ui.label(RichText::new("Propensity-score distribution (overlap)").strong());
    ui.columns(2, |cols| {
        for (col, (title, t, c)) in cols.iter_mut().zip([
            ("before matching", &h.treated_before, &h.control_before),
            ("after matching", &h.treated_after, &h.control_after),
        ]) {
            col.label(title);
            let width = h
                .edges
                .get(1)
                .zip(h.edges.first())
                .map(|(b, a)| b - a)
                .unwrap_or(0.05);
            let bars = |v: &Vec<f64>, sign: f64| -> Vec<Bar> {
                v.iter()
                    .enumerate()
                    .map(|(i, &y)| Bar::new(h.edges[i] + width / 2.0, sign * y).width(width * 0.95))
                    .collect()
            };
            Plot::new(("ps hist", title))
                .height((col.available_height() - 10.0).clamp(140.0, 260.0))
                .allow_zoom(false)
                .allow_drag(false)
                .allow_scroll(false)
                .x_axis_label("propensity score")
                .y_axis_label(format!("{t_name} above, {c_name} below"))
                .legend(Legend::default())
                .show(col, |pui| {
                    pui.bar_chart(BarChart::new(t_name, bars(t, 1.0)).color(Palette::arm(0)));
                    pui.bar_chart(BarChart::new(c_name, bars(c, -1.0)).color(Palette::arm(1)));
                });
        }
    });
}
