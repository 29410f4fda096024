//! The subgroup forest plot: HR (95% CI) per level, the interaction p per covariate.

use super::*;

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
    let mut chart = hr_forest_chart(
        &chart_area,
        &HrForest {
            labels: &labels,
            x: (x0, x1),
            ticks: &[0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0],
            x_desc: "hazard ratio (log scale)",
            label_width: 0.55,
            text: [0.85, 1.0, 0.9],
        },
        scale,
    )?;
    let mut draw_row = |y: f64, hr: f64, ci: [f64; 2], color: RGBColor| -> DResult {
        if !(hr.is_finite() && ci[0].is_finite() && ci[1].is_finite() && ci[0] > 0.0) {
            return Ok(());
        }
        hr_row(&mut chart, y, hr, ci, color, scale)
    };
    draw_row(n, ep.cox.hr, ep.cox.ci, BLACK)?;
    for (i, r) in rows.iter().enumerate() {
        draw_row(n - 1.0 - i as f64, r.hr, r.ci, TREATED)?;
    }
    root.present().map_err(err)
}

/// The type sizes and texts of a forest of hazard ratios (row labels, axis title, ticks).
pub(super) struct HrForest<'a> {
    /// Row labels, top first.
    pub labels: &'a [String],
    /// The x range (log HR).
    pub x: (f64, f64),
    /// HR values written under the axis (those inside the range).
    pub ticks: &'a [f64],
    pub x_desc: &'a str,
    /// Width of the label column per character of the longest label, in font sizes.
    pub label_width: f64,
    /// Text sizes (times the body font): row labels, axis title, ticks.
    pub text: [f64; 3],
}

type HrChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The forest's chart on `area`: one row per label (y = n at the top), the HR ticks written
/// under the log axis, and the dashed line at HR = 1.
pub(super) fn hr_forest_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    spec: &HrForest,
    scale: Scale,
) -> Result<HrChart<'a, DB>, String> {
    let f = scale.font;
    let labels = spec.labels;
    let n = labels.len().max(1) as f64;
    let (x0, x1) = spec.x;
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(20) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin((f * 0.8) as u32)
        .x_label_area_size((f * 2.6) as u32)
        .y_label_area_size((f * spec.label_width * longest) as u32)
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
        .x_desc(spec.x_desc)
        .label_style(scale.text(spec.text[0]))
        .axis_desc_style(scale.text(spec.text[1]))
        .draw()
        .map_err(err)?;
    for t in spec.ticks.iter().filter(|v| v.ln() >= x0 && v.ln() <= x1) {
        text_at(
            area,
            format!("{t}"),
            chart.backend_coord(&(t.ln(), 0.5)),
            (f * 0.4) as i32,
            scale
                .text(spec.text[2])
                .pos(Pos::new(HPos::Center, VPos::Top)),
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
    Ok(chart)
}

/// One forest row at `y`: the CI (cut to the axis) and the HR as a filled square.
pub(super) fn hr_row<DB: DrawingBackend>(
    chart: &mut HrChart<'_, DB>,
    y: f64,
    hr: f64,
    ci: [f64; 2],
    color: RGBColor,
    scale: Scale,
) -> DResult {
    let (x0, x1) = {
        let r = chart.x_range();
        (r.start, r.end)
    };
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(ci[0].ln().max(x0), y), (ci[1].ln().min(x1), y)],
            color.stroke_width(scale.line + 1),
        )))
        .map_err(err)?;
    let s = (scale.font * 0.35) as i32;
    chart
        .draw_series(std::iter::once(
            EmptyElement::at((hr.ln(), y)) + Rectangle::new([(-s, -s), (s, s)], color.filled()),
        ))
        .map_err(err)?;
    Ok(())
}
