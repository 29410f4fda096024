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
    ensure_font();
    root.fill(&WHITE).map_err(err)?;
    let f = scale.font;
    let rows: Vec<_> = matching
        .balance
        .iter()
        .filter(|b| b.covariate != "distance")
        .collect();
    let n = rows.len().max(1) as f64;
    let (header, chart_area) = root.split_vertically((f * 3.8) as u32);
    let title = if after {
        "Covariate balance before and after matching"
    } else {
        "Covariate balance (unmatched)"
    };
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
        .x_desc("|standardized mean difference| (MatchIt definition)")
        .label_style(scale.text(0.9))
        .axis_desc_style(scale.text(1.0))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.1, 0.5), (0.1, n + 0.5)],
            (f * 0.5) as u32,
            (f * 0.35) as u32,
            CONTROL.stroke_width(scale.line),
        ))
        .map_err(err)?;
    let r = f * 0.4;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, b)| {
            Circle::new(
                (b.smd_before.abs(), n - i as f64),
                r as u32,
                ORANGE.stroke_width(scale.line),
            )
        }))
        .map_err(err)?;
    if after {
        chart
            .draw_series(rows.iter().enumerate().map(|(i, b)| {
                Circle::new(
                    (b.smd_after.abs(), n - i as f64),
                    r as u32,
                    TREATED.filled(),
                )
            }))
            .map_err(err)?;
    }
    let legend = if after {
        "open: before matching · filled: after matching · dashed: 0.1"
    } else {
        "open: unmatched · dashed: 0.1"
    };
    text_at(
        &chart_area,
        legend.to_string(),
        chart.backend_coord(&(max_x, n + 0.45)),
        0,
        scale.text(0.85).pos(Pos::new(HPos::Right, VPos::Top)),
    )?;
    root.present().map_err(err)
}
