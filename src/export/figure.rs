//! Figures for slides and papers, drawn with plotters from a [`Report`]: the same content as
//! the window, laid out for print (white background, black text, sizes in points).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::analysis::{EndpointReport, MatchingReport, Report};

const FONT: &str = "sans-serif";
const TREATED: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const CONTROL: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const GREY: RGBColor = RGBColor(0x60, 0x60, 0x60);
const WARN: RGBColor = RGBColor(0xB0, 0x50, 0x00);

/// Registers the embedded font once (plotters' ab_glyph backend needs no system fonts).
pub fn ensure_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font bytes are egui's own, valid by construction.
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

fn arm_color(k: usize) -> RGBColor {
    if k == 0 {
        TREATED
    } else {
        CONTROL
    }
}

/// Type sizes in pixels for a figure.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub font: f64,
    pub line: u32,
}

impl Scale {
    /// Body text ≥ 8 pt at the printed size and ≥ 1/45 of the height on screens.
    pub fn new(height_px: u32, dpi: f64) -> Self {
        let pt8 = 8.0 / 72.0 * dpi;
        let font = pt8.max(height_px as f64 / 45.0);
        Scale {
            font,
            line: ((font / 8.0).round() as u32).max(2),
        }
    }

    fn text(&self, factor: f64) -> TextStyle<'static> {
        (FONT, self.font * factor).into_font().color(&BLACK)
    }
}

type DResult = Result<(), String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("drawing failed: {e:?}")
}

/// "matched sample (logit caliper 0.2 SD) · subgroup …" for figure subtitles.
pub fn sample_line(report: &Report) -> String {
    let sample = match &report.matching {
        Some(m) => format!(
            "propensity-matched sample ({} caliper {} SD; {})",
            m.caliper_scale,
            m.caliper,
            m.n_matched.joined(", ")
        ),
        None => "unmatched sample".to_string(),
    };
    let sub = if report.sample.subgroup.is_empty() {
        "all patients".to_string()
    } else {
        format!("subgroup: {}", report.sample.subgroup.join(", "))
    };
    format!("{sample} · {sub}")
}

fn nr(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{x:.d$}")
    } else {
        "NR".to_string()
    }
}

/// Title, the sample line under it, and the demo mark at the top right.
fn draw_header<DB: DrawingBackend>(
    header: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    scale: Scale,
    demo: bool,
) -> DResult {
    let f = scale.font;
    let (w, _) = header.dim_in_pixel();
    header
        .draw(&Text::new(
            title.to_string(),
            (f as i32, (f * 0.6) as i32),
            scale.text(1.35),
        ))
        .map_err(err)?;
    header
        .draw(&Text::new(
            subtitle.to_string(),
            (f as i32, (f * 2.3) as i32),
            scale.text(0.9).color(&GREY),
        ))
        .map_err(err)?;
    if demo {
        header
            .draw(&Text::new(
                crate::DEMO_LABEL.to_string(),
                (w as i32 - f as i32, (f * 0.6) as i32),
                scale
                    .text(0.85)
                    .color(&WARN)
                    .pos(Pos::new(HPos::Right, VPos::Top)),
            ))
            .map_err(err)?;
    }
    Ok(())
}

/// Draws `text` on `area` at the pixel of a chart point `(px, py)` (from `backend_coord`),
/// shifted by `dy` pixels.
/// The report's endpoint, or a message naming the one asked for.
fn endpoint_of<'a>(report: &'a Report, endpoint: &str) -> Result<&'a EndpointReport, String> {
    report
        .endpoints
        .get(endpoint)
        .ok_or_else(|| format!("no endpoint '{endpoint}' in the report"))
}

/// A page with the title and sample line on top and a one-line grey note at the bottom;
/// returns the area between them for the chart.
fn page_with_note<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    note: &str,
    report: &Report,
    scale: Scale,
    demo: bool,
) -> Result<DrawingArea<DB, Shift>, String> {
    let f = scale.font;
    let (_, h) = root.dim_in_pixel();
    let (header, rest) = root.split_vertically((f * 3.8) as u32);
    let (chart_area, footer) =
        rest.split_vertically(h.saturating_sub((f * 3.8) as u32 + (f * 1.8) as u32));
    draw_header(&header, title, &sample_line(report), scale, demo)?;
    footer
        .draw(&Text::new(
            note,
            (f as i32, (f * 0.3) as i32),
            scale.text(0.8).color(&GREY),
        ))
        .map_err(err)?;
    Ok(chart_area)
}

fn text_at<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: String,
    (px, py): (i32, i32),
    dy: i32,
    style: TextStyle,
) -> DResult {
    let base = area.get_base_pixel();
    area.draw(&Text::new(text, (px - base.0, py - base.1 + dy), style))
        .map_err(err)
}

/// p-value text for print: 3 decimals, or "6.7 × 10^-6" written out.
pub fn p_text(p: f64) -> String {
    if !p.is_finite() {
        return "—".to_string();
    }
    if p >= 0.001 {
        return format!("{p:.3}");
    }
    if p < 1e-300 {
        // Underflowed (0, or subnormal: its power of ten underflows too).
        return "< 10^-300".to_string();
    }
    let exp = p.log10().floor() as i32;
    format!("{:.1} × 10^{exp}", p / 10f64.powi(exp))
}

/// Draws "prefix 6.7 × 10⁻⁶" right-aligned at (x, y), the exponent raised and smaller (the
/// embedded font has no superscript minus).
fn draw_p_right<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    prefix: &str,
    p: f64,
    x: i32,
    y: i32,
    scale: Scale,
) -> DResult {
    let normal = scale.text(1.0);
    let small = scale.text(0.7);
    let (base, exp) = if (1e-300..0.001).contains(&p) {
        let e = p.log10().floor() as i32;
        (
            format!("{prefix}{:.1} × 10", p / 10f64.powi(e)),
            Some(format!("{e}").replace('-', "−")),
        )
    } else if p.is_finite() && p < 1e-300 {
        // Underflow: "p < 10⁻³⁰⁰", not "p = 0".
        let prefix = prefix.trim_end().trim_end_matches('=').trim_end();
        (format!("{prefix} < 10"), Some("−300".to_string()))
    } else {
        (format!("{prefix}{}", p_text(p)), None)
    };
    let exp_w = match &exp {
        Some(e) => area.estimate_text_size(e, &small).map_err(err)?.0 as i32,
        None => 0,
    };
    area.draw(&Text::new(
        base,
        (x - exp_w, y),
        normal.pos(Pos::new(HPos::Right, VPos::Top)),
    ))
    .map_err(err)?;
    if let Some(e) = exp {
        area.draw(&Text::new(
            e,
            (x - exp_w, y - (scale.font * 0.3) as i32),
            small.pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

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

    // Chart.
    let x_max = ep.last_time().max(1e-9);
    let ticks = crate::axis::ticks(x_max, crate::axis::time_step(x_max, unit == "months"));
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
        let Some(km) = &a.curve else { continue };
        let color = arm_color(k);
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
        if a.median.is_finite() {
            let dash = color.stroke_width(scale.line.max(1));
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, 0.5), (a.median, 0.5), (a.median, 0.0)],
                    (f * 0.5) as u32,
                    (f * 0.35) as u32,
                    dash,
                ))
                .map_err(err)?;
        }
    }
    // Effect: HR and p, top right inside the plot.
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
    let (px, py) = chart.backend_coord(&(x_max, 1.0));
    let base = chart_area.get_base_pixel();
    let (rx, ry) = (px - base.0, py - base.1);
    text_at(
        &chart_area,
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
            &chart_area,
            "log-rank p = ",
            ep.logrank.p_value,
            rx,
            ry + (f * 1.3) as i32,
            scale,
        )?,
    }

    // Number-at-risk table: columns at the ticks' pixel positions.
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
        for &t in &ticks {
            // The column sits at the tick's x; its row is this table row.
            let (x, _) = chart.backend_coord(&(t, 0.0));
            text_at(
                &table_area,
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
    root.present().map_err(err)
}

/// DCR and ORR per arm with Clopper–Pearson whiskers, and Fisher's p.
pub fn draw_response<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &Report,
    scale: Scale,
    demo: bool,
) -> DResult {
    ensure_font();
    root.fill(&WHITE).map_err(err)?;
    let f = scale.font;
    let Some(resp) = &report.response else {
        return root
            .draw(&Text::new(
                "No best_response column in the file",
                (20, 20),
                scale.text(1.0),
            ))
            .map_err(err);
    };
    let (header, chart_area) = root.split_vertically((f * 3.8) as u32);
    draw_header(
        &header,
        "Best response by arm",
        &sample_line(report),
        scale,
        demo,
    )?;
    let mut chart = ChartBuilder::on(&chart_area)
        .margin((f * 0.8) as u32)
        .x_label_area_size((f * 2.6) as u32)
        .y_label_area_size((f * 4.0) as u32)
        .build_cartesian_2d(-0.6f64..4.6f64, 0.0f64..100.0f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_labels(0)
        .y_labels(11)
        .y_label_formatter(&|v| format!("{v:.0}%"))
        .y_desc("% of evaluable patients")
        .label_style(scale.text(0.9))
        .axis_desc_style(scale.text(1.0))
        .draw()
        .map_err(err)?;
    let mut labels = Vec::new();
    for (k, (arm, a)) in resp.arms.iter().enumerate() {
        let color = arm_color(k);
        for (g, (v, ci, name)) in [(a.dcr, a.dcr_ci, "DCR"), (a.orr, a.orr_ci, "ORR")]
            .into_iter()
            .enumerate()
        {
            let x = g as f64 * 2.6 + k as f64 * 1.0;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.42, 0.0), (x + 0.42, 100.0 * v)],
                    color.mix(0.85).filled(),
                )))
                .map_err(err)?;
            if ci[0].is_finite() {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, 100.0 * ci[0]), (x, 100.0 * ci[1])],
                        BLACK.stroke_width(scale.line),
                    )))
                    .map_err(err)?;
                for y in [ci[0], ci[1]] {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x - 0.15, 100.0 * y), (x + 0.15, 100.0 * y)],
                            BLACK.stroke_width(scale.line),
                        )))
                        .map_err(err)?;
                }
            }
            labels.push((x, format!("{arm} {name} {:.0}%", 100.0 * v), k));
        }
    }
    for (x, text, k) in labels {
        text_at(
            &chart_area,
            text,
            chart.backend_coord(&(x, 0.0)),
            (f * 0.4) as i32,
            scale
                .text(0.8)
                .color(&arm_color(k))
                .pos(Pos::new(HPos::Center, VPos::Top)),
        )?;
    }
    let p_line = format!(
        "Fisher's exact test: DCR p = {}, ORR p = {}",
        p_text(resp.dcr_p_value),
        p_text(resp.orr_p_value)
    );
    text_at(
        &chart_area,
        p_line,
        chart.backend_coord(&(4.5, 98.0)),
        0,
        scale.text(0.95).pos(Pos::new(HPos::Right, VPos::Top)),
    )?;
    root.present().map_err(err)
}

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

/// Forest plot: HR (95% CI) of the treated arm within each level of each categorical
/// covariate, the overall HR on top, log-scale x axis with 1 marked, interaction p per
/// covariate, and the note that subgroups invite chance findings.
pub fn draw_forest<DB: DrawingBackend>(
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
        .forest
        .as_ref()
        .ok_or("the report has no forest plot (analyze with --forest)")?;
    let chart_area = page_with_note(
        root,
        &format!("{}: hazard ratio by subgroup", ep.label),
        "Many subgroups invite chance findings: no correction for multiplicity. p int: likelihood-ratio test of arm × covariate (Cox).",
        report,
        scale,
        demo,
    )?;
    let n = rows.len() as f64 + 1.0;
    let mut lo = ep.cox.ci[0].min(1.0);
    let mut hi = ep.cox.ci[1].max(1.0);
    for r in rows {
        if r.ci[0].is_finite() && r.ci[1].is_finite() && r.ci[0] > 0.0 {
            lo = lo.min(r.ci[0]);
            hi = hi.max(r.ci[1]);
        }
    }
    let (x0, x1) = ((lo.max(1e-3)).ln() - 0.1, (hi.min(1e3)).ln() + 0.1);
    let mut labels = vec![format!("Overall: HR {}", nr(ep.cox.hr, 2))];
    for (i, r) in rows.iter().enumerate() {
        let first = i == 0 || rows[i - 1].covariate != r.covariate;
        let nn: Vec<String> = r.n.iter().map(|(_, v)| nr(*v, 0)).collect();
        let mut l = format!("{} = {} (n {})", r.covariate, r.level, nn.join("/"));
        if r.not_estimable.is_some() {
            l.push_str(" not estimable");
        }
        if first {
            l.push_str(&format!(", p int {}", p_text(r.interaction_p_value)));
        }
        labels.push(l);
    }
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(20) as f64;
    let mut chart = ChartBuilder::on(&chart_area)
        .margin((f * 0.8) as u32)
        .x_label_area_size((f * 2.6) as u32)
        .y_label_area_size((f * 0.55 * longest) as u32)
        .build_cartesian_2d(x0..x1, 0.5..n + 0.5)
        .map_err(err)?;
    let ticks: Vec<f64> = [0.1f64, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
        .into_iter()
        .filter(|v| v.ln() >= x0 && v.ln() <= x1)
        .collect();
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
    for t in &ticks {
        text_at(
            &chart_area,
            format!("{t}"),
            chart.backend_coord(&(t.ln(), 0.5)),
            (f * 0.4) as i32,
            scale.text(0.9).pos(Pos::new(HPos::Center, VPos::Top)),
        )?;
    }
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.0, 0.5), (0.0, n + 0.5)],
            (f * 0.5) as u32,
            (f * 0.35) as u32,
            GREY.stroke_width(scale.line),
        ))
        .map_err(err)?;
    let mut draw_row = |y: f64, hr: f64, ci: [f64; 2], color: RGBColor| -> DResult {
        if !(hr.is_finite() && ci[0].is_finite() && ci[1].is_finite() && ci[0] > 0.0) {
            return Ok(());
        }
        let (a, b) = (ci[0].ln().max(x0), ci[1].ln().min(x1));
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(a, y), (b, y)],
                color.stroke_width(scale.line + 1),
            )))
            .map_err(err)?;
        let s = (f * 0.35) as i32;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((hr.ln(), y)) + Rectangle::new([(-s, -s), (s, s)], color.filled()),
            ))
            .map_err(err)?;
        Ok(())
    };
    draw_row(n, ep.cox.hr, ep.cox.ci, BLACK)?;
    for (i, r) in rows.iter().enumerate() {
        draw_row(n - 1.0 - i as f64, r.hr, r.ci, TREATED)?;
    }
    root.present().map_err(err)
}

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
    let (top, bottom) = charts.split_vertically((ch as f64 * 0.64) as u32);
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
        .disable_x_mesh()
        .disable_y_mesh()
        .x_labels(0)
        .y_labels(0)
        .y_desc("hazard ratio (log scale)")
        .label_style(scale.text(0.85))
        .axis_desc_style(scale.text(1.0))
        .draw()
        .map_err(err)?;
    // Hazard-ratio ticks at round values, with light grid lines.
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
                RGBColor(0xE4, 0xE4, 0xE4).stroke_width(1),
            )))
            .map_err(err)?;
        text_at(
            &top,
            format!("{t}"),
            {
                let (x, y) = hr_chart.backend_coord(&(x_lo, y));
                (x - (f * 0.4) as i32, y)
            },
            0,
            scale.text(0.85).pos(Pos::new(HPos::Right, VPos::Center)),
        )?;
    }
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
    let mark = |c: &mut ChartContext<'_, DB, _>, y0: f64, y1: f64| -> DResult {
        c.draw_series(DashedLineSeries::new(
            vec![(lx(current), y0), (lx(current), y1)],
            (f * 0.4) as u32,
            (f * 0.3) as u32,
            ORANGE.stroke_width(scale.line),
        ))
        .map_err(err)?;
        Ok(())
    };
    mark(&mut hr_chart, y_lo, y_hi)?;
    if let Some(p) = points
        .iter()
        .find(|p| (p.caliper - current).abs() <= 1e-12 * current)
    {
        text_at(
            &top,
            format!(
                "caliper {current} SD: HR {} ({}–{})",
                nr(p.hr, 2),
                nr(p.ci[0], 2),
                nr(p.ci[1], 2)
            ),
            {
                let (x, y) = hr_chart.backend_coord(&(lx(current), y_hi));
                (x + (f * 0.4) as i32, y)
            },
            (f * 0.3) as i32,
            scale
                .text(0.85)
                .color(&ORANGE)
                .pos(Pos::new(HPos::Left, VPos::Top)),
        )?;
    }
    // Bottom: matched treated patients.
    let max_pairs = points.iter().map(|p| p.n_pairs).max().unwrap_or(1).max(1) as f64;
    let mut n_chart = ChartBuilder::on(&bottom)
        .margin((f * 0.8) as u32)
        .x_label_area_size((f * 2.8) as u32)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(x_lo..x_hi, 0.0..max_pairs * 1.08)
        .map_err(err)?;
    n_chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(4)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc("matched treated")
        .x_desc("caliper (SD of the distance, log scale)")
        .label_style(scale.text(0.85))
        .axis_desc_style(scale.text(1.0))
        .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
        .draw()
        .map_err(err)?;
    n_chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (lx(p.caliper), p.n_pairs as f64)),
            GREY.stroke_width(scale.line + 1),
        ))
        .map_err(err)?;
    mark(&mut n_chart, 0.0, max_pairs * 1.08)?;
    for t in &caliper_ticks {
        text_at(
            &bottom,
            format!("{t}"),
            n_chart.backend_coord(&(lx(*t), 0.0)),
            (f * 0.4) as i32,
            scale.text(0.9).pos(Pos::new(HPos::Center, VPos::Top)),
        )?;
    }
    root.present().map_err(err)
}
