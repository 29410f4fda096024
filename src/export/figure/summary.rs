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
    let mut chart = super::forest::hr_forest_chart(
        &chart_area,
        &super::forest::HrForest {
            labels: &labels,
            x: (x0, x1),
            ticks: &[0.1, 0.25, 0.5, 1.0, 2.0, 4.0],
            x_desc: "hazard ratio (log scale)",
            label_width: 0.42,
            text: [0.85, 1.0, 0.9],
        },
        scale,
    )?;
    for (i, r) in ok.iter().enumerate() {
        super::forest::hr_row(&mut chart, n - i as f64, r.hr, r.ci, TREATED, scale)?;
    }
    root.present().map_err(err)
}
