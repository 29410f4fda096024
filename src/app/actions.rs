//! What the user asks for from the menu and the keyboard: open files and specs, save the
//! spec, export or copy the current figure, show the analysis as R code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{App, SampleView, View};
use crate::analysis::Spec;

/// Decodes a PNG to (width, height, RGBA bytes).
pub(super) fn decode_png_rgba(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .map_err(|e| e.to_string())?;
    let size = reader.output_buffer_size().ok_or("PNG too large")?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let rgb = &buf[..info.buffer_size()];
    let rgba = match info.color_type {
        png::ColorType::Rgba => rgb.to_vec(),
        png::ColorType::Rgb => rgb
            .chunks(3)
            .flat_map(|c| [c[0], c[1], c[2], 255])
            .collect(),
        other => return Err(format!("unexpected PNG colour type {other:?}")),
    };
    Ok((info.width, info.height, rgba))
}

impl App {
    pub fn open_dialog(&mut self) {
        if let Some(path) = rfd::FileDialog::new()
            .add_filter(
                "Cohort (CSV, Excel, OpenDocument, Parquet)",
                &["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "ods", "parquet"],
            )
            .add_filter("All files", &["*"])
            .pick_file()
        {
            self.open_file(&path);
        }
    }

    /// The spec of what the window shows (matched when matching is on).
    pub fn current_spec(&self) -> Spec {
        let spec = self
            .settings
            .matched_spec()
            .unwrap_or_else(|| self.settings.unmatched_spec());
        // The model's covariates are the user's whichever view is shown.
        Spec {
            adjust: self.settings.spec.adjust.clone(),
            ..spec
        }
    }

    pub(super) fn cohort_path(&self) -> Option<PathBuf> {
        (!self.loaded.is_demo).then(|| PathBuf::from(&self.loaded.label))
    }

    /// Saves the analysis as a TOML spec file (the native dialog confirms overwriting).
    pub fn save_spec_dialog(&mut self) {
        let Some(path) = rfd::FileDialog::new()
            .add_filter("Analysis spec (TOML)", &["toml"])
            .set_file_name("analysis.toml")
            .save_file()
        else {
            return;
        };
        self.save_spec(&path);
    }

    pub fn save_spec(&mut self, path: &Path) {
        let file = crate::spec_file::SpecFile::new(self.current_spec(), self.cohort_path());
        if let Err(e) = file.save(path, true) {
            self.error = Some(e.to_string());
        }
    }

    pub fn open_spec_dialog(&mut self) {
        if let Some(path) = rfd::FileDialog::new()
            .add_filter("Analysis spec (TOML)", &["toml"])
            .pick_file()
        {
            self.open_spec(&path);
        }
    }

    /// Loads a spec file: its cohort file (when it names one) and its settings.
    pub fn open_spec(&mut self, path: &Path) {
        match crate::spec_file::SpecFile::load(path) {
            Ok(f) => {
                let warnings = f.warnings();
                if !warnings.is_empty() {
                    self.error = Some(format!("{}: {}", path.display(), warnings.join("; ")));
                }
                if let Some(file) = &f.file {
                    self.open_file_with(file, f.spec.load_options());
                }
                // A spec without matching keeps the window's matching settings, switched off.
                self.settings.weighting_on = f.spec.weighting.is_some();
                self.settings.matching_on = f.spec.matching.is_some();
                let kept = self.settings.matching().clone();
                let kept_weights = self.settings.weighting().clone();
                let kept_adjust = self.settings.spec.adjust.clone();
                self.settings.spec = f.spec;
                if self.settings.spec.adjust.is_empty() {
                    self.settings.spec.adjust = kept_adjust;
                }
                self.settings.spec.matching.get_or_insert(kept);
                self.settings.spec.weighting.get_or_insert(kept_weights);
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// Exports the current view as a figure file in `format`, at the size and resolution
    /// last chosen (remembered, with the format, in the settings).
    pub fn export_figure(&mut self, format: crate::export::Format) {
        self.settings.export.format = format;
        let size = match self.settings.export.figure_size() {
            Ok(s) => s,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        let ext = format.ext();
        let Some(path) = rfd::FileDialog::new()
            .add_filter(ext, &[ext])
            .set_file_name(format!("{}.{ext}", self.figure_name()))
            .save_file()
        else {
            return;
        };
        if let Err(e) = self.write_figure(&path, format, size) {
            self.error = Some(e);
        }
    }

    /// The current view's figure's file name (no extension), as `report` names it.
    pub fn figure_name(&self) -> String {
        let ep = &self.settings.endpoint;
        match self.settings.view {
            View::Survival => format!("km_{ep}"),
            View::Response => "response".to_string(),
            View::Balance => "balance".to_string(),
            View::Subgroups => format!("forest_{ep}"),
            View::Sensitivity => format!("caliper_sweep_{ep}"),
            View::Predictors => format!("cox_{ep}"),
            View::Summary => format!("sensitivity_{ep}"),
        }
    }

    /// Writes the current view's figure to `path` (also used by tests).
    pub fn write_figure(
        &self,
        path: &Path,
        format: crate::export::Format,
        size: crate::export::FigureSize,
    ) -> Result<(), String> {
        let bytes = self.figure_bytes(format, size)?;
        crate::spec_file::write_atomic(path, &bytes, true).map_err(|e| e.to_string())
    }

    /// The current view's figure in `format`.
    pub(super) fn figure_bytes(
        &self,
        format: crate::export::Format,
        size: crate::export::FigureSize,
    ) -> Result<Vec<u8>, String> {
        use crate::export::{render, Figure};
        let reports = self.reports.as_ref().ok_or("nothing to export yet")?;
        if !reports.hold(&self.settings.visible_parts()) {
            return Err("the view is still updating: export it once it has filled in".to_string());
        }
        let shown = match (&reports.matched, self.settings.sample_view) {
            // The summary's rows live in one report whichever sample is shown.
            (Some(Ok(m)), _) if self.settings.view == View::Summary => Arc::clone(m),
            (Some(Ok(m)), SampleView::Matched | SampleView::SideBySide) => Arc::clone(m),
            _ => reports.unmatched.clone()?,
        };
        let fig = match self.settings.view {
            View::Survival => Figure::Km(
                self.settings.endpoint.clone(),
                self.settings.spec.risk_table,
            ),
            View::Response => Figure::Response,
            View::Balance => Figure::Balance,
            View::Subgroups => Figure::Forest(self.settings.endpoint.clone()),
            View::Sensitivity => Figure::Sweep(self.settings.endpoint.clone()),
            View::Predictors => Figure::Predictors(self.settings.endpoint.clone()),
            View::Summary => Figure::Summary(self.settings.endpoint.clone()),
        };
        // The balance figure draws the matched analysis' SMDs (before matching only, when the
        // unmatched sample is shown). With matching off the view shows none, and neither does
        // the export: the window runs no analysis of its own for a figure.
        let balance = match &reports.matched {
            Some(Ok(m)) => Some(Arc::clone(m)),
            _ if fig == Figure::Balance => {
                return Err(
                    "No adjustment is chosen: choose matching or weighting under Adjustment to see and export the balance"
                        .to_string(),
                )
            }
            _ => None,
        };
        let demo = self.loaded.is_demo;
        render(&fig, &shown, balance.as_deref(), size, demo, format).map_err(|e| e.to_string())
    }

    /// Copies the current view as a PNG image, at the export's size, to the system
    /// clipboard, for pasting straight into slides.
    pub fn copy_figure(&mut self) {
        let result = (|| -> Result<(), String> {
            let size = self.settings.export.figure_size()?;
            let bytes = self.figure_bytes(crate::export::Format::Png, size)?;
            let rgba = decode_png_rgba(&bytes)?;
            let mut clipboard =
                arboard::Clipboard::new().map_err(|e| format!("no clipboard: {e}"))?;
            clipboard
                .set_image(arboard::ImageData {
                    width: rgba.0 as usize,
                    height: rgba.1 as usize,
                    bytes: rgba.2.into(),
                })
                .map_err(|e| format!("could not copy the figure: {e}"))
        })();
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Opens a window with the R script that reproduces what the window shows.
    pub fn show_r_code(&mut self) {
        // Resolved as the command line's --emit-r resolves it: the cohort's column names,
        // the arms shown as the analysis shows them.
        let spec = self.current_spec().for_cohort(&self.loaded.cohort);
        let endpoints = crate::analysis::resolve_endpoints(&self.loaded.cohort, &spec)
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.name, e.time, e.event))
            .collect::<Vec<_>>();
        let file = if self.loaded.is_demo {
            PathBuf::from("demo_cohort.csv")
        } else {
            PathBuf::from(&self.loaded.label)
        };
        let mut script =
            crate::export::rcode::r_script(&spec, &file, &endpoints, &self.loaded.cohort.read_info);
        if self.loaded.is_demo {
            script.insert_str(
                0,
                "# The demo cohort: write it first with `survival-explorer simulate --out demo_cohort.csv`\n",
            );
        }
        self.r_code = Some(script);
    }
}
