//! The love plot: each covariate's SMD before and after matching, the 0.1 threshold marked.

use super::*;

/// Love plot: |SMD| before (open) and after (filled) matching per covariate, 0.1 marked.
pub fn draw_love<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &Report,
    matching: &MatchingReport,
    after: bool,
    scale: Scale,
    demo: bool,
) -> DResult {
    let rows: Vec<Smd> = matching
        .balance
        .iter()
        .filter(|b| b.covariate != "distance")
        .map(|b| Smd {
            covariate: b.covariate.clone(),
            smd_before: b.smd_before,
            smd_after: b.smd_after,
        })
        .collect();
    let love = Love {
        title: if after {
            "Covariate balance before and after matching"
        } else {
            "Covariate balance (unmatched)"
        },
        axis: "|standardized mean difference| (MatchIt definition)",
        legend: if after {
            "open: before matching · filled: after matching · dashed: 0.1"
        } else {
            "open: unmatched · dashed: 0.1"
        },
        after,
    };
    draw_love_rows(root, report, &rows, &love, scale, demo)
}

/// One covariate's SMDs.
pub struct Smd {
    pub covariate: String,
    pub smd_before: f64,
    pub smd_after: f64,
}

/// The love plot's texts, and whether it draws the after-adjustment points.
pub struct Love {
    pub title: &'static str,
    pub axis: &'static str,
    pub legend: &'static str,
    pub after: bool,
}

/// Love plot of `rows`: |SMD| before (open) and after (filled), 0.1 marked.
pub fn draw_love_rows<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &Report,
    rows: &[Smd],
    love: &Love,
    scale: Scale,
    demo: bool,
) -> DResult {
    ensure_font();
    root.fill(&WHITE).map_err(err)?;
    let f = scale.font;
    let after = love.after;
    let n = rows.len().max(1) as f64;
    // For the unmatched figure `report` is the unmatched analysis: its sample line says so.
    let chart_area = under_header(root, love.title, report, scale, demo)?;
    let max_x = rows
        .iter()
        .flat_map(|b| [b.smd_before.abs(), b.smd_after.abs()])
        .filter(|v| v.is_finite())
        .fold(0.25f64, f64::max)
        * 1.1;
    // The legend (and what the axis' SD is) as wrapped lines over the chart.
    let (axis, detail) = match love.axis.split_once(" (") {
        Some((a, d)) => (a, format!(" · SD: {}", d.trim_end_matches(')'))),
        None => (love.axis, String::new()),
    };
    let (lines, style, step) = paragraph(
        &chart_area,
        &format!("{}{detail}", love.legend),
        0.85,
        &GREY,
        scale,
    )?;
    let below = draw_lines(
        &chart_area,
        &lines,
        (f as i32, (f * 0.2) as i32),
        step,
        &style,
    )?;
    let (_, chart_area) = chart_area.split_vertically(below as u32);
    let covariates: &[String] = match (&report.matching, &report.weighting) {
        (Some(m), _) => &m.covariates,
        (None, Some(w)) => &w.covariates,
        _ => &[],
    };
    // The names' column: as wide as the widest name, at most 45% of the page (longer names
    // are cut with "…").
    let label_style = scale.text(0.9);
    let cap = (chart_area.dim_in_pixel().0 as f64 * 0.45) as u32;
    let mut names = Vec::with_capacity(rows.len());
    let mut label_w = 0u32;
    for b in rows {
        let name = fit_text(
            &chart_area,
            &crate::format::term_label(&b.covariate, covariates),
            &label_style,
            cap,
        )?;
        label_w = label_w.max(
            chart_area
                .estimate_text_size(&name, &label_style)
                .map_err(err)?
                .0,
        );
        names.push(name);
    }
    let mut chart = ChartBuilder::on(&chart_area)
        .margin((f * 0.8) as u32)
        .x_label_area_size((f * 2.6) as u32)
        .y_label_area_size(label_w + (f * 1.2) as u32)
        .build_cartesian_2d(0.0..max_x, 0.5..n + 0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .axis_style(BLACK.stroke_width(scale.hair))
        .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD).stroke_width(scale.hair))
        .light_line_style(WHITE.stroke_width(scale.hair))
        .y_labels(rows.len())
        .y_label_formatter(&|v| {
            let i = (n - v).round() as usize;
            names.get(i).cloned().unwrap_or_default()
        })
        .x_desc(axis)
        .label_style(scale.text(0.9))
        .axis_desc_style(scale.text(1.0))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.1, 0.5), (0.1, n + 0.5)],
            (f * 0.5) as u32,
            (f * 0.35) as u32,
            BLACK.stroke_width(scale.line),
        ))
        .map_err(err)?;
    let r = f * 0.4;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, b)| {
            Circle::new(
                (b.smd_before.abs(), n - i as f64),
                r as u32,
                // Grey and black: on the same page blue and orange mean the arms.
                GREY.stroke_width(scale.line),
            )
        }))
        .map_err(err)?;
    if after {
        chart
            .draw_series(rows.iter().enumerate().map(|(i, b)| {
                Circle::new((b.smd_after.abs(), n - i as f64), r as u32, BLACK.filled())
            }))
            .map_err(err)?;
    }
    root.present().map_err(err)
}
