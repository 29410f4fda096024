//! The response figure: DCR and ORR per arm with Clopper–Pearson whiskers and Fisher's p.

use super::*;

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
    let chart_area = under_header(root, "Best response by arm", report, scale, demo)?;
    // The arms' colours, then Fisher's test, over the chart.
    // The key wraps to a new line when the next arm would pass the page's edge.
    let (cw, _) = chart_area.dim_in_pixel();
    let (mut x, mut y) = (f as i32, 0);
    let s = (f * 0.35) as i32;
    let line_h = (scale.px(1.0) * 1.3) as i32;
    for (k, (arm, _)) in resp.arms.iter().enumerate() {
        let color = arm_color(k);
        let style = scale.text(1.0).color(&color);
        let name = fit_text(
            &chart_area,
            arm,
            &style,
            cw.saturating_sub(2 * f as u32 + 3 * s as u32),
        )?;
        let w = 3 * s + chart_area.estimate_text_size(&name, &style).map_err(err)?.0 as i32;
        if x > f as i32 && x + w > cw as i32 - f as i32 {
            x = f as i32;
            y += line_h;
        }
        let mid = y + (scale.px(1.0) * 0.5) as i32;
        chart_area
            .draw(&Rectangle::new(
                [(x, mid - s), (x + 2 * s, mid + s)],
                color.filled(),
            ))
            .map_err(err)?;
        chart_area
            .draw(&Text::new(name, (x + 3 * s, y), style.clone()))
            .map_err(err)?;
        x += w + f as i32;
    }
    let p_line = format!(
        "Fisher's exact test: DCR p = {}, ORR p = {}",
        p_text(resp.dcr_p_value),
        p_text(resp.orr_p_value)
    );
    let (lines, style, step) = paragraph(&chart_area, &p_line, 0.9, &BLACK, scale)?;
    let below = draw_lines(&chart_area, &lines, (f as i32, y + line_h), step, &style)?;
    let (_, chart_area) = chart_area.split_vertically(below as u32);
    let mut chart = ChartBuilder::on(&chart_area)
        .margin((f * 0.8) as u32)
        .x_label_area_size((f * 3.2) as u32)
        .y_label_area_size((f * 4.0) as u32)
        .build_cartesian_2d(-0.6f64..4.6f64, 0.0f64..100.0f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .axis_style(BLACK.stroke_width(scale.hair))
        .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD).stroke_width(scale.hair))
        .disable_x_mesh()
        .light_line_style(WHITE.stroke_width(scale.hair))
        .x_labels(0)
        .y_labels(11)
        .y_label_formatter(&|v| format!("{v:.0}%"))
        .y_desc("% of evaluable patients")
        .label_style(scale.text(0.9))
        .axis_desc_style(scale.text(1.0))
        .draw()
        .map_err(err)?;
    let mut labels = Vec::new();
    let mut groups = Vec::new();
    for (k, (_, a)) in resp.arms.iter().enumerate() {
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
            labels.push((x, format!("{:.0}%", 100.0 * v), k));
            if k == 0 {
                groups.push((x + 0.5 * (resp.arms.0.len() as f64 - 1.0), name));
            }
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
    for (x, name) in groups {
        text_at(
            &chart_area,
            name.to_string(),
            chart.backend_coord(&(x, 0.0)),
            (f * 1.5) as i32,
            scale.text(1.0).pos(Pos::new(HPos::Center, VPos::Top)),
        )?;
    }
    root.present().map_err(err)
}
