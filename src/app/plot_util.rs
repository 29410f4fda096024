//! Drawing helpers: step curves, decimation to what the screen can show, axis ticks, number
//! formatting. Presentation only; no statistics.

use crate::stats::km::KmCurve;

/// The x, y points of a Kaplan–Meier step curve starting at (0, 1).
pub fn step_points(time: &[f64], value: &[f64], start: f64) -> Vec<[f64; 2]> {
    let mut pts = Vec::with_capacity(2 * time.len() + 1);
    let mut prev = start;
    pts.push([0.0, start]);
    for (&t, &v) in time.iter().zip(value) {
        if v.is_nan() {
            continue;
        }
        pts.push([t, prev]);
        pts.push([t, v]);
        prev = v;
    }
    pts
}

/// Indices of curve rows to draw: every row when few, else at most one per `bins` of the time
/// axis (the last row of each bin, which carries the bin's lowest survival) — a 10^5-step
/// curve has only a few thousand visible steps.
pub fn visible_rows(time: &[f64], bins: usize) -> Vec<usize> {
    if time.len() <= 2 * bins {
        return (0..time.len()).collect();
    }
    let t_max = time.last().copied().unwrap_or(0.0).max(f64::MIN_POSITIVE);
    let mut rows = Vec::with_capacity(bins + 1);
    let mut last_bin = usize::MAX;
    for i in 0..time.len() {
        let bin = ((time[i] / t_max) * bins as f64) as usize;
        let next_bin = time
            .get(i + 1)
            .map(|&t| ((t / t_max) * bins as f64) as usize);
        if next_bin != Some(bin) || i + 1 == time.len() {
            if bin != last_bin || rows.is_empty() {
                rows.push(i);
            }
            last_bin = bin;
        }
    }
    rows
}

/// A decimated copy of a curve's columns used for drawing.
pub struct DrawCurve {
    pub time: Vec<f64>,
    pub surv: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// Times with at least one censoring (drawn as ticks).
    pub censor_time: Vec<f64>,
    pub censor_surv: Vec<f64>,
}

pub fn draw_curve(km: &KmCurve, bins: usize) -> DrawCurve {
    let rows = visible_rows(&km.time, bins);
    let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let censor_rows: Vec<usize> = (0..km.time.len())
        .filter(|&i| km.n_censor[i] > 0.0)
        .collect();
    let censor_rows: Vec<usize> = if censor_rows.len() > 4 * bins {
        let keep = visible_rows(
            &censor_rows.iter().map(|&i| km.time[i]).collect::<Vec<_>>(),
            bins,
        );
        keep.iter().map(|&k| censor_rows[k]).collect()
    } else {
        censor_rows
    };
    DrawCurve {
        time: pick(&km.time),
        surv: pick(&km.surv),
        lower: pick(&km.lower),
        upper: pick(&km.upper),
        censor_time: censor_rows.iter().map(|&i| km.time[i]).collect(),
        censor_surv: censor_rows.iter().map(|&i| km.surv[i]).collect(),
    }
}

pub use crate::format::axis::{ticks, time_step};
pub use crate::format::{est_ci, num, p_value, p_value_parts, pct};

/// A plot whose y axis names rows: `labels[0]` at the top (y = n) down to y = 1.
pub fn row_axis<'a>(plot: egui_plot::Plot<'a>, labels: Vec<String>) -> egui_plot::Plot<'a> {
    let n = labels.len();
    plot.default_y_bounds(0.3, n as f64 + 0.7)
        .y_grid_spacer(move |_| {
            (1..=n)
                .map(|k| egui_plot::GridMark {
                    value: k as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .y_axis_formatter(move |m, _| {
            let i = (n as f64 - m.value).round() as usize;
            labels.get(i).cloned().unwrap_or_default()
        })
}

/// A forest plot's x axis: hazard ratios on a log scale, marks at `marks` (`step` tunes how
/// densely egui_plot labels them), and the dashed line at HR = 1 drawn by [`hr_one_line`].
pub fn log_hr_axis<'a>(
    plot: egui_plot::Plot<'a>,
    marks: &'static [f64],
    step: f64,
) -> egui_plot::Plot<'a> {
    plot.allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_label("hazard ratio (log scale)")
        .x_axis_formatter(|m, _| format!("{}", (m.value.exp() * 100.0).round() / 100.0))
        .x_grid_spacer(move |_| {
            marks
                .iter()
                .map(|v| egui_plot::GridMark {
                    value: v.ln(),
                    step_size: step,
                })
                .collect()
        })
}

/// The dashed vertical line at HR = 1.
pub fn hr_one_line(pui: &mut egui_plot::PlotUi) {
    pui.vline(
        egui_plot::VLine::new("HR = 1", 0.0)
            .color(eframe::egui::Color32::GRAY)
            .style(egui_plot::LineStyle::dashed_loose()),
    );
}

/// One forest row at height `y`: the CI as a line, the HR as a square (log scale).
pub fn hr_row(
    pui: &mut egui_plot::PlotUi,
    name: &str,
    y: f64,
    hr: f64,
    ci: [f64; 2],
    color: eframe::egui::Color32,
    radius: f32,
) {
    pui.line(
        egui_plot::Line::new("", vec![[ci[0].ln(), y], [ci[1].ln(), y]])
            .color(color)
            .width(2.0)
            .allow_hover(false),
    );
    pui.points(
        egui_plot::Points::new(name, vec![[hr.ln(), y]])
            .shape(egui_plot::MarkerShape::Square)
            .radius(radius)
            .color(color),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_keep_their_digits() {
        assert_eq!(p_value(0.0123), "0.012");
        assert_eq!(p_value(0.0), "< 1e−300");
        assert_eq!(p_value(1e-310), "< 1e−300");
        assert_eq!(crate::format::p_text(1e-310), "< 10^-300");
        assert_eq!(crate::format::p_text(0.0), "< 10^-300");
        assert_eq!(p_value(3.2e-6), "3.2e−6");
        assert_eq!(
            p_value_parts(3.2e-6),
            ("3.2 × 10".to_string(), Some("−6".to_string()))
        );
    }

    #[test]
    fn decimation_keeps_ends() {
        let t: Vec<f64> = (1..=100_000).map(|i| i as f64).collect();
        let rows = visible_rows(&t, 1000);
        assert!(rows.len() <= 1001);
        assert_eq!(*rows.last().unwrap(), 99_999);
    }
}
