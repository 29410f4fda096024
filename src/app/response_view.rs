//! Response view: DCR and ORR per arm as bars with 95% CI whiskers, the counts table and
//! Fisher's p, for the current subgroup and sample.

use eframe::egui;
use egui::RichText;
use egui_plot::{Bar, BarChart, GridMark, Line, Plot};

use super::plot_util::{num, p_value, pct};
use super::survival_view::shown_reports;
use super::theme::Palette;
use super::{Reports, ViewContext};
use crate::analysis::Report;

pub fn response_ui(ui: &mut egui::Ui, ctx: &ViewContext, reports: &Reports) {
    let shown = shown_reports(ctx, reports);
    ui.columns(shown.len(), |cols| {
        for (col, r) in cols.iter_mut().zip(shown) {
            match r {
                Ok(report) => one_ui(col, ctx, report),
                Err(e) => {
                    col.colored_label(super::theme::IMBALANCE, e);
                }
            }
        }
    });
}

fn one_ui(ui: &mut egui::Ui, ctx: &ViewContext, report: &Report) {
    let title = super::survival_view::sample_title(report, "Best response");
    ui.label(RichText::new(title).strong().size(15.0));
    if ctx.loaded.is_demo {
        ui.label(
            RichText::new(crate::DEMO_LABEL)
                .small()
                .color(super::theme::WARNING),
        );
    }
    let Some(resp) = &report.response else {
        ui.label("The file has no best_response column.");
        return;
    };
    if let Some(r) = &resp.not_available {
        ui.colored_label(super::theme::WARNING, r);
    }
    let mut bars = Vec::new();
    let mut whiskers = Vec::new();
    for (k, (arm, a)) in resp.arms.iter().enumerate() {
        let color = Palette::arm(k);
        let mut arm_bars = Vec::new();
        for (g, (value, ci)) in [(a.dcr, a.dcr_ci), (a.orr, a.orr_ci)]
            .into_iter()
            .enumerate()
        {
            let x = g as f64 * 3.0 + k as f64 * 1.0;
            arm_bars.push(
                Bar::new(x, 100.0 * value)
                    .width(0.9)
                    .fill(color.gamma_multiply(0.85)),
            );
            if ci[0].is_finite() {
                whiskers.push((x, 100.0 * ci[0], 100.0 * ci[1], color));
            }
        }
        bars.push(BarChart::new(arm.clone(), arm_bars).color(color));
    }
    let plot_h = (ui.available_height() * 0.55).max(220.0);
    Plot::new(("response", report.sample.matched))
        .height(plot_h)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .default_y_bounds(0.0, 100.0)
        .default_x_bounds(-0.8, 4.8)
        .y_axis_label("% of evaluable patients")
        .x_grid_spacer(|_| {
            vec![
                GridMark {
                    value: 0.5,
                    step_size: 3.0,
                },
                GridMark {
                    value: 3.5,
                    step_size: 3.0,
                },
            ]
        })
        .x_axis_formatter(|m, _| {
            if m.value < 2.0 {
                "Disease control (CR+PR+SD)".into()
            } else {
                "Objective response (CR+PR)".into()
            }
        })
        .legend(egui_plot::Legend::default())
        .show(ui, |pui| {
            for b in bars {
                pui.bar_chart(b);
            }
            for (x, lo, hi, c) in whiskers {
                pui.line(
                    Line::new("", vec![[x, lo], [x, hi]])
                        .color(c.gamma_multiply(0.6))
                        .width(2.0)
                        .allow_hover(false),
                );
                for y in [lo, hi] {
                    pui.line(
                        Line::new("", vec![[x - 0.15, y], [x + 0.15, y]])
                            .color(c.gamma_multiply(0.6))
                            .width(2.0)
                            .allow_hover(false),
                    );
                }
            }
        });
    ui.add_space(6.0);
    response_table_ui(ui, resp, report.sample.matched);
    ui.label(format!(
        "Fisher's exact test (two-sided): DCR p = {}, ORR p = {}",
        p_value(resp.dcr_p_value),
        p_value(resp.orr_p_value)
    ))
    .on_hover_text("R's fisher.test rule: sum of tables at most as probable as the observed one");
}

/// The response counts per arm with DCR and ORR and their exact CIs.
fn response_table_ui(ui: &mut egui::Ui, resp: &crate::analysis::ResponseReport, matched: bool) {
    egui::Grid::new(("response table", matched))
        .striped(true)
        .num_columns(10)
        .show(ui, |ui| {
            for h in [
                "Arm",
                "n",
                "evaluable",
                "CR",
                "PR",
                "SD",
                "PD",
                "NE",
                "DCR (95% CI)",
                "ORR (95% CI)",
            ] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for (k, (arm, a)) in resp.arms.iter().enumerate() {
                ui.label(RichText::new(arm).color(Palette::arm(k)).strong());
                ui.label(num(a.n, 0));
                ui.label(num(a.n_evaluable, 0))
                    .on_hover_text("Patients with CR, PR, SD or PD; NE and missing are left out");
                for c in ["CR", "PR", "SD", "PD", "NE"] {
                    ui.label(num(a.counts.get(c).copied().unwrap_or(f64::NAN), 0));
                }
                ui.label(format!(
                    "{} ({}–{})",
                    pct(a.dcr),
                    pct(a.dcr_ci[0]),
                    pct(a.dcr_ci[1])
                ))
                .on_hover_text("Disease control rate, exact Clopper–Pearson 95% CI");
                ui.label(format!(
                    "{} ({}–{})",
                    pct(a.orr),
                    pct(a.orr_ci[0]),
                    pct(a.orr_ci[1])
                ))
                .on_hover_text("Objective response rate, exact Clopper–Pearson 95% CI");
                ui.end_row();
            }
        });
}
