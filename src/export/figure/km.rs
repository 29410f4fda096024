//! The Kaplan–Meier figure: step curves with CI bands and censoring ticks, medians, the
//! legend with n, events and median (95% CI), HR and log-rank p, and under the axis ticks the
//! number-at-risk table or the KMunicate one (at risk, censored, events per arm).

use plotters::coord::types::RangedCoordf64;

use super::*;
use crate::analysis::RiskTable;

/// The KMunicate table's row labels (Morris et al. 2019), top to bottom.
const KMUNICATE_ROWS: [&str; 3] = ["At risk", "Censored", "Events"];

/// Height of a table row, in pixels.
fn row_height(scale: Scale) -> f64 {
    scale.font * 1.45
}

/// Room above the KMunicate table's heading, in rows: the heading is long enough to reach
/// under the x axis' title.
const KMUNICATE_GAP: f64 = 0.4;

/// Height of the table under the chart: a heading, then per arm one row (at risk) or the
/// arm's name and three rows (KMunicate, with room above), and a little room below.
fn table_height(n_arms: usize, table: RiskTable, scale: Scale) -> u32 {
    let rows = match table {
        RiskTable::AtRisk => n_arms as f64 + 1.5,
        RiskTable::Kmunicate => KMUNICATE_GAP + 4.0 * n_arms as f64 + 1.5,
    };
    (row_height(scale) * rows) as u32
}

/// How much taller than its size the figure is drawn for `table`: the KMunicate table's
/// extra rows, so that the chart keeps the height it has above the number-at-risk table.
pub fn km_extra_height(report: &Report, endpoint: &str, table: RiskTable, scale: Scale) -> u32 {
    let n_arms = endpoint_of(report, endpoint).map_or(0, |ep| ep.arms.0.len());
    table_height(n_arms, table, scale) - table_height(n_arms, RiskTable::AtRisk, scale)
}

/// The least height of the Kaplan–Meier figure at `width_px` on a journal page: its title,
/// sample line and legend as they wrap there, a plot at least 35% as tall as the page is
/// wide (plus its axis), and the table.
pub fn km_min_height(
    report: &Report,
    endpoint: &str,
    table: RiskTable,
    width_px: u32,
    scale: Scale,
    demo: bool,
) -> u32 {
    let Ok(ep) = endpoint_of(report, endpoint) else {
        return 0;
    };
    let mut scratch = String::new();
    let root = SVGBackend::with_string(&mut scratch, (width_px.max(1), 10_000)).into_drawing_area();
    let header = draw_header(
        &root,
        &format!("{} by arm", ep.label),
        &sample_line(report),
        scale,
        demo,
    )
    .and_then(|top| draw_legend(&root, top, ep, report.sample.time_unit, scale))
    .unwrap_or(0);
    // The plot itself at least 35% of the width, plus the x axis' ticks and title under it.
    let chart = width_px as f64 * 0.35 + scale.font * 3.3;
    header + chart as u32 + table_height(ep.arms.0.len(), table, scale)
}

/// The Kaplan–Meier figure: title, legend with n, events and median (95% CI), curves with CI
/// bands, censor ticks and dashed medians, HR and p, and the `table` whose columns are placed
/// at the x axis ticks through the chart's own coordinate mapping.
pub fn draw_km<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &Report,
    endpoint: &str,
    table: RiskTable,
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
    let row_h = row_height(scale);
    let table_h = table_height(n_arms, table, scale);
    // Header: title, sample line, legend (each wrapped to the width).
    let title_h = draw_header(
        root,
        &format!("{} by arm", ep.label),
        &sample_line(report),
        scale,
        demo,
    )?;
    let header_h = draw_legend(root, title_h, ep, unit, scale)?;
    let (_, rest) = root.split_vertically(header_h);
    let (chart_area, table_area) = rest.split_vertically(h.saturating_sub(header_h + table_h));

    // Chart.
    let x_max = ep.last_time().max(1e-9);
    let mut ticks = crate::format::axis::ticks(
        x_max,
        crate::format::axis::time_step(x_max, unit == "months"),
    );
    let y_label_w = left_room(&chart_area, ep, table, scale)?;
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
        .y_desc(crate::format::survival_axis_title(&ep.label))
        .label_style(scale.text(0.9))
        .axis_desc_style(scale.text(1.0))
        .axis_style(BLACK.stroke_width(scale.line.max(1)))
        .draw()
        .map_err(err)?;
    // On a narrow page every k-th tick only, so that the table's numbers never touch.
    if ticks.len() > 1 {
        let style = scale.text(0.9);
        let mut widest = 0u32;
        for (_, a) in ep.arms.iter() {
            let n = nr(a.n, 0);
            widest = widest.max(chart_area.estimate_text_size(&n, &style).map_err(err)?.0);
        }
        let dx = (chart.backend_coord(&(ticks[1], 0.0)).0 - chart.backend_coord(&(ticks[0], 0.0)).0)
            .max(1) as f64;
        let k = ((widest as f64 + f * 0.8) / dx).ceil().max(1.0) as usize;
        ticks = ticks.into_iter().step_by(k).collect();
    }
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
    let columns = Columns {
        ticks: &ticks,
        x: &tick_x,
        row_h,
    };
    match table {
        RiskTable::AtRisk => draw_risk_table(&table_area, ep, &columns, scale)?,
        RiskTable::Kmunicate => draw_kmunicate_table(&table_area, ep, &columns, scale)?,
    }
    root.present().map_err(err)
}

/// Room left of the axis (the y label area) for the y labels and, below, the labels of the
/// table's rows: the arm names of the at-risk table, or the KMunicate row labels (the arm
/// names have rows of their own there), with a gap before the first column's numbers.
fn left_room<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ep: &EndpointReport,
    table: RiskTable,
    scale: Scale,
) -> Result<u32, String> {
    let f = scale.font;
    let y_labels = f * 5.0;
    match table {
        RiskTable::AtRisk => {
            // The arm names' column, measured; at most a third of the page (names cut).
            let style = scale.text(0.9);
            let mut longest = 0u32;
            for (a, _) in ep.arms.iter() {
                let name = fit_text(area, a, &style, arm_name_cap(area))?;
                longest = longest.max(area.estimate_text_size(&name, &style).map_err(err)?.0);
            }
            Ok((longest as f64 + f * 1.2).max(y_labels) as u32)
        }
        RiskTable::Kmunicate => {
            let width = |t: &str| -> Result<f64, String> {
                Ok(area.estimate_text_size(t, &scale.text(0.9)).map_err(err)?.0 as f64)
            };
            let mut labels = 0.0_f64;
            for label in KMUNICATE_ROWS {
                labels = labels.max(width(label)?);
            }
            // The widest number of the first column (time 0: the arm's n).
            let mut first = 0.0_f64;
            for (_, a) in ep.arms.iter() {
                first = first.max(width(&nr(a.n, 0))?);
            }
            // Labels start at f·1.5 from the figure's edge; the chart's left margin is f·0.8.
            let need = f * 1.5 + labels + f * 1.2 + first / 2.0 - f * 0.8;
            Ok(need.max(y_labels) as u32)
        }
    }
}

/// The widest an arm's name may be in the at-risk table: a third of the page.
fn arm_name_cap<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> u32 {
    area.dim_in_pixel().0 / 3
}

/// Where the table's columns go: the ticks' times, their pixel x (from the chart's own
/// coordinate mapping) and the height of a row.
struct Columns<'a> {
    ticks: &'a [f64],
    x: &'a [i32],
    row_h: f64,
}

/// One row of a table: `value(t)` at each tick, centred on the tick's x, `y` pixels down the
/// table area.
fn draw_row<DB: DrawingBackend>(
    table_area: &DrawingArea<DB, Shift>,
    columns: &Columns,
    y: i32,
    color: RGBColor,
    scale: Scale,
    value: impl Fn(f64) -> f64,
) -> DResult {
    let base = table_area.get_base_pixel();
    for (&t, &x) in columns.ticks.iter().zip(columns.x) {
        // The column sits at the tick's x; its row is this table row.
        text_at(
            table_area,
            nr(value(t), 0),
            (x, base.1),
            y,
            scale
                .text(0.9)
                .color(&color)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        )?;
    }
    Ok(())
}

/// The legend: a line of each arm's colour, n, events and median (95% CI).
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    top: u32,
    ep: &EndpointReport,
    unit: &str,
    scale: Scale,
) -> Result<u32, String> {
    let f = scale.font;
    let (w, _) = root.dim_in_pixel();
    let x0 = f as i32;
    let text_x = x0 + (2.6 * f) as i32;
    let style = scale.text(1.0);
    let step = scale.px(1.0) * 1.15;
    let mut y = top as i32;
    for (k, (arm, a)) in ep.arms.iter().enumerate() {
        root.draw(&PathElement::new(
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
        let max_w = (w as i32 - text_x - f as i32).max(1) as u32;
        let lines = wrap(root, &text, &style, max_w)?;
        y = draw_lines(root, &lines, (text_x, y), step, &style)? + (f * 0.25) as i32;
    }
    Ok((y as f64 + f * 0.4) as u32)
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
    // Long texts (a reason) wrap to 60% of the plot's width, right-aligned.
    let style = scale.text(1.0).pos(Pos::new(HPos::Right, VPos::Top));
    let max_w = (chart_area.dim_in_pixel().0 as f64 * 0.6) as u32;
    let step = scale.px(1.0) * 1.15;
    let lines = wrap(chart_area, &hr, &style, max_w)?;
    let ry = draw_lines(chart_area, &lines, (rx, ry), step, &style)? - (step - f * 1.3) as i32;
    match &ep.logrank.not_available {
        Some(r) if ep.logrank.p_value.is_nan() => {
            let lines = wrap(chart_area, &format!("log-rank: {r}"), &style, max_w)?;
            draw_lines(chart_area, &lines, (rx, ry), step, &style)?;
        }
        _ => draw_p_right(
            chart_area,
            "log-rank p = ",
            ep.logrank.p_value,
            rx,
            ry,
            scale,
        )?,
    }

    Ok(())
}

/// The number-at-risk table: per arm, the number at risk at each tick, each column at its
/// tick's x.
fn draw_risk_table<DB: DrawingBackend>(
    table_area: &DrawingArea<DB, Shift>,
    ep: &EndpointReport,
    columns: &Columns,
    scale: Scale,
) -> DResult {
    let f = scale.font;
    let row_h = columns.row_h;
    table_area
        .draw(&Text::new(
            "Number at risk",
            ((f * 0.5) as i32, 0),
            scale.text(0.95),
        ))
        .map_err(err)?;
    for (k, (arm, a)) in ep.arms.iter().enumerate() {
        let y = (row_h * (k as f64 + 1.0)) as i32;
        let name = fit_text(table_area, arm, &scale.text(0.9), arm_name_cap(table_area))?;
        table_area
            .draw(&Text::new(
                name,
                ((f * 0.5) as i32, y),
                scale.text(0.9).color(&arm_color(k)),
            ))
            .map_err(err)?;
        let Some(km) = &a.curve else { continue };
        draw_row(table_area, columns, y, arm_color(k), scale, |t| {
            km.at(t).n_risk
        })?;
    }
    Ok(())
}

/// The KMunicate table (Morris et al. 2019): per arm its name, then three rows — at risk at
/// each tick, and censored and events before it, cumulative — each column at its tick's x.
fn draw_kmunicate_table<DB: DrawingBackend>(
    table_area: &DrawingArea<DB, Shift>,
    ep: &EndpointReport,
    columns: &Columns,
    scale: Scale,
) -> DResult {
    let f = scale.font;
    let row_h = columns.row_h;
    let gap = row_h * KMUNICATE_GAP;
    table_area
        .draw(&Text::new(
            "Number at risk, and censored and events to date",
            ((f * 0.5) as i32, gap as i32),
            scale.text(0.95),
        ))
        .map_err(err)?;
    for (k, (arm, a)) in ep.arms.iter().enumerate() {
        let top = gap + row_h * (1.0 + 4.0 * k as f64);
        table_area
            .draw(&Text::new(
                fit_text(
                    table_area,
                    arm,
                    &scale.text(0.95),
                    table_area.dim_in_pixel().0.saturating_sub(2 * f as u32),
                )?,
                ((f * 0.5) as i32, top as i32),
                scale.text(0.9).color(&arm_color(k)),
            ))
            .map_err(err)?;
        for (r, label) in KMUNICATE_ROWS.into_iter().enumerate() {
            let y = (top + row_h * (r as f64 + 1.0)) as i32;
            table_area
                .draw(&Text::new(
                    label,
                    ((f * 1.5) as i32, y),
                    scale.text(0.9).color(&GREY),
                ))
                .map_err(err)?;
            let Some(km) = &a.curve else { continue };
            draw_row(table_area, columns, y, arm_color(k), scale, |t| {
                let c = km.counts_at(t);
                [c.n_risk, c.n_censored, c.n_events][r]
            })?;
        }
    }
    Ok(())
}
