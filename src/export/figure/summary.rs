//! The sensitivity summary figure: the arm's HR (95% CI) unadjusted, matched, IPTW-weighted
//! and multivariable, one row each with its numbers, on a log axis.

use super::*;

pub fn draw_summary<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &Report,
    endpoint: &str,
    scale: Scale,
    demo: bool,
) -> DResult {
    ensure_font();
    root.fill(&WHITE).map_err(err)?;
    let f = scale.font;
    let ep = endpoint_of(report, endpoint)?;
    let rows = ep
        .sensitivity
        .as_ref()
        .ok_or("the report has no sensitivity summary (analyze with --sensitivity)")?;
    let chart_area = page_with_note(
        root,
        &format!(
            "{}: hazard ratio of {} vs {} by adjustment",
            ep.label, report.sample.treated_label, report.sample.control_label
        ),
        "The same cohort, subgroup and endpoint, four ways. Matched and weighted SEs as in the main analysis (robust where weighted).",
        report,
        scale,
        demo,
    )?;
    let ok: Vec<_> = rows
        .iter()
        .filter(|r| r.hr.is_finite() && r.ci[0] > 0.0 && r.ci[1].is_finite())
        .collect();
    let n = ok.len().max(1) as f64;
    let lo = ok.iter().map(|r| r.ci[0]).fold(1.0f64, f64::min);
    let hi = ok.iter().map(|r| r.ci[1]).fold(1.0f64, f64::max);
    let (x0, x1) = (lo.max(1e-3).ln() - 0.15, hi.min(1e3).ln() + 0.15);
    let labels: Vec<String> = ok
        .iter()
        .map(|r| {
            format!(
                "{} (n {}): {} ({}–{}), p {}",
                r.label,
                r.n,
                nr(r.hr, 2),
                nr(r.ci[0], 2),
                nr(r.ci[1], 2),
                p_text(r.p_value)
            )
        })
        .collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(20) as f64;
    let mut chart = ChartBuilder::on(&chart_area)
        .margin((f * 0.8) as u32)
        .x_label_area_size((f * 2.6) as u32)
        .y_label_area_size((f * 0.42 * longest) as u32)
        .build_cartesian_2d(x0..x1, 0.5..n + 0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_labels(0)
        .y_labels(labels.len())
        .y_label_formatter(&|v| {
            let i = (n - v).round() as usize;
            labels.get(i).cloned().unwrap_or_default()
        })
        .x_desc("hazard ratio (log scale)")
        .label_style(scale.text(0.85))
        .axis_desc_style(scale.text(1.0))
        .draw()
        .map_err(err)?;
    for t in [0.1f64, 0.25, 0.5, 1.0, 2.0, 4.0] {
        if t.ln() >= x0 && t.ln() <= x1 {
            text_at(
                &chart_area,
                format!("{t}"),
                chart.backend_coord(&(t.ln(), 0.5)),
                (f * 0.4) as i32,
                scale.text(0.9).pos(Pos::new(HPos::Center, VPos::Top)),
            )?;
        }
    }
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.0, 0.5), (0.0, n + 0.5)],
            (f * 0.5) as u32,
            (f * 0.35) as u32,
            GREY.stroke_width(scale.line),
        ))
        .map_err(err)?;
    for (i, r) in ok.iter().enumerate() {
        let y = n - i as f64;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(r.ci[0].ln().max(x0), y), (r.ci[1].ln().min(x1), y)],
                TREATED.stroke_width(scale.line + 1),
            )))
            .map_err(err)?;
        let s = (f * 0.35) as i32;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((r.hr.ln(), y))
                    + Rectangle::new([(-s, -s), (s, s)], TREATED.filled()),
            ))
            .map_err(err)?;
    }
    root.present().map_err(err)
}
