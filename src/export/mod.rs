//! Export: figures (SVG, PNG at slide and journal sizes), tables (CSV), the report as JSON
//! ([`json`]) and the `report` folder (figures, tables, summary.json, report.md). Everything
//! is drawn from a [`Report`]; writes are atomic and never touch the input file.

mod encode;
pub mod figure;
pub mod json;
mod model_tables;
pub mod rcode;
mod size;
mod tables;

use std::path::Path;

use plotters::prelude::*;

use crate::analysis::{Report, RiskTable, Spec};
use crate::cohort::Cohort;
use crate::spec_file::{write_atomic, WriteError};

/// Why a figure or the report folder could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The figure cannot be drawn from this report (what it lacks, e.g. the forest plot).
    #[error("{0}")]
    Figure(String),
    #[error("cannot encode the PNG: {0}")]
    Png(String),
    #[error("cannot encode the figure: {0}")]
    Encode(String),
    #[error("cannot write the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
    // The I/O error is part of the message (not a `#[source]`), so it is printed once.
    #[error("{folder}: cannot create: {error}")]
    Folder {
        folder: String,
        error: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] WriteError),
}

pub use figure::Scale;
pub use model_tables::{cox_csv, weighting_csv};
pub use size::{FigureSize, Format, SIZE_NAMES};
pub use tables::*;

/// Which figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Figure {
    /// Kaplan–Meier curves of an endpoint, with this table under them (the KMunicate one
    /// makes the figure taller than its [`FigureSize`] by its extra rows).
    Km(String, RiskTable),
    /// DCR / ORR bars.
    Response,
    /// Love plot; `after` = the report is matched and shows after-matching SMDs too.
    Balance,
    /// Subgroup forest plot of an endpoint (the report must hold the forest).
    Forest(String),
    /// Caliper sensitivity of an endpoint (the report must hold the sweep).
    Sweep(String),
    /// The multivariable Cox model of an endpoint (the report must hold it: `--adjust`).
    Predictors(String),
    /// The HR by adjustment of an endpoint (the report must hold it: `--sensitivity`).
    Summary(String),
}

fn draw<DB: DrawingBackend>(
    area: &plotters::drawing::DrawingArea<DB, plotters::coord::Shift>,
    fig: &Figure,
    report: &Report,
    balance_from: Option<&Report>,
    scale: Scale,
    demo: bool,
) -> Result<(), String> {
    match fig {
        Figure::Km(ep, table) => figure::draw_km(area, report, ep, *table, scale, demo),
        Figure::Response => figure::draw_response(area, report, scale, demo),
        Figure::Forest(ep) => figure::draw_forest(area, report, ep, scale, demo),
        Figure::Sweep(ep) => figure::draw_sweep(area, report, ep, scale, demo),
        Figure::Predictors(ep) => figure::draw_predictors(area, report, ep, scale, demo),
        Figure::Summary(ep) => figure::draw_summary(area, report, ep, scale, demo),
        Figure::Balance
            if report.weighting.is_some()
                || balance_from.is_some_and(|b| b.weighting.is_some()) =>
        {
            let w = report
                .weighting
                .as_ref()
                .or_else(|| balance_from.and_then(|b| b.weighting.as_ref()))
                .ok_or("no weighting")?;
            let rows: Vec<figure::Smd> = w
                .balance
                .iter()
                .map(|b| figure::Smd {
                    covariate: b.covariate.clone(),
                    smd_before: b.smd_before,
                    smd_after: b.smd_after,
                })
                .collect();
            let love = figure::Love {
                title: "Covariate balance before and after weighting",
                axis: "|standardized mean difference| (unweighted SD)",
                legend: "open: before weighting · filled: after weighting · dashed: 0.1",
                after: true,
            };
            figure::draw_love_rows(area, report, &rows, &love, scale, demo)
        }
        Figure::Balance => {
            let src = balance_from.unwrap_or(report);
            let m = src
                .matching
                .as_ref()
                .ok_or("the balance figure needs a propensity model (matching covariates)")?;
            figure::draw_love(area, src, m, report.matching.is_some(), scale, demo)
        }
    }
}

/// The figure as SVG text (labels and numbers are real `<text>` elements), sized in
/// millimetres (the pixel canvas in its `viewBox`).
pub fn render_svg(
    fig: &Figure,
    report: &Report,
    balance_from: Option<&Report>,
    size: FigureSize,
    demo: bool,
) -> Result<String, ExportError> {
    let (w, h) = canvas_size(fig, report, size, demo);
    let out = plotters_svg(fig, report, balance_from, size, demo, (w, h))?;
    encode::svg_in_mm(out, w, h, size.dpi).map_err(ExportError::Encode)
}

/// The figure as plotters draws it in SVG, on its pixel canvas of (w, h) ([`canvas_size`]).
fn plotters_svg(
    fig: &Figure,
    report: &Report,
    balance_from: Option<&Report>,
    size: FigureSize,
    demo: bool,
    (w, h): (u32, u32),
) -> Result<String, ExportError> {
    let mut out = String::new();
    {
        let backend = SVGBackend::with_string(&mut out, (w, h));
        let area = backend.into_drawing_area();
        draw(&area, fig, report, balance_from, size.scale(), demo).map_err(ExportError::Figure)?;
    }
    Ok(out)
}

/// The figure's pixels (RGB) and their width and height.
#[cfg(not(target_arch = "wasm32"))]
fn render_rgb(
    fig: &Figure,
    report: &Report,
    balance_from: Option<&Report>,
    size: FigureSize,
    demo: bool,
) -> Result<(Vec<u8>, u32, u32), ExportError> {
    let (w, h) = canvas_size(fig, report, size, demo);
    let mut rgb = vec![255u8; (w as usize) * (h as usize) * 3];
    {
        let backend = BitMapBackend::with_buffer(&mut rgb, (w, h));
        let area = backend.into_drawing_area();
        draw(&area, fig, report, balance_from, size.scale(), demo).map_err(ExportError::Figure)?;
    }
    Ok((rgb, w, h))
}

/// The figure's pixels (RGB) and their width and height, in the web build: its SVG drawn by
/// resvg (plotters cannot draw text into pixels in the browser).
#[cfg(target_arch = "wasm32")]
fn render_rgb(
    fig: &Figure,
    report: &Report,
    balance_from: Option<&Report>,
    size: FigureSize,
    demo: bool,
) -> Result<(Vec<u8>, u32, u32), ExportError> {
    // A tab has far less memory than a desktop program: 40 megapixels (an A4 page at 600
    // dpi) at most, where the desktop draws 100.
    let (w, h) = canvas_size(fig, report, size, demo);
    if u64::from(w) * u64::from(h) > 40_000_000 {
        return Err(ExportError::Encode(format!(
            "a {w} × {h} pixel figure is too large to draw in the browser: choose a smaller size or resolution"
        )));
    }
    let out = plotters_svg(fig, report, balance_from, size, demo, (w, h))?;
    let rgb = encode::rasterize(&out, w, h).map_err(ExportError::Encode)?;
    Ok((rgb, w, h))
}

/// The figure as PNG bytes (RGB, with its resolution recorded in the pHYs chunk).
pub fn render_png(
    fig: &Figure,
    report: &Report,
    balance_from: Option<&Report>,
    size: FigureSize,
    demo: bool,
) -> Result<Vec<u8>, ExportError> {
    let (rgb, w, h) = render_rgb(fig, report, balance_from, size, demo)?;
    encode::png(&rgb, w, h, size.dpi).map_err(ExportError::Png)
}

/// The figure in `format`.
pub fn render(
    fig: &Figure,
    report: &Report,
    balance_from: Option<&Report>,
    size: FigureSize,
    demo: bool,
    format: Format,
) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Svg => render_svg(fig, report, balance_from, size, demo).map(String::into_bytes),
        Format::Png => render_png(fig, report, balance_from, size, demo),
        Format::Tiff => {
            let (rgb, w, h) = render_rgb(fig, report, balance_from, size, demo)?;
            encode::tiff(&rgb, w, h, size.dpi).map_err(ExportError::Encode)
        }
        Format::Pdf => {
            let svg = render_svg(fig, report, balance_from, size, demo)?;
            encode::pdf(&svg).map_err(ExportError::Encode)
        }
    }
}

/// The figure's pixel size: `size`, and for a Kaplan–Meier figure with the KMunicate table
/// the height its extra rows take (type sizes stay those of `size`, and so does the chart).
fn canvas_size(fig: &Figure, report: &Report, size: FigureSize, demo: bool) -> (u32, u32) {
    let scale = size.scale();
    // Figures of rows (hazard-ratio tables) are as tall as their rows need.
    let rows = |which, name: &str| {
        figure::rows_figure_height(which, report, name, size.width_px, scale, demo)
    };
    let height = match fig {
        Figure::Km(name, t) => {
            let h = size.height_px + figure::km_extra_height(report, name, *t, scale);
            // On a journal page the chart keeps a readable height however long the header.
            let least = match size.fit_height {
                true => figure::km_min_height(report, name, *t, size.width_px, scale, demo),
                false => 0,
            };
            return (size.width_px, h.max(least));
        }
        Figure::Forest(name) => rows(figure::RowsFigure::Forest, name),
        Figure::Summary(name) => rows(figure::RowsFigure::Summary, name),
        Figure::Predictors(name) => rows(figure::RowsFigure::Predictors, name),
        _ => return (size.width_px, size.height_px),
    };
    if size.fit_height {
        (size.width_px, height)
    } else {
        (size.width_px, height.max(size.height_px))
    }
}

/// Everything `report` writes, in order (for report.md and tests).
#[derive(Clone, Debug, Default)]
pub struct Written {
    pub figures: Vec<String>,
    pub tables: Vec<String>,
}

/// What `report` writes from: the analyses (made by the caller: export runs none) and how.
pub struct ReportJob<'a> {
    /// The output folder (created if needed).
    pub dir: &'a Path,
    pub cohort: &'a Cohort,
    pub spec: &'a Spec,
    pub report: &'a Report,
    /// The same analysis without matching, when the report is matched.
    pub unmatched: Option<&'a Report>,
    /// For an unmatched report, the analysis whose SMDs the balance figure draws
    /// ([`crate::analysis::balance_spec`]).
    pub balance: Option<&'a Report>,
    /// The figure formats, and the size all figures are laid out for.
    pub formats: &'a [Format],
    pub size: FigureSize,
    /// The bundled demo cohort: figures carry a "synthetic demo data" mark.
    pub demo: bool,
    /// Replace files that exist.
    pub force: bool,
}

/// Writes the report folder: figures, tables, summary.json (the `analyze` JSON), report.md.
pub fn write_report(job: &ReportJob) -> Result<Written, ExportError> {
    let ReportJob {
        dir,
        cohort,
        spec,
        report,
        unmatched,
        balance,
        formats,
        size,
        demo,
        force,
    } = *job;
    std::fs::create_dir_all(dir).map_err(|error| ExportError::Folder {
        folder: dir.display().to_string(),
        error,
    })?;
    let mut written = Written::default();
    let balance_src = balance;
    let mut figures: Vec<(String, Figure, &Report)> = Vec::new();
    for (name, _) in report.endpoints.iter() {
        let km = Figure::Km(name.clone(), spec.risk_table);
        figures.push((format!("km_{name}"), km.clone(), report));
        if let Some(u) = unmatched {
            figures.push((format!("km_{name}_unmatched"), km, u));
        }
    }
    for (name, ep) in report.endpoints.iter() {
        if ep.forest.is_some() {
            figures.push((
                format!("forest_{name}"),
                Figure::Forest(name.clone()),
                report,
            ));
        }
        if ep.sensitivity.is_some() {
            figures.push((
                format!("sensitivity_{name}"),
                Figure::Summary(name.clone()),
                report,
            ));
        }
        // Not estimable: cox_<endpoint>.csv and report.md say why; there is no figure to draw.
        if ep
            .cox_adjusted
            .as_ref()
            .is_some_and(|m| m.not_estimable.is_none())
        {
            figures.push((
                format!("cox_{name}"),
                Figure::Predictors(name.clone()),
                report,
            ));
        }
        if ep.caliper_sweep.is_some() {
            figures.push((
                format!("caliper_sweep_{name}"),
                Figure::Sweep(name.clone()),
                report,
            ));
        }
    }
    if report.response.is_some() {
        figures.push(("response".to_string(), Figure::Response, report));
    }
    if report.matching.is_some() || report.weighting.is_some() || balance_src.is_some() {
        figures.push(("balance".to_string(), Figure::Balance, report));
    }
    for (name, fig, rep) in &figures {
        for &format in formats {
            let bytes = render(fig, rep, balance_src, size, demo, format)?;
            let f = format!("{name}.{}", format.ext());
            write_atomic(&dir.join(&f), &bytes, force)?;
            written.figures.push(f);
        }
    }
    for (name, text) in tables::all_tables(cohort, report) {
        write_atomic(&dir.join(&name), text.as_bytes(), force)?;
        written.tables.push(name);
    }
    let json = json::to_string(report)?;
    write_atomic(&dir.join("summary.json"), json.as_bytes(), force)?;
    let md = tables::report_markdown(report, spec, &written);
    write_atomic(&dir.join("report.md"), md.as_bytes(), force)?;
    Ok(written)
}
