//! The caliper sensitivity figure: HR with its CI band and matched treated patients over
//! the caliper, the current caliper marked.

use plotters::coord::types::RangedCoordf64;

use super::*;

/// Caliper sensitivity: the hazard ratio (95% CI band, log scale) and the number of matched
/// treated patients against the caliper (log scale), the current caliper marked, HR = 1 dashed.
pub fn draw_sweep<DB: DrawingBackend>(
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
    let points = ep
        .caliper_sweep
        .as_ref()
        .ok_or("the report has no caliper sweep (analyze with --caliper-sweep)")?;
    let current = report
        .matching
        .as_ref()
        .map(|m| m.caliper)
        .ok_or("the caliper sweep needs a matched analysis")?;
    let usable: Vec<_> = points
        .iter()
        .filter(|p| p.caliper > 0.0 && p.hr.is_finite() && p.ci[0] > 0.0 && p.ci[1].is_finite())
        .collect();
    if usable.is_empty() {
        return Err("no caliper gave an estimable hazard ratio".to_string());
    }
    let charts = page_with_note(
        root,
        &format!("{}: hazard ratio by caliper", ep.label),
        "Each point re-runs the matching and the Cox model with one propensity model; the dashed orange line is the analysis shown.",
        report,
        scale,
        demo,
    )?;
    let (_, ch) = charts.dim_in_pixel();
    let (top, bottom) = charts.split_vertically((ch as f64 * 0.6) as u32);
    let lx = |c: f64| c.log10();
    let x_lo = lx(points
        .iter()
        .map(|p| p.caliper)
        .fold(f64::INFINITY, f64::min))
        - 0.05;
    let x_hi = lx(points.iter().map(|p| p.caliper).fold(0.0, f64::max)) + 0.05;
    let y_lo = usable.iter().map(|p| p.ci[0]).fold(1.0f64, f64::min).ln() - 0.1;
    let y_hi = usable.iter().map(|p| p.ci[1]).fold(1.0f64, f64::max).ln() + 0.1;
    let y_label_area = (f * 4.5) as u32;
    let caliper_ticks: Vec<f64> = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
        .into_iter()
        .filter(|c| lx(*c) >= x_lo && lx(*c) <= x_hi)
        .collect();
    // Top: HR and its CI band.
    let mut hr_chart = ChartBuilder::on(&top)
        .margin((f * 0.8) as u32)
        .x_label_area_size((f * 0.6) as u32)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
        .map_err(err)?;
    hr_chart
        .configure_mesh()
        .axis_style(BLACK.stroke_width(scale.hair))
        .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD).stroke_width(scale.hair))
        .disable_x_mesh()
        .disable_y_mesh()
        .x_labels(0)
        .y_labels(0)
        .y_desc("hazard ratio (log scale)")
        .label_style(scale.text(0.85))
        .axis_desc_style(scale.text(1.0))
        .draw()
        .map_err(err)?;
    draw_hr_grid(&top, &mut hr_chart, (x_lo, x_hi), (y_lo, y_hi), scale)?;
    let mut band: Vec<(f64, f64)> = usable
        .iter()
        .map(|p| (lx(p.caliper), p.ci[1].ln()))
        .collect();
    band.extend(usable.iter().rev().map(|p| (lx(p.caliper), p.ci[0].ln())));
    hr_chart
        .draw_series(std::iter::once(Polygon::new(
            band,
            TREATED.mix(0.18).filled(),
        )))
        .map_err(err)?;
    hr_chart
        .draw_series(LineSeries::new(
            usable.iter().map(|p| (lx(p.caliper), p.hr.ln())),
            TREATED.stroke_width(scale.line + 1),
        ))
        .map_err(err)?;
    hr_chart
        .draw_series(DashedLineSeries::new(
            vec![(x_lo, 0.0), (x_hi, 0.0)],
            (f * 0.5) as u32,
            (f * 0.35) as u32,
            GREY.stroke_width(scale.line),
        ))
        .map_err(err)?;
    mark_caliper(&mut hr_chart, lx(current), y_lo, y_hi, scale)?;
    if let Some(p) = points
        .iter()
        .find(|p| (p.caliper - current).abs() <= 1e-12 * current)
    {
        // At the foot of the panel: the top has the line at HR = 1 and its tick.
        let at = hr_chart.backend_coord(&(lx(current), y_lo));
        let span = (
            hr_chart.backend_coord(&(x_lo, y_lo)).0,
            hr_chart.backend_coord(&(x_hi, y_lo)).0,
        );
        label_current(&top, p, current, at, span, scale)?;
    }
    // Bottom: matched treated patients.
    draw_counts(
        &bottom,
        points,
        (x_lo, x_hi),
        &caliper_ticks,
        lx(current),
        y_label_area,
        scale,
    )?;
    root.present().map_err(err)
}

/// The current caliper (at `x`, log scale) as a dashed orange line from `y0` to `y1`.
fn mark_caliper<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    x: f64,
    y0: f64,
    y1: f64,
    scale: Scale,
) -> DResult {
    let f = scale.font;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(x, y0), (x, y1)],
            (f * 0.4) as u32,
            (f * 0.3) as u32,
            ORANGE.stroke_width(scale.line),
        ))
        .map_err(err)?;
    Ok(())
}

/// The bottom panel: matched treated patients against the caliper, the caliper ticks under it.
fn draw_counts<DB: DrawingBackend>(
    bottom: &DrawingArea<DB, Shift>,
    points: &[crate::analysis::explore::SweepPoint],
    (x_lo, x_hi): (f64, f64),
    caliper_ticks: &[f64],
    x_current: f64,
    y_label_area: u32,
    scale: Scale,
) -> DResult {
    let f = scale.font;
    let lx = |c: f64| c.log10();
    let max_pairs = points.iter().map(|p| p.n_pairs).max().unwrap_or(1).max(1) as f64;
    let mut n_chart = ChartBuilder::on(bottom)
        .margin((f * 0.8) as u32)
        .x_label_area_size((f * 2.8) as u32)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(x_lo..x_hi, 0.0..max_pairs * 1.08)
        .map_err(err)?;
    n_chart
        .configure_mesh()
        .axis_style(BLACK.stroke_width(scale.hair))
        .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD).stroke_width(scale.hair))
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(3)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc("n matched")
        .x_desc("caliper (SD of the distance, log scale)")
        .label_style(scale.text(0.85))
        .axis_desc_style(scale.text(1.0))
        .light_line_style(RGBColor(0xEE, 0xEE, 0xEE).stroke_width(scale.hair))
        .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD).stroke_width(scale.hair))
        .draw()
        .map_err(err)?;
    n_chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (lx(p.caliper), p.n_pairs as f64)),
            GREY.stroke_width(scale.line + 1),
        ))
        .map_err(err)?;
    mark_caliper(&mut n_chart, x_current, 0.0, max_pairs * 1.08, scale)?;
    for t in caliper_ticks {
        text_at(
            bottom,
            format!("{t}"),
            n_chart.backend_coord(&(lx(*t), 0.0)),
            (f * 0.4) as i32,
            scale.text(0.9).pos(Pos::new(HPos::Center, VPos::Top)),
        )?;
    }
    Ok(())
}

/// Hazard-ratio ticks at round values (0.1 … 10) inside the range, with light grid lines.
fn draw_hr_grid<DB: DrawingBackend>(
    top: &DrawingArea<DB, Shift>,
    hr_chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    (x_lo, x_hi): (f64, f64),
    (y_lo, y_hi): (f64, f64),
    scale: Scale,
) -> DResult {
    let f = scale.font;
    for t in [
        0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0,
    ] {
        let y = f64::ln(t);
        if y < y_lo || y > y_hi {
            continue;
        }
        hr_chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x_lo, y), (x_hi, y)],
                RGBColor(0xE4, 0xE4, 0xE4).stroke_width(scale.hair),
            )))
            .map_err(err)?;
        text_at(
            top,
            format!("{t}"),
            {
                let (x, y) = hr_chart.backend_coord(&(x_lo, y));
                (x - (f * 0.4) as i32, y)
            },
            0,
            scale.text(0.85).pos(Pos::new(HPos::Right, VPos::Center)),
        )?;
    }
    Ok(())
}

/// The current caliper's HR (95% CI), in orange beside its mark at `(x, y)`: right of it, or
/// left, whichever stays inside the plot's `span` of pixels ("HR …" alone when neither does).
fn label_current<DB: DrawingBackend>(
    top: &DrawingArea<DB, Shift>,
    p: &crate::analysis::explore::SweepPoint,
    current: f64,
    (x, y): (i32, i32),
    (left, right): (i32, i32),
    scale: Scale,
) -> DResult {
    let f = scale.font;
    let hr = format!("HR {} ({}–{})", nr(p.hr, 2), nr(p.ci[0], 2), nr(p.ci[1], 2));
    let full = format!("caliper {current} SD: {hr}");
    let style = scale.text(0.85).color(&ORANGE);
    let gap = (f * 0.4) as i32;
    let mut chosen = (hr.clone(), x + gap, HPos::Left);
    'find: for text in [&full, &hr] {
        let tw = top.estimate_text_size(text, &style).map_err(err)?.0 as i32;
        for (tx, h) in [(x + gap, HPos::Left), (x - gap, HPos::Right)] {
            let (a, b) = match h {
                HPos::Left => (tx, tx + tw),
                _ => (tx - tw, tx),
            };
            if a >= left && b <= right {
                chosen = (text.clone(), tx, h);
                break 'find;
            }
        }
    }
    let (text, tx, h) = chosen;
    text_at(
        top,
        text,
        (tx, y),
        -((f * 0.3) as i32),
        style.pos(Pos::new(h, VPos::Bottom)),
    )
}
