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
