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
    let (header, chart_area) = root.split_vertically((f * 3.8) as u32);
    let title = love.title;
    // For the unmatched figure `report` is the unmatched analysis: its sample line says so.
    draw_header(&header, title, &sample_line(report), scale, demo)?;
    let max_x = rows
        .iter()
        .flat_map(|b| [b.smd_before.abs(), b.smd_after.abs()])
        .filter(|v| v.is_finite())
        .fold(0.25f64, f64::max)
        * 1.1;
    let names: Vec<String> = rows.iter().map(|b| b.covariate.clone()).collect();
    let mut chart = ChartBuilder::on(&chart_area)
        .margin((f * 0.8) as u32)
        .x_label_area_size((f * 2.6) as u32)
        .y_label_area_size((f * 11.0) as u32)
        .build_cartesian_2d(0.0..max_x, 0.5..n + 0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .y_labels(rows.len())
        .y_label_formatter(&|v| {
            let i = (n - v).round() as usize;
            names.get(i).cloned().unwrap_or_default()
        })
        .x_desc(love.axis)
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
    let legend = love.legend;
    text_at(
        &chart_area,
        legend.to_string(),
        chart.backend_coord(&(max_x, n + 0.45)),
        0,
        scale.text(0.85).pos(Pos::new(HPos::Right, VPos::Top)),
    )?;
    root.present().map_err(err)
}
