//! Kaplan–Meier view: step curves with CI bands, censor ticks, dashed medians, a legend with n,
//! events and median (95% CI), HR and log-rank p on the plot, and under it the number-at-risk
//! table (or the KMunicate one: `risk_table`).

use eframe::egui;
use std::sync::Arc;

use egui::{Color32, RichText};
use egui_plot::{FilledArea, GridMark, HoverPosition, Line, LineStyle, MarkerShape, Plot, Points};

use super::plot_util::{draw_curve, est_ci, num, p_value_parts, step_points, ticks, time_step};
use super::risk_table::{left_room, risk_table_ui, table_rows, Columns};
use super::theme::{curve_width, Palette};
use super::{Reports, SampleView, ViewContext};
use crate::analysis::{EndpointReport, Report};

/// The effect box's line while the test of proportional hazards is computed.
pub const PH_PENDING: &str = "proportional hazards: checking…";

/// Title line: endpoint, matched or not, subgroup.
pub fn sample_title(report: &Report, endpoint_label: &str) -> String {
    let sample = if let Some(m) = &report.matching {
        let pairs: usize = m
            .n_matched
            .get(&report.sample.treated_label)
            .copied()
            .unwrap_or(0);
        format!(
            "matched sample ({} caliper {} SD, {} treated matched)",
            m.caliper_scale, m.caliper, pairs
        )
    } else if let Some(w) = &report.weighting {
        format!("{} sample, n = {}", w.describe(), w.n)
    } else {
        "unadjusted sample".to_string()
    };
    let sub = if report.sample.subgroup.is_empty() {
        "all patients".to_string()
    } else {
        format!("subgroup: {}", report.sample.subgroup.join(", "))
    };
    format!("{endpoint_label} · {sample} · {sub}")
}

/// The reports to show, with their headings, for the current sample choice.
pub fn shown_reports<'a>(
    ctx: &ViewContext,
    reports: &'a Reports,
) -> Vec<Result<&'a Arc<Report>, &'a str>> {
    let un = reports.unmatched.as_ref().map_err(|e| e.as_str());
    let matched = reports
        .matched
        .as_ref()
        .map(|r| r.as_ref().map_err(|e| e.as_str()));
    match (matched, ctx.settings.sample_view) {
        (None, _) | (Some(_), SampleView::Unmatched) => vec![un],
        (Some(m), SampleView::Matched) => vec![m],
        (Some(m), SampleView::SideBySide) => vec![un, m],
    }
}

pub fn survival_ui(ui: &mut egui::Ui, ctx: &ViewContext, reports: &Reports) {
    let shown = shown_reports(ctx, reports);
    let n = shown.len();
    ui.columns(n, |cols| {
        for (col, r) in cols.iter_mut().zip(shown) {
            match r {
                Ok(report) => one_report_ui(col, ctx, report),
                Err(e) => {
                    col.colored_label(super::theme::IMBALANCE, e);
                    if e.contains("no column") || e.contains("no endpoint") {
                        col.label(
                            "“Columns…” (left, under Data) chooses which column plays each role.",
                        );
                    }
                }
            }
        }
    });
}

fn one_report_ui(ui: &mut egui::Ui, ctx: &ViewContext, report: &Arc<Report>) {
    let Some(ep) = report.endpoints.get(&ctx.settings.endpoint) else {
        ui.label("This endpoint is not in the file.");
        return;
    };
    let unit = report.sample.time_unit;
    ui.label(
        RichText::new(sample_title(report, &ep.label))
            .strong()
            .size(17.0),
    );
    if ctx.loaded.is_demo {
        ui.label(
            RichText::new(crate::DEMO_LABEL)
                .small()
                .color(super::theme::WARNING),
        );
    }
    legend_ui(ui, ep, unit);
    let checked = report.parts.checks.includes(&ctx.settings.endpoint);
    // The warning's room is kept while the checks are computed, so that the plot does not
    // jump when they come (a dragged caliper leaves them to the rest pass).
    let room = egui::Id::unique(("ph warning", report.sample.matched, &ctx.settings.endpoint));
    if checked {
        let top = ui.cursor().top();
        ph_warning_ui(ui, ep, unit);
        let height = ui.cursor().top() - top;
        ui.data_mut(|d| d.insert_temp(room, height));
    } else {
        ui.add_space(ui.data(|d| d.get_temp::<f32>(room)).unwrap_or(0.0));
    }
    let table = ctx.settings.spec.risk_table;
    let row_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    let table_h = row_h * (table_rows(ep, table) + 1.0) + 8.0;
    let axis_width = left_room(ui, ep, table);
    let plot_h = (ui.available_height() - table_h).max(200.0);
    let x_max = ep.last_time().max(1e-9);
    let step = time_step(x_max, unit == "months");
    let tick_values = ticks(x_max, step);
    let width = curve_width(ctx.presentation);
    let bins = (ui.available_width() as usize).clamp(200, 4000);
    let hover_report = Arc::clone(report);
    let endpoint = ctx.settings.endpoint.clone();
    let tick_for_grid = tick_values.clone();
    let plot = Plot::new(("km", report.sample.matched, &ctx.settings.endpoint))
        .height(plot_h)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_x(false)
        .show_y(false)
        .y_axis_min_width(axis_width)
        .default_x_bounds(0.0, x_max * 1.02)
        .default_y_bounds(0.0, 1.04)
        .x_axis_label(format!("Time since start of treatment ({unit})"))
        .y_axis_label(crate::format::survival_axis_title(&ep.label))
        .x_grid_spacer(move |_| {
            tick_for_grid
                .iter()
                .map(|&v| GridMark {
                    value: v,
                    step_size: step,
                })
                .collect()
        })
        .label_formatter(move |pos| hover_text(&hover_report, &endpoint, pos, unit));
    let resp = plot.show(ui, |pui| {
        for (k, (arm, a)) in ep.arms.iter().enumerate() {
            let Some(km) = &a.curve else { continue };
            let color = Palette::arm(k);
            let d = draw_curve(km, bins);
            if ctx.settings.show_ci {
                let (xs, lo, hi) = band(&d.time, &d.lower, &d.upper, &d.surv);
                if xs.len() >= 2 {
                    pui.add(
                        FilledArea::new(format!("{arm} CI"), &xs, &lo, &hi)
                            .fill_color(color.gamma_multiply(0.18))
                            .stroke(egui::Stroke::NONE)
                            .allow_hover(false),
                    );
                }
            }
            pui.add(
                Line::new(arm.clone(), step_points(&d.time, &d.surv, 1.0))
                    .color(color)
                    .width(width)
                    .allow_band(false),
            );
            let ticks_pts: Vec<[f64; 2]> = d
                .censor_time
                .iter()
                .zip(&d.censor_surv)
                .map(|(&t, &s)| [t, s])
                .collect();
            pui.add(
                Points::new(format!("{arm} censored"), ticks_pts)
                    .shape(MarkerShape::Plus)
                    .radius(if ctx.presentation { 5.0 } else { 3.5 })
                    .color(color)
                    .allow_hover(false),
            );
            if a.median.is_finite() {
                let dash = LineStyle::dashed_loose();
                pui.add(
                    Line::new(format!("{arm} median"), vec![[0.0, 0.5], [a.median, 0.5]])
                        .color(Color32::GRAY)
                        .style(dash)
                        .width(1.2)
                        .allow_hover(false),
                );
                pui.add(
                    Line::new(
                        format!("{arm} median v"),
                        vec![[a.median, 0.0], [a.median, 0.5]],
                    )
                    .color(color)
                    .style(dash)
                    .width(1.4)
                    .allow_hover(false),
                );
            }
        }
    });
    effect_box_ui(ui, ep, checked, &resp.transform);
    let columns = Columns {
        transform: &resp.transform,
        ticks: &tick_values,
        row_h,
        axis_width,
    };
    risk_table_ui(ui, ep, table, &columns);
}

/// Step-shaped band over the rows where both limits exist (R's NA limits are skipped; before
/// the first finite row the band starts at the curve itself).
fn band(
    time: &[f64],
    lower: &[f64],
    upper: &[f64],
    surv: &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut xs, mut lo, mut hi) = (vec![0.0], vec![1.0], vec![1.0]);
    let (mut pl, mut ph) = (1.0, 1.0);
    for i in 0..time.len() {
        let (l, h) = if lower[i].is_finite() && upper[i].is_finite() {
            (lower[i], upper[i])
        } else if surv[i] == 1.0 {
            (1.0, 1.0)
        } else {
            break;
        };
        xs.push(time[i]);
        lo.push(pl);
        hi.push(ph);
        xs.push(time[i]);
        lo.push(l);
        hi.push(h);
        pl = l;
        ph = h;
    }
    (xs, lo, hi)
}

/// The hazard-ratio line written on the plot.
pub fn hr_text(ep: &EndpointReport) -> String {
    let cox = &ep.cox;
    match &cox.not_estimable {
        Some(reason) => format!("HR not estimable: {reason}"),
        None => format!(
            "HR {} (95% CI {}–{}){}",
            num(cox.hr, 2),
            num(cox.ci[0], 2),
            num(cox.ci[1], 2),
            if cox.robust { ", robust SE" } else { "" }
        ),
    }
}

/// Appends "p = 6.7 × 10⁻⁶" with a raised exponent (the default fonts have no superscript
/// minus).
pub fn append_p(job: &mut egui::text::LayoutJob, prefix: &str, p: f64, size: f32, color: Color32) {
    let normal = egui::TextFormat {
        font_id: egui::FontId::proportional(size),
        color,
        ..Default::default()
    };
    let (base, exp) = p_value_parts(p);
    // An underflowed p reads "p < 10⁻³⁰⁰", not "p = < 10⁻³⁰⁰".
    let prefix = if p < 1e-300 {
        format!("{} ", prefix.trim_end().trim_end_matches('=').trim_end())
    } else {
        prefix.to_string()
    };
    job.append(&format!("{prefix}{base}"), 0.0, normal.clone());
    if let Some(e) = exp {
        job.append(
            &e,
            0.0,
            egui::TextFormat {
                font_id: egui::FontId::proportional(size * 0.7),
                valign: egui::Align::TOP,
                ..normal
            },
        );
    }
}

/// HR (95% CI) and log-rank p in a box at the plot's top right (a real label, so screen
/// readers and the UI tests see it); until the endpoint's checks have come (`checked`), a
/// line saying that the test of proportional hazards, whose warning shows under the legend,
/// is under way.
fn effect_box_ui(
    ui: &mut egui::Ui,
    ep: &EndpointReport,
    checked: bool,
    transform: &egui_plot::PlotTransform,
) {
    let frame = *transform.frame();
    let size = ui.text_style_height(&egui::TextStyle::Body) * 1.05;
    let color = ui.visuals().text_color();
    let mut job = egui::text::LayoutJob::default();
    job.append(
        &format!("{}\n", hr_text(ep)),
        0.0,
        egui::TextFormat {
            font_id: egui::FontId::proportional(size),
            color,
            ..Default::default()
        },
    );
    match &ep.logrank.not_available {
        Some(r) if ep.logrank.p_value.is_nan() => job.append(
            &format!("log-rank: {r}"),
            0.0,
            egui::TextFormat {
                font_id: egui::FontId::proportional(size * 0.85),
                color,
                ..Default::default()
            },
        ),
        _ => append_p(&mut job, "log-rank p = ", ep.logrank.p_value, size, color),
    }
    let e_value = ep.cox.e_value;
    if let Some(e) = e_value {
        job.append(
            &format!("\nE-value {} (CI {})", num(e.point, 2), num(e.ci_limit, 2)),
            0.0,
            egui::TextFormat {
                font_id: egui::FontId::proportional(size * 0.85),
                color,
                ..Default::default()
            },
        );
    }
    if !checked {
        job.append(
            &format!("\n{PH_PENDING}"),
            0.0,
            egui::TextFormat {
                font_id: egui::FontId::proportional(size * 0.85),
                color: ui.visuals().weak_text_color(),
                ..Default::default()
            },
        );
    }
    let galley = ui.painter().layout_job(job.clone());
    let pad = 6.0;
    let box_size = galley.size() + egui::vec2(2.0 * pad, 2.0 * pad);
    let rect = egui::Rect::from_min_size(
        egui::pos2(frame.right() - 10.0 - box_size.x, frame.top() + 10.0),
        box_size,
    );
    ui.painter().rect_filled(
        rect,
        4.0,
        ui.visuals().extreme_bg_color.gamma_multiply(0.92),
    );
    ui.painter().rect_stroke(
        rect,
        4.0,
        ui.visuals().widgets.noninteractive.bg_stroke,
        egui::StrokeKind::Inside,
    );
    // A child Ui that takes no room in the layout (the box floats over the plot).
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect.shrink(pad)));
    let label = child.add(egui::Label::new(job).selectable(false));
    if e_value.is_some() {
        label.on_hover_text(super::predictors_view::E_VALUE_HELP);
    }
}

/// When the test of proportional hazards rejects (p < 0.05), says so and gives the RMST
/// difference, which needs no such assumption.
fn ph_warning_ui(ui: &mut egui::Ui, ep: &EndpointReport, unit: &str) {
    let Some(ph) = &ep.cox.ph_test else {
        return;
    };
    if ph.global.p_value >= 0.05 {
        return;
    }
    let d = &ep.rmst_difference;
    ui.colored_label(
        super::theme::IMBALANCE,
        format!(
            "Hazards look non-proportional (cox.zph p = {}): one HR may misdescribe the effect over time. RMST difference to {} {unit}: {} (95% CI {} to {}) {unit}.",
            crate::format::p_value(ph.global.p_value),
            num(d.horizon, 1),
            num(d.value, 2),
            num(d.ci[0], 2),
            num(d.ci[1], 2)
        ),
    )
    .on_hover_text("Grambsch–Therneau test of the scaled Schoenfeld residuals (R's cox.zph); the Predictors view plots them. The restricted mean survival time difference compares the areas under the curves up to the horizon.");
}

fn legend_ui(ui: &mut egui::Ui, ep: &EndpointReport, unit: &str) {
    for (k, (arm, a)) in ep.arms.iter().enumerate() {
        ui.horizontal(|ui| {
            let (r, _) = ui.allocate_exact_size(egui::vec2(26.0, 12.0), egui::Sense::hover());
            ui.painter().line_segment(
                [r.left_center(), r.right_center()],
                egui::Stroke::new(3.0, Palette::arm(k)),
            );
            ui.label(RichText::new(arm).strong());
            ui.label(format!("n = {}, events {}", num(a.n, 0), num(a.events, 0)))
                .on_hover_text(
                    "Patients analysed and events (progression or death for PFS; death for OS)",
                );
            ui.label(format!(
                "median {} {unit}",
                est_ci(a.median, a.median_ci[0], a.median_ci[1], 1)
            ))
            .on_hover_text(
                "Kaplan–Meier median with its Brookmeyer–Crowley 95% CI (NR = not reached)",
            );
        });
    }
}

fn hover_text(
    report: &Report,
    endpoint: &str,
    pos: &HoverPosition<'_>,
    unit: &str,
) -> Option<String> {
    let HoverPosition::NearDataPoint {
        plot_name,
        position,
        ..
    } = pos
    else {
        return None;
    };
    let ep = report.endpoints.get(endpoint)?;
    let arm = ep.arms.get(plot_name)?;
    let km = arm.curve.as_ref()?;
    let at = km.at(position.x);
    Some(format!(
        "{plot_name}\nt = {:.1} {unit}\nS(t) = {:.3}\nat risk: {}",
        position.x,
        at.surv,
        num(at.n_risk, 0)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze_parts, Parts};
    use egui_kittest::{kittest::Queryable, Harness};

    /// Until the endpoint's checks have come (the window's second pass), the effect box says
    /// that the test of proportional hazards is under way, beside the HR; then it does not.
    #[test]
    fn the_ph_test_says_it_is_under_way_until_it_comes() {
        let app = super::super::App::with_settings(super::super::Settings::default());
        let (loaded, settings) = (&app.loaded, &app.settings);
        let (unmatched_spec, matched_spec) = settings.analysed_specs();
        let matched_spec = matched_spec.expect("the demo matches");
        let analysed = |spec: &crate::analysis::Spec, parts: &Parts| {
            Arc::new(analyze_parts(&loaded.cohort, spec, &app.cache, parts, &|| false).unwrap())
        };
        for (parts, pending) in [
            (Parts::endpoint(&settings.endpoint), true),
            (Parts::all(), false),
        ] {
            let matched = analysed(&matched_spec, &parts);
            let reports = Reports {
                unmatched: Ok(analysed(&unmatched_spec, &parts)),
                unmatched_spec: unmatched_spec.clone(),
                matched: Some(Ok(Arc::clone(&matched))),
                matched_spec: Some(matched_spec.clone()),
            };
            let mut h = Harness::builder()
                .with_size([1200.0, 800.0])
                .build_ui(|ui| {
                    let ctx = ViewContext {
                        settings,
                        loaded,
                        presentation: false,
                    };
                    survival_ui(ui, &ctx, &reports);
                });
            h.run();
            let ep = matched.endpoints.get(&settings.endpoint).unwrap();
            assert!(h.query_by_label_contains(&hr_text(ep)).is_some());
            assert_eq!(
                h.query_by_label_contains(PH_PENDING).is_some(),
                pending,
                "{parts:?}"
            );
        }
    }

    /// Crossing hazards (the test of proportional hazards rejects): while the checks are
    /// computed the warning's room is kept, so the plot stays where it was; the warning
    /// comes back with them.
    #[test]
    fn the_plot_keeps_its_place_while_the_checks_are_computed() {
        let mut csv = String::from("arm,os_months,os_event\n");
        for i in 0..160 {
            let (treated, u) = (i % 2 == 0, f64::from(i / 2) / 80.0);
            let t = if treated {
                0.5 + 24.0 * u * u
            } else {
                5.0 + 5.0 * u
            };
            let arm = if treated { "lenvatinib" } else { "sorafenib" };
            csv += &format!("{arm},{t:.2},1\n");
        }
        let cohort = crate::cohort::read_csv_bytes("crossing.csv", csv.into_bytes()).unwrap();
        let app = super::super::App::with_settings(super::super::Settings::default());
        let settings = super::super::Settings {
            matching_on: false,
            endpoint: "os".to_string(),
            ..super::super::Settings::default()
        };
        let spec = settings.analysed_specs().0;
        let cache = crate::analysis::AnalysisCache::default();
        let reports = |parts: &Parts| Reports {
            unmatched: Ok(Arc::new(
                analyze_parts(&cohort, &spec, &cache, parts, &|| false).unwrap(),
            )),
            unmatched_spec: spec.clone(),
            matched: None,
            matched_spec: None,
        };
        let full = reports(&Parts::all());
        let ep = full
            .unmatched
            .as_ref()
            .unwrap()
            .endpoints
            .get("os")
            .unwrap();
        assert!(ep.cox.ph_test.as_ref().unwrap().global.p_value < 0.05);
        let hr = hr_text(ep);
        let mut h = Harness::builder()
            .with_size([1200.0, 800.0])
            .build_ui_state(
                |ui, shown: &mut Reports| {
                    let ctx = ViewContext {
                        settings: &settings,
                        loaded: &app.loaded,
                        presentation: false,
                    };
                    survival_ui(ui, &ctx, shown);
                },
                full.clone(),
            );
        let warning = "Hazards look non-proportional";
        let mut tops = Vec::new();
        for (shown, pending) in [(&full, false), (&reports(&Parts::endpoint("os")), true)]
            .into_iter()
            .chain([(&full, false)])
        {
            *h.state_mut() = shown.clone();
            h.run();
            assert_eq!(h.query_by_label_contains(PH_PENDING).is_some(), pending);
            assert_eq!(h.query_by_label_contains(warning).is_some(), !pending);
            tops.push(h.get_by_label_contains(&hr).rect().top());
        }
        assert!(
            tops.iter().all(|&t| t == tops[0]),
            "the plot moved: {tops:?}"
        );
    }
}
