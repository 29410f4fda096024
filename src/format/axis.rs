//! Time-axis ticks shared by the window and exported figures, so the at-risk table columns
//! sit under the same times everywhere. Presentation only; no statistics.

/// Tick step for a time axis up to `max`: months in 1/2/3/6/12/24/48, else 1-2-5 × 10^k, at
/// most about 10 ticks.
pub fn time_step(max: f64, months: bool) -> f64 {
    if max.is_nan() || max <= 0.0 {
        return 1.0;
    }
    if months {
        for s in [1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 48.0] {
            if max / s <= 10.0 {
                return s;
            }
        }
    }
    let raw = max / 8.0;
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if raw <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

/// Tick positions 0, step, 2·step … ≤ max.
pub fn ticks(max: f64, step: f64) -> Vec<f64> {
    let n = (max / step).floor() as usize;
    (0..=n).map(|k| k as f64 * step).collect()
}
