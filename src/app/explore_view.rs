//! Caliper sensitivity and subgroup forest views, drawn from the core's sweep and forest.

use eframe::egui;
use egui::RichText;
use egui_plot::{FilledArea, GridMark, Line, LineStyle, MarkerShape, Plot, Points, VLine};

use super::plot_util::{num, p_value};
use super::theme::{Palette, IMBALANCE};
use super::{Reports, Settings, ViewContext};

/// What the sensitivity view asks the app to do (applied after drawing).
pub enum ExploreCommand {
    SetCaliper(f64),
}

pub fn sweep_ui(ui: &mut egui::Ui, ctx: &ViewContext, reports: &Reports) -> Option<ExploreCommand> {
    let settings: &Settings = ctx.settings;
    let report = match &reports.matched {
        None => {
            ui.label(RichText::new("Caliper sensitivity").strong().size(17.0));
            ui.label("Matching is off: choose \"matching\" under Adjustment to see how the matched hazard ratio depends on the caliper.");
            return None;
        }
        Some(Err(e)) => {
            ui.colored_label(IMBALANCE, e);
            return None;
        }
        Some(Ok(r)) => r,
    };
    if report.weighting.is_some() {
        ui.label(RichText::new("Caliper sensitivity").strong().size(17.0));
        ui.label("The caliper is matching's: choose \"matching\" under Adjustment to see how the matched hazard ratio depends on it.");
        return None;
    }
    let ep = report.endpoints.get(&settings.endpoint)?;
    let Some(sweep) = &ep.caliper_sweep else {
        ui.spinner();
        return None;
    };
    let m = report.matching.as_ref()?;
    ui.label(
        RichText::new(format!(
            "Caliper sensitivity · {} · HR of {} vs {} over 0.01–1 SD ({} distance)",
            ep.label, report.sample.treated_label, report.sample.control_label, m.caliper_scale
        ))
        .strong()
        .size(17.0),
    );
    ui.weak("Each point re-runs the matching (same propensity model) and the Cox model. Click a point to use that caliper.");
    let current = settings.matching().caliper;
    let xs: Vec<f64> = sweep.iter().map(|p| p.caliper.log10()).collect();
    let ok: Vec<usize> = (0..sweep.len())
        .filter(|&i| sweep[i].hr.is_finite())
        .collect();
    let h = (ui.available_height() * 0.6).max(220.0);
    let resp = Plot::new("sweep hr")
        .height(h)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_grid_spacer(caliper_ticks)
        .x_axis_formatter(caliper_label)
        .y_axis_label("hazard ratio (95% CI)")
        // The hover label shows the sweep point nearest the pointer's caliper (not the
        // pointer's height, which is no hazard ratio).
        .label_formatter(|pos| {
            let position = match pos {
                egui_plot::HoverPosition::NearDataPoint { position, .. }
                | egui_plot::HoverPosition::Elsewhere { position } => position,
            };
            let p = ok.iter().map(|&i| &sweep[i]).min_by(|a, b| {
                (a.caliper.log10() - position.x)
                    .abs()
                    .total_cmp(&(b.caliper.log10() - position.x).abs())
            })?;
            Some(format!(
                "caliper {:.3} SD: HR {:.2} ({:.2}–{:.2}), {} treated matched",
                p.caliper, p.hr, p.ci[0], p.ci[1], p.n_pairs
            ))
        })
        .show(ui, |pui| {
            let bx: Vec<f64> = ok.iter().map(|&i| xs[i]).collect();
            let lo: Vec<f64> = ok.iter().map(|&i| sweep[i].ci[0]).collect();
            let hi: Vec<f64> = ok.iter().map(|&i| sweep[i].ci[1]).collect();
            if bx.len() >= 2 {
                pui.add(
                    FilledArea::new("95% CI", &bx, &lo, &hi)
                        .fill_color(Palette::BLUE.gamma_multiply(0.18))
                        .allow_hover(false),
                );
            }
            let pts: Vec<[f64; 2]> = ok.iter().map(|&i| [xs[i], sweep[i].hr]).collect();
            pui.add(Line::new("HR", pts.clone()).color(Palette::BLUE).width(2.0));
            pui.add(
                Points::new("HR points", pts)
                    .color(Palette::BLUE)
                    .radius(3.0)
                    .shape(MarkerShape::Circle),
            );
            pui.add(
                Line::new("no effect", vec![[-2.0, 1.0], [0.0, 1.0]])
                    .color(egui::Color32::GRAY)
                    .style(LineStyle::dashed_loose())
                    .allow_hover(false),
            );
            pui.vline(
                VLine::new("current caliper", current.log10())
                    .color(Palette::VERMILLION)
                    .width(2.0),
            );
        });
    let command = clicked_caliper(&resp, sweep);
    pairs_plot_ui(ui, sweep, current);
    command
}

pub fn forest_ui(ui: &mut egui::Ui, ctx: &ViewContext, reports: &Reports) {
    let shown = super::survival_view::shown_reports(ctx, reports);
    let Some(Ok(report)) = shown.last().copied() else {
        if let Some(Err(e)) = shown.last() {
            ui.colored_label(IMBALANCE, *e);
        }
        return;
    };
    let Some(ep) = report.endpoints.get(&ctx.settings.endpoint) else {
        return;
    };
    let Some(rows) = &ep.forest else {
        ui.spinner();
        return;
    };
    ui.label(
        RichText::new(super::survival_view::sample_title(
            report,
            &format!("{} subgroups", ep.label),
        ))
        .strong()
        .size(17.0),
    );
    ui.weak("HR (95% CI) of the treated vs the control arm within each level; p for interaction: likelihood-ratio test of arm × covariate (Cox, k − 1 df). Many subgroups invite chance findings: no correction for multiplicity.");
    // As the exported figure: a heading row per covariate (its name and the interaction p,
    // no estimate), an indented row per level with n per arm.
    let mut labels = vec![format!("All patients: HR {}", num(ep.cox.hr, 2))];
    let mut estimates: Vec<Option<usize>> = vec![None];
    for (i, r) in rows.iter().enumerate() {
        if i == 0 || rows[i - 1].covariate != r.covariate {
            labels.push(format!(
                "{} · p int {}",
                crate::format::column_label(&r.covariate),
                p_value(r.interaction_p_value)
            ));
            estimates.push(None);
        }
        let nn: Vec<String> = r.n.iter().map(|(_, v)| num(*v, 0)).collect();
        let ne = if r.not_estimable.is_some() {
            " not estimable"
        } else {
            ""
        };
        labels.push(format!(
            "    {} (n {}){ne}",
            crate::format::level_label(&r.covariate, &r.level),
            nn.join("/")
        ));
        estimates.push(Some(i));
    }
    let n = labels.len() as f64;
    let labels_for_axis = labels.clone();
    let plot = super::plot_util::row_axis(Plot::new("forest"), labels_for_axis)
        .height(ui.available_height() - 8.0)
        .y_axis_min_width(330.0);
    super::plot_util::log_hr_axis(plot, &[0.1, 0.25, 0.5, 1.0, 2.0, 4.0], 0.7).show(ui, |pui| {
        super::plot_util::hr_one_line(pui);
        let mut draw = |y: f64, hr: f64, lo: f64, hi: f64, color: egui::Color32| {
            if hr.is_finite() && lo.is_finite() && hi.is_finite() {
                super::plot_util::hr_row(pui, "", y, hr, [lo, hi], color, 4.0);
            }
        };
        draw(
            n,
            ep.cox.hr,
            ep.cox.ci[0],
            ep.cox.ci[1],
            egui::Color32::BLACK,
        );
        for (k, e) in estimates.iter().enumerate() {
            if let Some(i) = e {
                let r = &rows[*i];
                draw(n - k as f64, r.hr, r.ci[0], r.ci[1], Palette::BLUE);
            }
        }
    });
    // The numbers, for reading and for screen readers.
    forest_table_ui(ui, rows);
}

/// The caliper of the sweep point nearest a click on the hazard-ratio plot.
fn clicked_caliper(
    resp: &egui_plot::PlotResponse<()>,
    sweep: &[crate::analysis::explore::SweepPoint],
) -> Option<ExploreCommand> {
    let mut command = None;
    if resp.response.clicked() {
        if let Some(pos) = resp.response.interact_pointer_pos() {
            let x = resp.transform.value_from_position(pos).x;
            if let Some(best) = sweep.iter().min_by(|a, b| {
                (a.caliper.log10() - x)
                    .abs()
                    .total_cmp(&(b.caliper.log10() - x).abs())
            }) {
                command = Some(ExploreCommand::SetCaliper(best.caliper));
            }
        }
    }
    command
}

/// The number of matched treated patients against the caliper, the current one marked.
fn pairs_plot_ui(ui: &mut egui::Ui, sweep: &[crate::analysis::explore::SweepPoint], current: f64) {
    let xs: Vec<f64> = sweep.iter().map(|p| p.caliper.log10()).collect();
    Plot::new("sweep pairs")
        .height((ui.available_height() - 8.0).max(140.0))
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_grid_spacer(caliper_ticks)
        .x_axis_formatter(caliper_label)
        .x_axis_label("caliper (SD of the distance, log scale)")
        .y_axis_label("treated matched")
        .show(ui, |pui| {
            let pts: Vec<[f64; 2]> = sweep
                .iter()
                .zip(&xs)
                .map(|(p, &x)| [x, p.n_pairs as f64])
                .collect();
            pui.add(Line::new("matched", pts).color(Palette::GREEN).width(2.0));
            pui.vline(
                VLine::new("current caliper", current.log10())
                    .color(Palette::VERMILLION)
                    .width(2.0),
            );
        });
}

/// The caliper axis' ticks (log scale, at round calipers).
fn caliper_ticks(_: egui_plot::GridInput) -> Vec<GridMark> {
    [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
        .iter()
        .map(|&c: &f64| GridMark {
            value: c.log10(),
            step_size: 0.3,
        })
        .collect()
}

/// A caliper tick's label (the axis is log10 of the caliper).
fn caliper_label(m: GridMark, _: &std::ops::RangeInclusive<f64>) -> String {
    format!("{:.2}", 10f64.powf(m.value))
}

/// The forest plot's numbers as a table: subgroup, n and events per arm, HR (95% CI), p.
fn forest_table_ui(ui: &mut egui::Ui, rows: &[crate::analysis::explore::ForestRow]) {
    egui::CollapsingHeader::new("Table").show(ui, |ui| {
        egui::Grid::new("forest table")
            .striped(true)
            .show(ui, |ui| {
                for h in [
                    "Subgroup",
                    "n",
                    "events",
                    "HR (95% CI)",
                    "p for interaction",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for r in rows {
                    ui.label(format!(
                        "{}: {}",
                        crate::format::column_label(&r.covariate),
                        crate::format::level_label(&r.covariate, &r.level)
                    ));
                    ui.label(
                        r.n.iter()
                            .map(|(_, v)| num(*v, 0))
                            .collect::<Vec<_>>()
                            .join(" / "),
                    );
                    ui.label(
                        r.events
                            .iter()
                            .map(|(_, v)| num(*v, 0))
                            .collect::<Vec<_>>()
                            .join(" / "),
                    );
                    match &r.not_estimable {
                        Some(_) => ui.label("not estimable"),
                        None => ui.label(format!(
                            "{} ({}–{})",
                            num(r.hr, 2),
                            num(r.ci[0], 2),
                            num(r.ci[1], 2)
                        )),
                    };
                    ui.label(p_value(r.interaction_p_value));
                    ui.end_row();
                }
            });
    });
}
