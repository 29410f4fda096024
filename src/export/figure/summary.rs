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
    let (title, note) = summary_texts(report, ep, rows);
    let chart_area = page_with_note(root, &title, &note, report, scale, demo)?;
    // A journal column has no room for the p column (report.md and the JSON have p).
    let with_p = !super::narrow(root.dim_in_pixel().0, scale);
    let table = super::forest::HrTable {
        rows: rows
            .iter()
            .map(|r| {
                // "multivariable Cox (afp_ge_400, …)": the details go to the note.
                super::forest::HrRow::estimate(
                    short_label(&r.label).to_string(),
                    false,
                    (r.hr, r.ci),
                    TREATED,
                    [
                        nr(r.n as f64, 0),
                        super::forest::hr_text(r.hr, r.ci, None),
                        p_text(r.p_value),
                    ][..if with_p { 3 } else { 2 }]
                        .to_vec(),
                )
            })
            .collect(),
        columns: ["Analysis", "n", "HR (95% CI)", "p"][..if with_p { 4 } else { 3 }]
            .iter()
            .map(|c| c.to_string())
            .collect(),
        ticks: super::forest::HR_TICKS,
        x_desc: "hazard ratio (log scale)".to_string(),
        favours: Some((
            report.sample.treated_label.clone(),
            report.sample.control_label.clone(),
        )),
    };
    super::forest::draw_hr_table(&chart_area, &table, scale)?;
    root.present().map_err(err)
}

/// A row's label without its parenthesised details.
fn short_label(label: &str) -> &str {
    label.split(" (").next().unwrap_or(label)
}

/// The summary's title and note (the rows' details).
pub(super) fn summary_texts(
    report: &Report,
    ep: &EndpointReport,
    rows: &[crate::analysis::SensitivityRow],
) -> (String, String) {
    (
        format!(
            "{}: hazard ratio of {} vs {} by adjustment",
            ep.label, report.sample.treated_label, report.sample.control_label
        ),
        format!(
            "The same cohort, subgroup and endpoint, four ways{}. Matched and weighted SEs as in the main analysis (robust where weighted).",
            rows.iter()
                .filter(|r| short_label(&r.label) != r.label)
                .map(|r| format!("; {}", r.label))
                .collect::<String>()
        ),
    )
}
