//! The subgroup forest plot: HR (95% CI) per level, the interaction p per covariate.

use super::*;

/// Forest plot as a table: per categorical covariate a header row (its readable name and the
/// interaction p) and one indented row per level with n per arm and HR (95% CI) written on
/// the right; the overall HR on top; log axis with 1 marked and which arm each side favours.
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
    ep.forest
        .as_ref()
        .ok_or("the report has no forest plot (analyze with --forest)")?;
    let (title, note) = forest_texts(report, ep);
    let chart_area = page_with_note(root, &title, &note, report, scale, demo)?;
    draw_hr_table(&chart_area, &forest_table(report, ep), scale)?;
    root.present().map_err(err)
}

/// The forest's title and note.
pub(super) fn forest_texts(report: &Report, ep: &EndpointReport) -> (String, String) {
    let (t, c) = (&report.sample.treated_label, &report.sample.control_label);
    (
        format!("{}: hazard ratio by subgroup", ep.label),
        format!("n: {t} / {c}. p int: likelihood-ratio test of arm × covariate (Cox). Many subgroups invite chance findings: no correction for multiplicity."),
    )
}

/// The forest's rows: overall, then per covariate its header and its levels.
pub(super) fn forest_table(report: &Report, ep: &EndpointReport) -> HrTable {
    let arms = |m: &crate::sample::OrderedMap<f64>| {
        m.iter()
            .map(|(_, v)| nr(*v, 0))
            .collect::<Vec<_>>()
            .join("/")
    };
    let overall_n = ep
        .arms
        .iter()
        .map(|(_, a)| nr(a.n, 0))
        .collect::<Vec<_>>()
        .join("/");
    let mut rows = vec![HrRow::estimate(
        "All patients".to_string(),
        false,
        (ep.cox.hr, ep.cox.ci),
        BLACK,
        vec![overall_n, hr_text(ep.cox.hr, ep.cox.ci, None)],
    )];
    let forest = ep.forest.as_deref().unwrap_or_default();
    for (i, r) in forest.iter().enumerate() {
        if i == 0 || forest[i - 1].covariate != r.covariate {
            rows.push(HrRow::header(
                crate::format::column_label(&r.covariate),
                vec![
                    String::new(),
                    format!("p int {}", p_text(r.interaction_p_value)),
                ],
            ));
        }
        rows.push(HrRow::estimate(
            crate::format::level_label(&r.covariate, &r.level),
            true,
            (r.hr, r.ci),
            TREATED,
            vec![arms(&r.n), hr_text(r.hr, r.ci, r.not_estimable.as_deref())],
        ));
    }
    HrTable {
        rows,
        columns: vec![
            "Subgroup".to_string(),
            "n".to_string(),
            "HR (95% CI)".to_string(),
        ],
        ticks: HR_TICKS,
        x_desc: "hazard ratio (log scale)".to_string(),
        favours: Some((
            report.sample.treated_label.clone(),
            report.sample.control_label.clone(),
        )),
    }
}

/// The HR values an HR table's axis may write (those in its range that do not collide).
pub(super) const HR_TICKS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

/// "0.62 (0.40–0.95)" ("—" for a limit that is not finite), or "not estimable".
pub(super) fn hr_text(hr: f64, ci: [f64; 2], not_estimable: Option<&str>) -> String {
    if not_estimable.is_some() || !hr.is_finite() {
        return "not estimable".to_string();
    }
    let limit = |v: f64| match v.is_finite() {
        true => format!("{v:.2}"),
        false => "—".to_string(),
    };
    format!("{:.2} ({}–{})", hr, limit(ci[0]), limit(ci[1]))
}

/// One row of an HR table: a label (indented under a header row), an estimate drawn as a
/// square with its CI (none on a header row), and the texts of the right-hand columns.
pub(super) struct HrRow {
    pub label: String,
    pub indent: bool,
    pub estimate: Option<(f64, [f64; 2])>,
    pub color: RGBColor,
    pub cells: Vec<String>,
}

impl HrRow {
    pub fn header(label: String, cells: Vec<String>) -> HrRow {
        HrRow {
            label,
            indent: false,
            estimate: None,
            color: BLACK,
            cells,
        }
    }

    pub fn estimate(
        label: String,
        indent: bool,
        estimate: (f64, [f64; 2]),
        color: RGBColor,
        cells: Vec<String>,
    ) -> HrRow {
        HrRow {
            label,
            indent,
            estimate: Some(estimate),
            color,
            cells,
        }
    }

    /// Drawable: a finite HR above 0 (a CI limit that is 0 or not finite runs to the axis'
    /// end).
    fn drawable(&self) -> Option<(f64, [f64; 2])> {
        self.estimate.filter(|(hr, _)| hr.is_finite() && *hr > 0.0)
    }
}

/// A forest of hazard ratios laid out as a table: the label column, the plot, and text
/// columns on the right; a row of column headings on top; under the axis its ticks, its title
/// and which arm each side favours.
pub(super) struct HrTable {
    pub rows: Vec<HrRow>,
    /// Headings: the label column's, then one per right-hand column.
    pub columns: Vec<String>,
    /// HR values written under the axis (those inside the range).
    pub ticks: &'static [f64],
    pub x_desc: String,
    /// (treated, control): "favours treated" left of 1, "favours control" right.
    pub favours: Option<(String, String)>,
}

/// Row height of an HR table.
fn table_row_h(scale: Scale) -> f64 {
    scale.px(1.0) * 1.3
}

/// The height an HR table of `rows` rows needs (headings, rows, axis, its title and the
/// favours line).
pub fn hr_table_height(rows: usize, scale: Scale) -> u32 {
    (table_row_h(scale) * (rows as f64 + 1.5) + scale.font * 5.6) as u32
}

/// Draws `t` on `area`, the rows filling the height left above the axis.
pub(super) fn draw_hr_table<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &HrTable,
    scale: Scale,
) -> DResult {
    let f = scale.font;
    let (w, h) = area.dim_in_pixel();
    let style = scale.text(1.0);
    let head = scale.text(1.0).color(&GREY);
    let width = |s: &str| -> Result<i32, String> {
        Ok(area.estimate_text_size(s, &style).map_err(err)?.0 as i32)
    };
    let indent = f as i32;
    let pad = (f * 0.55) as i32;
    // Column widths, measured. A heading row (no estimate) may reach into the plot: it is
    // drawn on a white ground over the line at 1.
    let mut label_w = width(&t.columns[0])?;
    for r in t.rows.iter().filter(|r| r.estimate.is_some()) {
        label_w = label_w.max(width(&r.label)? + if r.indent { indent } else { 0 });
    }
    let n_cells = t.columns.len() - 1;
    let mut cell_w = vec![0i32; n_cells];
    for (j, cw) in cell_w.iter_mut().enumerate() {
        *cw = width(&t.columns[j + 1])?;
        for r in &t.rows {
            if let Some(c) = r.cells.get(j) {
                *cw = (*cw).max(width(c)?);
            }
        }
    }
    let right_w: i32 = cell_w.iter().map(|c| c + pad).sum();
    // The labels get what the text columns and a plot of 5 body sizes leave, at most 40% of
    // the page; longer labels are cut with "…".
    let plot_min = (5.0 * f) as i32;
    let room = w as i32 - right_w - plot_min - 3 * pad;
    let label_w = label_w.min(room.min((w as f64 * 0.4) as i32)).max(indent);
    let x_label = pad;
    let plot_l = x_label + label_w + pad;
    let plot_r = (w as i32 - right_w - pad).max(plot_l + (4.0 * f) as i32);
    // Rows: headings, then the rows; the axis and its texts under them.
    let below = (f * 5.6) as i32;
    // Rows share the height, up to half as tall again as their text needs.
    let row_h = ((h as f64 - below as f64) / (t.rows.len() as f64 + 1.5))
        .min(table_row_h(scale) * 1.5)
        .max(1.0);
    let y_of = |i: usize| -> i32 { (row_h * (i as f64 + 1.5)) as i32 };
    let center = Pos::new(HPos::Left, VPos::Center);
    area.draw(&Text::new(
        t.columns[0].clone(),
        (x_label, (row_h * 0.5) as i32),
        head.pos(center),
    ))
    .map_err(err)?;
    let mut x = plot_r + pad;
    let mut cell_x = Vec::with_capacity(n_cells);
    for (j, cw) in cell_w.iter().enumerate() {
        cell_x.push(x);
        area.draw(&Text::new(
            t.columns[j + 1].clone(),
            (x, (row_h * 0.5) as i32),
            head.pos(center),
        ))
        .map_err(err)?;
        x += cw + pad;
    }
    // The x range: every drawable HR, its finite CI limits, and 1.
    let (mut lo, mut hi) = (1.0f64, 1.0f64);
    for (hr, ci) in t.rows.iter().filter_map(HrRow::drawable) {
        for v in [hr, ci[0], ci[1]] {
            if v.is_finite() && v > 0.0 {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    let (x0, x1) = (lo.max(1e-3).ln() - 0.1, hi.min(1e3).ln() + 0.1);
    let px = |hr: f64| -> i32 {
        // ln(0) = −∞ and ln(∞) = ∞ clamp to the axis' ends.
        let v = if hr.is_nan() {
            x1
        } else {
            hr.ln().clamp(x0, x1)
        };
        plot_l + ((v - x0) / (x1 - x0) * (plot_r - plot_l) as f64) as i32
    };
    let top = (row_h * 1.0) as i32;
    let bottom = y_of(t.rows.len().saturating_sub(1)) + (row_h * 0.6) as i32;
    // HR = 1, dashed.
    let x_one = px(1.0);
    let dash = (f * 0.5) as i32;
    let mut y = top;
    while y < bottom {
        area.draw(&PathElement::new(
            vec![(x_one, y), (x_one, (y + dash).min(bottom))],
            GREY.stroke_width(scale.line),
        ))
        .map_err(err)?;
        y += dash * 2;
    }
    for (i, r) in t.rows.iter().enumerate() {
        let y = y_of(i);
        let lx = x_label + if r.indent { indent } else { 0 };
        // A heading may reach into the plot, up to the first text column; a row's label
        // stays in its column.
        let room = match r.estimate {
            None => cell_x.first().copied().unwrap_or(w as i32) - pad - lx,
            Some(_) => x_label + label_w - lx,
        };
        let label = fit_text(area, &r.label, &style, room.max(1) as u32)?;
        let label_style = if r.estimate.is_some() || !r.indent {
            style.clone()
        } else {
            head.clone()
        };
        if r.estimate.is_none() {
            let (tw, th) = area.estimate_text_size(&label, &label_style).map_err(err)?;
            let (tw, th) = (tw as i32, th as i32);
            area.draw(&Rectangle::new(
                [(lx, y - th / 2), (lx + tw + pad / 2, y + th / 2)],
                WHITE.filled(),
            ))
            .map_err(err)?;
        }
        area.draw(&Text::new(label, (lx, y), label_style.pos(center)))
            .map_err(err)?;
        for (j, c) in r.cells.iter().enumerate().take(n_cells) {
            area.draw(&Text::new(c.clone(), (cell_x[j], y), style.pos(center)))
                .map_err(err)?;
        }
        if let Some((hr, ci)) = r.drawable() {
            area.draw(&PathElement::new(
                vec![(px(ci[0]), y), (px(ci[1]), y)],
                r.color.stroke_width(scale.line + 1),
            ))
            .map_err(err)?;
            let s = (f * 0.3) as i32;
            let c = px(hr);
            area.draw(&Rectangle::new(
                [(c - s, y - s), (c + s, y + s)],
                r.color.filled(),
            ))
            .map_err(err)?;
        }
    }
    // The axis, its ticks and texts.
    let ya = bottom + (row_h * 0.2) as i32;
    area.draw(&PathElement::new(
        vec![(plot_l, ya), (plot_r, ya)],
        BLACK.stroke_width(scale.line),
    ))
    .map_err(err)?;
    let tick_style = scale.text(0.9).pos(Pos::new(HPos::Center, VPos::Top));
    // Ticks whose labels would touch the previous one's are left out (1 is always kept).
    let mut kept: Vec<(f64, i32, i32)> = Vec::new();
    let mut ticks: Vec<f64> = t.ticks.to_vec();
    ticks.sort_by(|a, b| ((a.ln()).abs()).total_cmp(&(b.ln()).abs()));
    for v in ticks.into_iter().filter(|v| v.ln() >= x0 && v.ln() <= x1) {
        let half = area
            .estimate_text_size(&format!("{v}"), &tick_style)
            .map_err(err)?
            .0 as i32
            / 2
            + (f * 0.3) as i32;
        let x = px(v);
        if kept.iter().all(|&(_, kx, kh)| (x - kx).abs() >= half + kh) {
            kept.push((v, x, half));
        }
    }
    for (v, x, _) in kept {
        area.draw(&PathElement::new(
            vec![(x, ya), (x, ya + (f * 0.35) as i32)],
            BLACK.stroke_width(scale.line),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            format!("{v}"),
            (x, ya + (f * 0.5) as i32),
            tick_style.clone(),
        ))
        .map_err(err)?;
    }
    let mid = (plot_l + plot_r) / 2;
    area.draw(&Text::new(
        t.x_desc.clone(),
        (mid, ya + (f * 1.8) as i32),
        scale.text(0.9).pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(err)?;
    if let Some((treated, control)) = &t.favours {
        // Either side of 1, each cut to the room it has on the page.
        let yf = ya + (f * 3.2) as i32;
        let gap = (f * 0.3) as i32;
        let style = scale.text(0.9);
        let left = fit_text(
            area,
            &format!("favours {treated}"),
            &style,
            (x_one - gap - pad).max(1) as u32,
        )?;
        let right = fit_text(
            area,
            &format!("favours {control}"),
            &style,
            (w as i32 - pad - x_one - gap).max(1) as u32,
        )?;
        area.draw(&Text::new(
            left,
            (x_one - gap, yf),
            style.pos(Pos::new(HPos::Right, VPos::Top)),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            right,
            (x_one + gap, yf),
            style.pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(err)?;
    }
    Ok(())
}
