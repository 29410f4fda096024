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
pub use km::{draw_km, km_extra_height, km_min_height};
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
        // The font bytes are egui's own, valid by construction. (plotters has no embedded
        // fonts on wasm32: the web build's figures measure text in the page, with the
        // browser's sans-serif.)
        #[cfg(not(target_arch = "wasm32"))]
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
    /// Body text (plotters' size: 1.24 × the em size its SVG writes).
    pub font: f64,
    /// Line width, never under 0.5 pt.
    pub line: u32,
    /// Grid lines: 0.5 pt.
    pub hair: u32,
    /// No text is smaller: 8 pt at the printed size.
    min_text: f64,
}

impl Scale {
    /// Body text ≥ 8 pt at the printed size and ≥ 1/45 of the height on screens; every
    /// text ≥ 8 pt, every line ≥ 0.5 pt. Proportional to `dpi`: the layout depends on the
    /// printed size only.
    pub fn new(height_px: u32, dpi: f64) -> Self {
        let pt = dpi / 72.0;
        // plotters writes `font-size = size / 1.24` to SVG: 8 pt em = 8 × 1.24 pt of size
        // (8.01: no rounding in a file's millimetres takes it under 8).
        let min_text = 8.01 * 1.24 * pt;
        let font = min_text.max(height_px as f64 / 45.0);
        let half_pt = (0.5 * pt).ceil() as u32;
        Scale {
            font,
            line: ((font / 8.0).round() as u32).max(2).max(half_pt),
            hair: half_pt.max(1),
            min_text,
        }
    }

    /// Text at `factor` × the body size, never under 8 pt.
    fn text(&self, factor: f64) -> TextStyle<'static> {
        (FONT, self.px(factor)).into_font().color(&BLACK)
    }

    /// The pixel size of text at `factor` × the body size (never under 8 pt).
    fn px(&self, factor: f64) -> f64 {
        (self.font * factor).max(self.min_text)
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

/// A page too narrow for side-by-side panels or an extra table column (a journal's single
/// column is; its full width is not).
pub fn narrow(width_px: u32, scale: Scale) -> bool {
    (width_px as f64) < scale.font * 40.0
}

/// The figures whose height follows their rows.
#[derive(Clone, Copy, Debug)]
pub enum RowsFigure {
    Forest,
    Summary,
    Predictors,
}

/// The height a figure of rows needs at `width_px`: its title, sample line and note as they
/// wrap at that width (measured by laying them out), and its rows (the predictors' table over
/// the residual plot when the page is narrow).
pub fn rows_figure_height(
    which: RowsFigure,
    report: &Report,
    endpoint: &str,
    width_px: u32,
    scale: Scale,
    demo: bool,
) -> u32 {
    let Ok(ep) = endpoint_of(report, endpoint) else {
        return 0;
    };
    let table = |rows: usize| forest::hr_table_height(rows, scale);
    let (texts, body) = match which {
        RowsFigure::Forest => (
            forest::forest_texts(report, ep),
            table(forest::forest_table(report, ep).rows.len()),
        ),
        RowsFigure::Summary => match &ep.sensitivity {
            Some(r) => (summary::summary_texts(report, ep, r), table(r.len())),
            None => return 0,
        },
        RowsFigure::Predictors => match &ep.cox_adjusted {
            Some(m) => {
                // Stacked on a narrow page, else side by side; the residual plot keeps a
                // readable height either way.
                let t = table(m.terms.len());
                let r = predictors::residual_height(width_px);
                let body = match narrow(width_px, scale) {
                    true => t + r,
                    false => t.max(r * 2 / 3),
                };
                (predictors::predictors_texts(report, ep, m), body)
            }
            None => return 0,
        },
    };
    let mut scratch = String::new();
    let root = SVGBackend::with_string(&mut scratch, (width_px.max(1), 10_000)).into_drawing_area();
    let page = page_text_height(&root, &texts.0, &texts.1, report, scale, demo).unwrap_or(0);
    page + body
}

/// The height of a page's header and note at `root`'s width.
fn page_text_height<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    note: &str,
    report: &Report,
    scale: Scale,
    demo: bool,
) -> Result<u32, String> {
    let header = draw_header(root, title, &sample_line(report), scale, demo)?;
    let (lines, _, _) = paragraph(root, note, 0.8, &GREY, scale)?;
    Ok(header + note_height(lines.len(), scale))
}

/// The height of a note of `lines` lines.
fn note_height(lines: usize, scale: Scale) -> u32 {
    (scale.px(0.8) * 1.2 * lines as f64 + scale.font * 0.6) as u32
}

/// `text` broken at spaces into lines no wider than `max_w` pixels in `style` (a word longer
/// than the line stays whole).
fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max_w: u32,
) -> Result<Vec<String>, String> {
    let width =
        |t: &str| -> Result<u32, String> { Ok(area.estimate_text_size(t, style).map_err(err)?.0) };
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if line.is_empty() || width(&candidate)? <= max_w {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    Ok(lines)
}

/// `text` cut to at most `max_w` pixels in `style`, ending in "…" when cut.
fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max_w: u32,
) -> Result<String, String> {
    let width =
        |t: &str| -> Result<u32, String> { Ok(area.estimate_text_size(t, style).map_err(err)?.0) };
    if width(text)? <= max_w {
        return Ok(text.to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    for keep in (1..chars.len()).rev() {
        let cut: String = chars[..keep].iter().collect::<String>() + "…";
        if width(&cut)? <= max_w {
            return Ok(cut);
        }
    }
    Ok("…".to_string())
}

/// A paragraph at `factor` × the body size in `color`, wrapped to `area`'s width less its
/// margins: its lines, their style and the step between them.
fn paragraph<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    factor: f64,
    color: &'static RGBColor,
    scale: Scale,
) -> Result<(Vec<String>, TextStyle<'static>, f64), String> {
    let style = scale.text(factor).color(color);
    let max_w = area.dim_in_pixel().0.saturating_sub(2 * scale.font as u32);
    Ok((
        wrap(area, text, &style, max_w)?,
        style,
        scale.px(factor) * 1.2,
    ))
}

/// Draws `lines` from `(x, y)` down, `step` pixels apart; returns the y under the last.
fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[String],
    (x, y): (i32, i32),
    step: f64,
    style: &TextStyle,
) -> Result<i32, String> {
    for (i, l) in lines.iter().enumerate() {
        area.draw(&Text::new(
            l.clone(),
            (x, y + (step * i as f64) as i32),
            style.clone(),
        ))
        .map_err(err)?;
    }
    Ok(y + (step * lines.len() as f64) as i32)
}

/// Title and the sample line under it, each wrapped to the page's width, and the demo mark
/// at the top right; returns the height they take.
fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    scale: Scale,
    demo: bool,
) -> Result<u32, String> {
    let f = scale.font;
    let (w, _) = root.dim_in_pixel();
    let mark = scale
        .text(0.85)
        .color(&WARN)
        .pos(Pos::new(HPos::Right, VPos::Top));
    let mark_w = if demo {
        root.estimate_text_size(crate::DEMO_LABEL, &mark)
            .map_err(err)?
            .0
            + f as u32
    } else {
        0
    };
    let title_style = scale.text(1.35);
    let sub_style = scale.text(0.9).color(&GREY);
    let full = w.saturating_sub(2 * f as u32);
    let title_lines = wrap(root, title, &title_style, full.saturating_sub(mark_w))?;
    let y = draw_lines(
        root,
        &title_lines,
        (f as i32, (f * 0.6) as i32),
        scale.px(1.35) * 1.15,
        &title_style,
    )?;
    let sub_lines = wrap(root, subtitle, &sub_style, full)?;
    let y = draw_lines(
        root,
        &sub_lines,
        (f as i32, y + (f * 0.35) as i32),
        scale.px(0.9) * 1.2,
        &sub_style,
    )?;
    if demo {
        root.draw(&Text::new(
            crate::DEMO_LABEL.to_string(),
            (w as i32 - f as i32, (f * 0.6) as i32),
            mark,
        ))
        .map_err(err)?;
    }
    Ok((y as f64 + f * 0.5) as u32)
}

/// The header drawn on `root`; returns the area under it.
fn under_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    report: &Report,
    scale: Scale,
    demo: bool,
) -> Result<DrawingArea<DB, Shift>, String> {
    let h = draw_header(root, title, &sample_line(report), scale, demo)?;
    Ok(root.split_vertically(h).1)
}

/// The report's endpoint, or a message naming the one asked for.
fn endpoint_of<'a>(report: &'a Report, endpoint: &str) -> Result<&'a EndpointReport, String> {
    report
        .endpoints
        .get(endpoint)
        .ok_or_else(|| format!("no endpoint '{endpoint}' in the report"))
}

/// A page with the title and sample line on top and a grey note at the bottom (both wrapped
/// to the width); returns the area between them for the chart.
fn page_with_note<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    note: &str,
    report: &Report,
    scale: Scale,
    demo: bool,
) -> Result<DrawingArea<DB, Shift>, String> {
    let f = scale.font;
    let rest = under_header(root, title, report, scale, demo)?;
    let (lines, style, step) = paragraph(root, note, 0.8, &GREY, scale)?;
    let note_h = note_height(lines.len(), scale);
    let rest_h = rest.dim_in_pixel().1;
    let (chart_area, footer) = rest.split_vertically(rest_h.saturating_sub(note_h));
    draw_lines(&footer, &lines, (f as i32, (f * 0.3) as i32), step, &style)?;
    Ok(chart_area)
}

/// Draws `text` on `area` at the pixel of a chart point `(px, py)` (from `backend_coord`),
/// shifted by `dy` pixels.
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
