//! What the user asks for from the menu and the keyboard: open files and specs, save the
//! spec, export or copy the current figure, show the analysis as R code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{App, SampleView, View};
use crate::analysis::Spec;
use crate::cohort::LoadOptions;
use crate::spec_file::SpecFile;

/// Decodes a PNG to (width, height, RGBA bytes).
#[cfg(not(target_arch = "wasm32"))]
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
    /// The file types a cohort opens from (Parquet only in the desktop build).
    const COHORT_TYPES: &'static [&'static str] = &[
        "csv",
        "tsv",
        "txt",
        "xlsx",
        "xlsm",
        "xls",
        "ods",
        #[cfg(not(target_arch = "wasm32"))]
        "parquet",
    ];

    pub fn open_dialog(&mut self) {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(path) = rfd::FileDialog::new()
            .add_filter(
                "Cohort (CSV, Excel, OpenDocument, Parquet)",
                Self::COHORT_TYPES,
            )
            .add_filter("All files", &["*"])
            .pick_file()
        {
            self.open_file(&path);
        }
        #[cfg(target_arch = "wasm32")]
        self.pick(Self::COHORT_TYPES);
    }

    /// The browser's file picker; the file opens when it has been read.
    #[cfg(target_arch = "wasm32")]
    fn pick(&mut self, types: &[&str]) {
        let accept = types
            .iter()
            .map(|t| format!(".{t}"))
            .collect::<Vec<_>>()
            .join(",");
        if let Err(e) = super::platform::pick(&accept, &self.inbox, self.repaint.as_ref()) {
            self.error = Some(e);
        }
    }

    /// Opens the files picked in the browser since the last frame.
    pub(super) fn poll_inbox(&mut self) {
        for picked in self.inbox.take() {
            match picked.bytes {
                Ok(bytes) => self.open_bytes(&picked.name, bytes),
                Err(e) => self.error = Some(e),
            }
        }
    }

    /// Opens a file given as its name and bytes (dropped on or picked in the browser): a
    /// spec file (`.toml`) or a cohort — read as the last spec opened says when that spec
    /// names a file of this name.
    pub fn open_bytes(&mut self, name: &str, bytes: Vec<u8>) {
        if name.to_lowercase().ends_with(".toml") {
            let text = String::from_utf8_lossy(&bytes);
            match crate::spec_file::SpecFile::from_toml(&text, name) {
                Ok(f) => self.apply_spec_file(f, name),
                Err(e) => self.error = Some(e.to_string()),
            }
            return;
        }
        let options = match self.spec_file_options.take() {
            Some((file, options)) if file == name => options,
            _ => LoadOptions::default(),
        };
        self.open_bytes_with(name, bytes, options);
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

    /// Saves the analysis as a TOML spec file (the native dialog confirms overwriting; the
    /// browser downloads it, naming the cohort file by its name).
    pub fn save_spec_dialog(&mut self) {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(path) = rfd::FileDialog::new()
            .add_filter("Analysis spec (TOML)", &["toml"])
            .set_file_name("analysis.toml")
            .save_file()
        {
            self.save_spec(&path);
        }
        #[cfg(target_arch = "wasm32")]
        {
            let file = (!self.loaded.is_demo).then(|| PathBuf::from(&self.loaded.label));
            let saved = SpecFile::new(self.current_spec(), file)
                .to_toml()
                .map_err(|e| e.to_string())
                .and_then(|toml| {
                    super::platform::save("analysis.toml", "", || Ok(toml.into_bytes()))
                });
            if let Err(e) = saved {
                self.error = Some(e);
            }
        }
    }

    pub fn save_spec(&mut self, path: &Path) {
        let file = SpecFile::new(self.current_spec(), self.cohort_path());
        if let Err(e) = file.save(path, true) {
            self.error = Some(e.to_string());
        }
    }

    pub fn open_spec_dialog(&mut self) {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(path) = rfd::FileDialog::new()
            .add_filter("Analysis spec (TOML)", &["toml"])
            .pick_file()
        {
            self.open_spec(&path);
        }
        #[cfg(target_arch = "wasm32")]
        self.pick(&["toml"]);
    }

    /// Loads a spec file: its cohort file (when it names one) and its settings.
    pub fn open_spec(&mut self, path: &Path) {
        match SpecFile::load(path) {
            Ok(f) => self.apply_spec_file(f, &path.display().to_string()),
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// Takes a spec file's settings, and opens its cohort file when it names one. In the
    /// browser no file is opened by name: the spec applies to the cohort open when it names
    /// that file, else the user is told which file to open.
    fn apply_spec_file(&mut self, f: SpecFile, source: &str) {
        #[allow(unused_mut)]
        let mut notes = f.warnings();
        if let Some(file) = &f.file {
            #[cfg(not(target_arch = "wasm32"))]
            self.open_file_with(file, f.spec.load_options());
            #[cfg(target_arch = "wasm32")]
            {
                let name = file.file_name().map(|n| n.to_string_lossy().to_string());
                if name.as_deref() == Some(self.loaded.label.as_str()) {
                    self.apply_load_options(f.spec.load_options());
                } else {
                    // The file, opened next, is read as the spec says.
                    self.spec_file_options = name.map(|n| (n, f.spec.load_options()));
                    notes.push(format!(
                        "it was saved for {}: open that file (File ▸ Open cohort) to repeat the analysis",
                        file.display()
                    ));
                }
            }
        }
        if !notes.is_empty() {
            notes.dedup();
            let notes = format!("{source}: {}", notes.join("; "));
            // A message of opening the spec's file comes first.
            self.error = Some(match self.error.take() {
                Some(e) => format!("{e}\n{notes}"),
                None => notes,
            });
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
        let name = format!("{}.{}", self.figure_name(), format.ext());
        let saved = super::platform::save(&name, format.ext(), || self.figure_bytes(format, size));
        if let Err(e) = saved {
            self.error = Some(e);
        }
    }

    /// The report of what the window shows (the adjusted analysis when there is one), whole.
    fn shown_report(&self) -> Result<Arc<crate::analysis::Report>, String> {
        let reports = self.reports.as_ref().ok_or("nothing to save yet")?;
        if !reports.complete() {
            return Err("the analysis is still updating: save it once it has filled in".into());
        }
        match (&reports.matched, self.settings.sample_view) {
            (Some(Ok(m)), SampleView::Matched | SampleView::SideBySide) => Ok(Arc::clone(m)),
            // The adjusted analysis shown is an error: that, not the unadjusted report.
            (Some(Err(e)), SampleView::Matched | SampleView::SideBySide) => Err(e.clone()),
            _ => reports.unmatched.clone(),
        }
    }

    /// The shown analysis' report as JSON, as `analyze` prints it.
    pub fn report_json(&self) -> Result<String, String> {
        let report = self.shown_report()?;
        crate::export::json::to_string(&*report).map_err(|e| e.to_string())
    }

    /// Saves the shown analysis' report as JSON (`report.json`).
    pub fn save_report_json(&mut self) {
        let saved = super::platform::save("report.json", "JSON", || {
            self.report_json().map(String::into_bytes)
        });
        if let Err(e) = saved {
            self.error = Some(e);
        }
    }

    /// The shown analysis' tables as `report` writes them: (file name, CSV).
    /// Made once per report (the menu listing them is drawn every frame it is open, and the
    /// matched cohort's table of a large file is not cheap).
    pub fn tables(&mut self) -> super::Tables {
        let Ok(report) = self.shown_report() else {
            return Arc::default();
        };
        match &self.tables {
            Some((of, tables)) if Arc::ptr_eq(of, &report) => Arc::clone(tables),
            _ => {
                let tables = Arc::new(crate::export::all_tables(&self.loaded.cohort, &report));
                self.tables = Some((report, Arc::clone(&tables)));
                tables
            }
        }
    }

    /// Saves one of [`App::tables`] as CSV.
    pub fn save_table(&mut self, name: &str) {
        let tables = self.tables();
        let Some((_, csv)) = tables.iter().find(|(n, _)| n == name) else {
            return;
        };
        if let Err(e) = super::platform::save(name, "CSV", || Ok(csv.clone().into_bytes())) {
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
    /// clipboard, for pasting straight into slides (desktop only).
    #[cfg(not(target_arch = "wasm32"))]
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
