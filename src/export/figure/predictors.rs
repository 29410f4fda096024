//! The Predictors figure: the adjusted hazard ratios of the multivariable Cox model as a
//! forest plot (each row: term, HR (95% CI), p), and beside it the arm's scaled Schoenfeld
//! residuals with R's smooth (`plot(cox.zph(fit))`) and the PH test.

use super::*;
use crate::analysis::{CoxAdjustedReport, PhResiduals};

/// A term as the figure names it: the arm by the treated arm's name (the note says "vs"),
/// a covariate by its readable name ("AFP ≥ 400 ng/mL", "Response to prior A+B: PD").
fn term_name(report: &Report, model: &CoxAdjustedReport, term: &str) -> String {
    if model.terms.first().is_some_and(|t| t.term == term) {
        return report.sample.treated_label.clone();
    }
    // "albi_grade:factor" names the column albi_grade.
    let columns: Vec<String> = model
        .covariates
        .iter()
        .map(|c| c.split(':').next().unwrap_or(c).to_string())
        .collect();
    crate::format::term_label(term, &columns)
}

pub fn draw_predictors<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &Report,
    endpoint: &str,
    scale: Scale,
    demo: bool,
) -> DResult {
    ensure_font();
    root.fill(&WHITE).map_err(err)?;
    let ep = endpoint_of(report, endpoint)?;
    let model = ep
        .cox_adjusted
        .as_ref()
        .ok_or("the report has no multivariable model (analyze with --adjust)")?;
    if let Some(why) = &model.not_estimable {
        return Err(format!("the multivariable model is not estimable: {why}"));
    }
    let (title, note) = predictors_texts(report, ep, model);
    let area = page_with_note(root, &title, &note, report, scale, demo)?;
    let (w, h) = area.dim_in_pixel();
    // Side by side on slides; one above the other when the page is narrow (a journal column):
    // the table as tall as its rows, the residual plot below.
    let (left, right) = if narrow(w, scale) {
        let table_h = super::forest::hr_table_height(model.terms.len(), scale);
        area.split_vertically(table_h.min(h / 2).max(h.saturating_sub(residual_height(w))))
    } else {
        area.split_horizontally((w as f64 * 0.58) as u32)
    };
    draw_adjusted_forest(&left, report, model, scale)?;
    if let Some(r) = &model.arm_residuals {
        let p = model.ph_test.as_ref().map(|p| p.terms[0].p_value);
        draw_schoenfeld(&right, r, p, scale)?;
    }
    root.present().map_err(err)
}

/// The least height of the residual plot on a page `width_px` wide.
pub(super) fn residual_height(width_px: u32) -> u32 {
    (width_px as f64 * 0.6) as u32
}

fn draw_adjusted_forest<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &Report,
    model: &CoxAdjustedReport,
    scale: Scale,
) -> DResult {
    let table = super::forest::HrTable {
        rows: model
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                super::forest::HrRow::estimate(
                    term_name(report, model, &t.term),
                    false,
                    (t.hr, t.ci),
                    if i == 0 { TREATED } else { BLACK },
                    vec![super::forest::hr_text(t.hr, t.ci, None), p_text(t.p_value)],
                )
            })
            .collect(),
        columns: vec![
            "Term".to_string(),
            "HR (95% CI)".to_string(),
            "p".to_string(),
        ],
        ticks: super::forest::HR_TICKS,
        x_desc: "adjusted hazard ratio (log scale)".to_string(),
        favours: None,
    };
    super::forest::draw_hr_table(area, &table, scale)
}

fn draw_schoenfeld<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &PhResiduals,
    p: Option<f64>,
    scale: Scale,
) -> DResult {
    let f = scale.font;
    let all = r.beta_t.iter().chain(&r.lower).chain(&r.upper);
    let (mut y0, mut y1) = all.fold((r.coef, r.coef), |(a, b), &v| (a.min(v), b.max(v)));
    let pad = (y1 - y0).max(1e-6) * 0.05;
    y0 -= pad;
    y1 += pad;
    let caption = match p {
        Some(p) => format!("β(t) of {}: PH test p {}", r.term, p_text(p)),
        None => format!("β(t) of {}", r.term),
    };
    let mut chart = ChartBuilder::on(area)
        .margin((f * 0.8) as u32)
        .caption(caption, scale.text(0.95))
        .x_label_area_size((f * 2.6) as u32)
        .y_label_area_size((f * 3.2) as u32)
        .build_cartesian_2d(0.0..1.0, y0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .axis_style(BLACK.stroke_width(scale.hair))
        .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD).stroke_width(scale.hair))
        .light_line_style(WHITE.stroke_width(scale.hair))
        .x_desc("time, Kaplan–Meier scale (1 − KM)")
        .y_desc("scaled Schoenfeld residual")
        .label_style(scale.text(0.8))
        .axis_desc_style(scale.text(0.9))
        .draw()
        .map_err(err)?;
    let dot = (f * 0.12).max(1.5) as i32;
    chart
        .draw_series(
            r.x.iter()
                .zip(&r.beta_t)
                .map(|(&x, &y)| Circle::new((x, y), dot, RGBColor(150, 150, 150).filled())),
        )
        .map_err(err)?;
    let line = |v: &[f64]| -> Vec<(f64, f64)> {
        r.smooth_x.iter().copied().zip(v.iter().copied()).collect()
    };
    chart
        .draw_series(LineSeries::new(
            line(&r.smooth),
            TREATED.stroke_width(scale.line + 1),
        ))
        .map_err(err)?;
    for band in [&r.lower, &r.upper] {
        chart
            .draw_series(DashedLineSeries::new(
                line(band),
                (f * 0.4) as u32,
                (f * 0.3) as u32,
                TREATED.stroke_width(scale.line),
            ))
            .map_err(err)?;
    }
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.0, r.coef), (1.0, r.coef)],
            (f * 0.5) as u32,
            (f * 0.35) as u32,
            GREY.stroke_width(scale.line),
        ))
        .map_err(err)?;
    Ok(())
}

/// The figure's title and note (the model: ties, n, events, exclusions, LR test, concordance).
pub(super) fn predictors_texts(
    report: &Report,
    ep: &EndpointReport,
    model: &CoxAdjustedReport,
) -> (String, String) {
    let lr = model.tests.as_ref().map_or(String::new(), |t| {
        format!(
            "; LR test χ² {} on {} df, p {}",
            nr(t.likelihood_ratio.chi_square, 1),
            t.likelihood_ratio.df,
            p_text(t.likelihood_ratio.p_value)
        )
    });
    let c = model.concordance.as_ref().map_or(String::new(), |c| {
        format!("; concordance {}", nr(c.value, 3))
    });
    let note = format!(
        "Cox model of {} vs {} ({} ties{}), n = {}, events = {}, {} excluded for a missing covariate{lr}{c}.",
        report.sample.treated_label,
        report.sample.control_label,
        model.ties,
        if model.robust { ", robust SE" } else { "" },
        model.n,
        model.events,
        model.n_excluded
    );
    (format!("{}: multivariable Cox model", ep.label), note)
}
