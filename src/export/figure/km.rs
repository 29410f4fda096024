//! The Kaplan–Meier figure: step curves with CI bands and censoring ticks, medians, the
//! legend with n, events and median (95% CI), HR and log-rank p, and the number-at-risk table
//! under the axis ticks.

use plotters::coord::types::RangedCoordf64;

use super::*;

/// The Kaplan–Meier figure: title, legend with n, events and median (95% CI), curves with CI
/// bands, censor ticks and dashed medians, HR and p, and the number-at-risk table whose
/// columns are placed at the x axis ticks through the chart's own coordinate mapping.
pub fn draw_km<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &Report,
    endpoint: &str,
    scale: Scale,
    demo: bool,
) -> DResult {
    ensure_font();
    root.fill(&WHITE).map_err(err)?;
    let ep = endpoint_of(report, endpoint)?;
    let unit = report.sample.time_unit;
    let f = scale.font;
    let (_, h) = root.dim_in_pixel();
    let n_arms = ep.arms.0.len();
    let row_h = f * 1.45;
    let table_h = (row_h * (n_arms as f64 + 1.5)) as u32;
    let header_h = (f * 2.0 + f * 1.4 + row_h * n_arms as f64 + f * 0.6) as u32;
    let (header, rest) = root.split_vertically(header_h);
    let (chart_area, table_area) = rest.split_vertically(h.saturating_sub(header_h + table_h));

    // Header: title, sample line, legend.
    draw_header(
        &header,
        &format!("{} by arm", ep.label),
        &sample_line(report),
        scale,
        demo,
    )?;
    draw_legend(&header, ep, unit, row_h, scale)?;

    // Chart.
    let x_max = ep.last_time().max(1e-9);
    let ticks = crate::format::axis::ticks(
        x_max,
        crate::format::axis::time_step(x_max, unit == "months"),
    );
    // Room left of the axis for the y labels and, below, the arm names of the at-risk table.
    let longest = ep
        .arms
        .iter()
        .map(|(a, _)| a.chars().count())
        .max()
        .unwrap_or(8) as f64;
    let y_label_w = (f * (0.6 * longest + 1.5)).max(f * 5.0) as u32;
    let mut chart = ChartBuilder::on(&chart_area)
        .margin_left((f * 0.8) as u32)
        .margin_right((f * 1.5) as u32)
        .margin_top((f * 0.5) as u32)
        .x_label_area_size((f * 2.8) as u32)
        .y_label_area_size(y_label_w)
        .build_cartesian_2d(0.0..x_max * 1.02, 0.0..1.02)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .x_desc(format!("Time since start of treatment ({unit})"))
        .y_desc("Survival probability")
        .label_style(scale.text(0.9))
        .axis_desc_style(scale.text(1.0))
        .axis_style(BLACK.stroke_width(scale.line.max(1)))
        .draw()
        .map_err(err)?;
    // X ticks and labels at exactly the times of the at-risk columns.
    {
        let base = chart_area.get_base_pixel();
        for &t in &ticks {
            let (x, y) = chart.backend_coord(&(t, 0.0));
            let (x, y) = (x - base.0, y - base.1);
            chart_area
                .draw(&PathElement::new(
                    vec![(x, y), (x, y + (f * 0.4) as i32)],
                    BLACK.stroke_width(scale.line.max(1)),
                ))
                .map_err(err)?;
            chart_area
                .draw(&Text::new(
                    format!("{t:.0}"),
                    (x, y + (f * 0.55) as i32),
                    scale.text(0.9).pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(err)?;
        }
    }
    for (k, (_, a)) in ep.arms.iter().enumerate() {
        if let Some(km) = &a.curve {
            draw_curve(&mut chart, km, a.median, arm_color(k), scale)?;
        }
    }
    // Effect: HR and p, top right inside the plot.
    draw_effect(&chart_area, ep, chart.backend_coord(&(x_max, 1.0)), scale)?;

    // Number-at-risk table: columns at the ticks' pixel positions.
    let tick_x: Vec<i32> = ticks
        .iter()
        .map(|&t| chart.backend_coord(&(t, 0.0)).0)
        .collect();
    draw_risk_table(&table_area, ep, &ticks, &tick_x, row_h, scale)?;
    root.present().map_err(err)
}

/// The legend: a line of each arm's colour, n, events and median (95% CI).
fn draw_legend<DB: DrawingBackend>(
    header: &DrawingArea<DB, Shift>,
    ep: &EndpointReport,
    unit: &str,
    row_h: f64,
    scale: Scale,
) -> DResult {
    let f = scale.font;
    for (k, (arm, a)) in ep.arms.iter().enumerate() {
        let y = (f * 3.7 + row_h * k as f64) as i32;
        let x0 = f as i32;
        header
            .draw(&PathElement::new(
                vec![
                    (x0, y + (f * 0.55) as i32),
                    (x0 + (2.0 * f) as i32, y + (f * 0.55) as i32),
                ],
                arm_color(k).stroke_width(scale.line + 1),
            ))
            .map_err(err)?;
        let text = format!(
            "{arm}: n = {}, events {}, median {} (95% CI {}–{}) {unit}",
            nr(a.n, 0),
            nr(a.events, 0),
            nr(a.median, 1),
            nr(a.median_ci[0], 1),
            nr(a.median_ci[1], 1)
        );
        header
            .draw(&Text::new(
                text,
                (x0 + (2.6 * f) as i32, y),
                scale.text(1.0),
            ))
            .map_err(err)?;
    }

    Ok(())
}

/// One arm's curve: the CI band as a step-shaped polygon, the step line, censoring ticks and
/// the dashed median.
fn draw_curve<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    km: &crate::stats::km::KmCurve,
    median: f64,
    color: RGBColor,
    scale: Scale,
) -> DResult {
    let f = scale.font;
    // CI band as a step-shaped polygon over rows where both limits exist.
    let mut upper = vec![(0.0, 1.0)];
    let mut lower = vec![(0.0, 1.0)];
    let (mut pl, mut ph) = (1.0, 1.0);
    for i in 0..km.time.len() {
        let (l, hgh) = if km.lower[i].is_finite() && km.upper[i].is_finite() {
            (km.lower[i], km.upper[i])
        } else if km.surv[i] == 1.0 {
            (1.0, 1.0)
        } else {
            break;
        };
        upper.push((km.time[i], ph));
        upper.push((km.time[i], hgh));
        lower.push((km.time[i], pl));
        lower.push((km.time[i], l));
        pl = l;
        ph = hgh;
    }
    lower.reverse();
    upper.extend(lower);
    chart
        .draw_series(std::iter::once(Polygon::new(
            upper,
            color.mix(0.16).filled(),
        )))
        .map_err(err)?;
    let mut pts = vec![(0.0, 1.0)];
    let mut prev = 1.0;
    for i in 0..km.time.len() {
        pts.push((km.time[i], prev));
        pts.push((km.time[i], km.surv[i]));
        prev = km.surv[i];
    }
    chart
        .draw_series(LineSeries::new(pts, color.stroke_width(scale.line + 1)))
        .map_err(err)?;
    let tick = f * 0.35;
    chart
        .draw_series(
            (0..km.time.len())
                .filter(|&i| km.n_censor[i] > 0.0)
                .map(|i| {
                    EmptyElement::at((km.time[i], km.surv[i]))
                        + PathElement::new(
                            vec![(0, -(tick as i32)), (0, tick as i32)],
                            color.stroke_width(scale.line),
                        )
                }),
        )
        .map_err(err)?;
    if median.is_finite() {
        let dash = color.stroke_width(scale.line.max(1));
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, 0.5), (median, 0.5), (median, 0.0)],
                (f * 0.5) as u32,
                (f * 0.35) as u32,
                dash,
            ))
            .map_err(err)?;
    }
    Ok(())
}

/// The hazard ratio (or why it is not estimable) and the log-rank p at the plot's top right.
fn draw_effect<DB: DrawingBackend>(
    chart_area: &DrawingArea<DB, Shift>,
    ep: &EndpointReport,
    (px, py): (i32, i32),
    scale: Scale,
) -> DResult {
    let f = scale.font;
    let cox = &ep.cox;
    let hr = match &cox.not_estimable {
        Some(r) => format!("HR not estimable ({r})"),
        None => format!(
            "HR {:.2} (95% CI {:.2}–{:.2}){}",
            cox.hr,
            cox.ci[0],
            cox.ci[1],
            if cox.robust { ", robust SE" } else { "" },
        ),
    };
    let base = chart_area.get_base_pixel();
    let (rx, ry) = (px - base.0, py - base.1);
    text_at(
        chart_area,
        hr,
        (px, py),
        0,
        scale.text(1.0).pos(Pos::new(HPos::Right, VPos::Top)),
    )?;
    match &ep.logrank.not_available {
        Some(r) if ep.logrank.p_value.is_nan() => {
            chart_area
                .draw(&Text::new(
                    format!("log-rank: {r}"),
                    (rx, ry + (f * 1.3) as i32),
                    scale.text(1.0).pos(Pos::new(HPos::Right, VPos::Top)),
                ))
                .map_err(err)?;
        }
        _ => draw_p_right(
            chart_area,
            "log-rank p = ",
            ep.logrank.p_value,
            rx,
            ry + (f * 1.3) as i32,
            scale,
        )?,
    }

    Ok(())
}

/// The number-at-risk table: per arm, the number at risk at each tick, each column at its
/// tick's x (`tick_x`, from the chart's own coordinate mapping).
fn draw_risk_table<DB: DrawingBackend>(
    table_area: &DrawingArea<DB, Shift>,
    ep: &EndpointReport,
    ticks: &[f64],
    tick_x: &[i32],
    row_h: f64,
    scale: Scale,
) -> DResult {
    let f = scale.font;
    let base = table_area.get_base_pixel();
    table_area
        .draw(&Text::new(
            "Number at risk",
            ((f * 0.5) as i32, 0),
            scale.text(0.95),
        ))
        .map_err(err)?;
    for (k, (arm, a)) in ep.arms.iter().enumerate() {
        let y = (row_h * (k as f64 + 1.0)) as i32;
        table_area
            .draw(&Text::new(
                arm.clone(),
                ((f * 0.5) as i32, y),
                scale.text(0.9).color(&arm_color(k)),
            ))
            .map_err(err)?;
        let Some(km) = &a.curve else { continue };
        for (&t, &x) in ticks.iter().zip(tick_x) {
            // The column sits at the tick's x; its row is this table row.
            text_at(
                table_area,
                nr(km.at(t).n_risk, 0),
                (x, base.1),
                y,
                scale
                    .text(0.9)
                    .color(&arm_color(k))
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            )?;
        }
    }
    Ok(())
}
