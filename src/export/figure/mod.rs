//! Figures for slides and papers, drawn with plotters from a [`Report`]: the same content as
//! the window, laid out for print (white background, black text, sizes in points).

mod forest;
mod km;
mod love;
mod predictors;
mod response;
mod summary;
mod sweep;

pub use forest::draw_forest;
pub use km::{draw_km, km_extra_height};
pub use love::{draw_love, draw_love_rows, Love, Smd};
pub use predictors::draw_predictors;
pub use response::draw_response;
pub use summary::draw_summary;
pub use sweep::draw_sweep;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::analysis::{EndpointReport, MatchingReport, Report};
use crate::format::nr;
pub use crate::format::p_text;

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
        // What was matched on travels with the figure (it may be shown without the methods).
        Some(m) => format!(
            "propensity-matched sample (1:{}{} on {}; {} caliper {} SD; {})",
            m.ratio,
            if m.replace { " with replacement" } else { "" },
            m.covariates.join(", "),
            m.caliper_scale,
            m.caliper,
            m.n_matched.joined(", ")
        ),
        None => match &report.weighting {
            Some(w) => format!(
                "{}-weighted sample on {} (n = {}; effective n {})",
                w.describe(),
                w.covariates.join(", "),
                w.n,
                w.weights
                    .ess
                    .iter()
                    .map(|(k, v)| format!("{k} {v:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "unmatched sample".to_string(),
        },
    };
    let sub = if report.sample.subgroup.is_empty() {
        "all patients".to_string()
    } else {
        format!("subgroup: {}", report.sample.subgroup.join(", "))
    };
    format!("{sample} · {sub}")
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
