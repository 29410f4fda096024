//! Export: figures (SVG, PNG at slide and journal sizes), tables (CSV), and the `report`
//! folder (figures, tables, summary.json, report.md). Everything is drawn from a [`Report`];
//! writes are atomic and never touch the input file.

pub mod figure;
mod model_tables;
pub mod rcode;
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
pub use tables::*;

/// A figure's pixel size and resolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FigureSize {
    pub width_px: u32,
    pub height_px: u32,
    pub dpi: f64,
}

impl FigureSize {
    /// Slide 16:9 (1920 × 1080).
    pub const SLIDE_16_9: FigureSize = FigureSize {
        width_px: 1920,
        height_px: 1080,
        dpi: 144.0,
    };
    /// Slide 4:3 (1440 × 1080).
    pub const SLIDE_4_3: FigureSize = FigureSize {
        width_px: 1440,
        height_px: 1080,
        dpi: 144.0,
    };

    /// A journal column (`width_mm` wide, 4:3.2 aspect) at `dpi`.
    pub fn journal(width_mm: f64, dpi: f64) -> FigureSize {
        let w = (width_mm / 25.4 * dpi).round() as u32;
        FigureSize {
            width_px: w,
            height_px: (w as f64 * 0.8).round() as u32,
            dpi,
        }
    }

    /// Single column (85 mm).
    pub fn single_column(dpi: f64) -> FigureSize {
        Self::journal(85.0, dpi)
    }

    /// Double column (180 mm).
    pub fn double_column(dpi: f64) -> FigureSize {
        Self::journal(180.0, dpi)
    }

    /// Parses "slide", "slide43", "single300", "single600", "double300", "double600" or "WxH".
    pub fn parse(s: &str) -> Option<FigureSize> {
        Some(match s {
            "slide" | "slide169" => Self::SLIDE_16_9,
            "slide43" => Self::SLIDE_4_3,
            "single300" => Self::single_column(300.0),
            "single600" => Self::single_column(600.0),
            "double300" => Self::double_column(300.0),
            "double600" => Self::double_column(600.0),
            other => {
                let (w, h) = other.split_once('x')?;
                let (w, h): (u32, u32) = (w.parse().ok()?, h.parse().ok()?);
                if !(200..=20_000).contains(&w) || !(200..=20_000).contains(&h) {
                    return None;
                }
                FigureSize {
                    width_px: w,
                    height_px: h,
                    dpi: 144.0,
                }
            }
        })
    }

    fn scale(&self) -> Scale {
        Scale::new(self.height_px, self.dpi)
    }
}

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

/// The figure as SVG text (labels and numbers are real `<text>` elements).
pub fn render_svg(
    fig: &Figure,
    report: &Report,
    balance_from: Option<&Report>,
    size: FigureSize,
    demo: bool,
) -> Result<String, ExportError> {
    let mut out = String::new();
    {
        let backend = SVGBackend::with_string(&mut out, canvas_size(fig, report, size));
        let area = backend.into_drawing_area();
        draw(&area, fig, report, balance_from, size.scale(), demo).map_err(ExportError::Figure)?;
    }
    Ok(out)
}

/// The figure as PNG bytes (RGB, with its resolution recorded in the pHYs chunk).
pub fn render_png(
    fig: &Figure,
    report: &Report,
    balance_from: Option<&Report>,
    size: FigureSize,
    demo: bool,
) -> Result<Vec<u8>, ExportError> {
    let (w, h) = canvas_size(fig, report, size);
    let mut rgb = vec![255u8; (w as usize) * (h as usize) * 3];
    {
        let backend = BitMapBackend::with_buffer(&mut rgb, (w, h));
        let area = backend.into_drawing_area();
        draw(&area, fig, report, balance_from, size.scale(), demo).map_err(ExportError::Figure)?;
    }
    encode_png(&rgb, w, h, size.dpi).map_err(ExportError::Png)
}

/// The figure's pixel size: `size`, and for a Kaplan–Meier figure with the KMunicate table
/// the height its extra rows take (type sizes stay those of `size`, and so does the chart).
fn canvas_size(fig: &Figure, report: &Report, size: FigureSize) -> (u32, u32) {
    let extra = match fig {
        Figure::Km(ep, table) => figure::km_extra_height(report, ep, *table, size.scale()),
        _ => 0,
    };
    (size.width_px, size.height_px + extra)
}

fn encode_png(rgb: &[u8], w: u32, h: u32, dpi: f64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let ppm = (dpi / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Formats of the `report` folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Formats {
    pub svg: bool,
    pub png: bool,
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
    pub formats: Formats,
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
        demo,
        force,
    } = *job;
    std::fs::create_dir_all(dir).map_err(|error| ExportError::Folder {
        folder: dir.display().to_string(),
        error,
    })?;
    let mut written = Written::default();
    let size = FigureSize::SLIDE_16_9;
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
        if formats.svg {
            let svg = render_svg(fig, rep, balance_src, size, demo)?;
            let f = format!("{name}.svg");
            write_atomic(&dir.join(&f), svg.as_bytes(), force)?;
            written.figures.push(f);
        }
        if formats.png {
            let png = render_png(fig, rep, balance_src, size, demo)?;
            let f = format!("{name}.png");
            write_atomic(&dir.join(&f), &png, force)?;
            written.figures.push(f);
        }
    }
    for (name, text) in tables::all_tables(cohort, report) {
        write_atomic(&dir.join(&name), text.as_bytes(), force)?;
        written.tables.push(name);
    }
    let json = serde_json::to_string_pretty(report)?;
    write_atomic(&dir.join("summary.json"), json.as_bytes(), force)?;
    let md = tables::report_markdown(report, spec, &written);
    write_atomic(&dir.join("report.md"), md.as_bytes(), force)?;
    Ok(written)
}
