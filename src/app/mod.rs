//! The egui window: edits a [`Spec`], draws the [`Report`]s the core computes. No statistic is
//! computed here; "live" means every edit re-runs `analysis::analyze` (inline when it fits the
//! frame, on a worker thread otherwise) and the curves redraw.

mod balance_view;
mod columns_view;
mod controls;
mod explore_view;
mod plot_util;
mod response_view;
mod survival_view;
mod theme;

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::analysis::{analyze_cancellable, AnalysisCache, MatchSpec, Report, Spec, Stop};
use crate::cohort::{read_csv_bytes, Cohort, LoadOptions};
use crate::{DEMO_COHORT_CSV, DEMO_LABEL};

pub use theme::Palette;

/// Which view the central panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum View {
    #[default]
    Survival,
    Response,
    Balance,
    Sensitivity,
    Subgroups,
}

impl View {
    pub fn parse(s: &str) -> Option<View> {
        match s {
            "survival" => Some(View::Survival),
            "response" => Some(View::Response),
            "balance" => Some(View::Balance),
            "sensitivity" => Some(View::Sensitivity),
            "subgroups" => Some(View::Subgroups),
            _ => None,
        }
    }
}

/// Which sample the survival and response views show when matching is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SampleView {
    Unmatched,
    #[default]
    Matched,
    SideBySide,
}

/// What persists between runs: settings, never patient data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The analysis settings (arm levels, subgroup, CI type …); its `matching` is unused here.
    pub spec: Spec,
    pub matching_on: bool,
    pub matching: MatchSpec,
    pub endpoint: String,
    pub view: View,
    pub sample_view: SampleView,
    pub show_ci: bool,
    pub dark: bool,
    pub recent: Vec<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            spec: Spec::default(),
            matching_on: true,
            matching: MatchSpec::default(),
            endpoint: "pfs".to_string(),
            view: View::Survival,
            sample_view: SampleView::Matched,
            show_ci: true,
            dark: false,
            recent: Vec::new(),
        }
    }
}

impl Settings {
    /// The spec of the unmatched analysis (matching off).
    pub fn unmatched_spec(&self) -> Spec {
        Spec {
            matching: None,
            forest: self.view == View::Subgroups,
            caliper_sweep: false,
            ..self.spec.clone()
        }
    }

    /// The spec of the matched analysis, when matching is on.
    pub fn matched_spec(&self) -> Option<Spec> {
        self.matching_on.then(|| Spec {
            matching: Some(self.matching.clone()),
            forest: self.view == View::Subgroups,
            caliper_sweep: self.view == View::Sensitivity,
            sweep_endpoint: (self.view == View::Sensitivity).then(|| self.endpoint.clone()),
            ..self.spec.clone()
        })
    }
}

/// The two analyses the window shows; each is the core's report or its error message.
#[derive(Clone, Debug)]
pub struct Reports {
    /// The spec `unmatched` was computed for.
    pub unmatched_spec: Spec,
    pub unmatched: Result<Arc<Report>, String>,
    pub matched: Option<Result<Arc<Report>, String>>,
}

/// The analyses for `settings`. The unmatched report of `previous` is reused when its spec is
/// unchanged (moving the caliper leaves it alone), and `cache` keeps the propensity model
/// between runs, so a matching edit refits nothing it does not have to.
fn run_reports(
    cohort: &Cohort,
    settings: &Settings,
    cache: &AnalysisCache,
    previous: Option<Reports>,
    stop: Stop,
) -> Reports {
    let run = |spec: &Spec| {
        analyze_cancellable(cohort, spec, cache, stop)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    };
    let unmatched_spec = settings.unmatched_spec();
    let unmatched = match previous {
        Some(reports) if reports.unmatched_spec == unmatched_spec => reports.unmatched,
        _ => run(&unmatched_spec),
    };
    Reports {
        unmatched_spec,
        unmatched,
        matched: settings.matched_spec().map(|s| run(&s)),
    }
}

/// A loaded cohort and where it came from.
pub struct LoadedCohort {
    /// The cohort analysed: columns in their roles, times derived from dates.
    pub cohort: Arc<Cohort>,
    /// The file as read, columns named as in the file (for the column-mapping dialog).
    pub raw: Arc<Cohort>,
    /// How it was read (sheet, date order, column map).
    pub options: LoadOptions,
    pub is_demo: bool,
    pub label: String,
}

/// Files up to this size are read on the UI thread (well under a frame's worth of waiting);
/// larger ones on a worker, with progress in the status bar.
const INLINE_FILE_BYTES: u64 = 4 << 20;

/// A file being read on a worker thread.
struct Loading {
    path: PathBuf,
    started: Instant,
    rx: Receiver<Result<(Cohort, Cohort, LoadOptions), String>>,
}

/// Reads a file and prepares it with `options`: (as read, prepared).
fn read_and_prepare(path: &Path, options: &LoadOptions) -> Result<(Cohort, Cohort), String> {
    let raw = Cohort::read(path, options.sheet.as_deref()).map_err(|e| e.to_string())?;
    let mut cohort = raw.clone();
    cohort.prepare(options).map_err(|e| e.to_string())?;
    Ok((raw, cohort))
}

/// Cohorts up to this many rows are analysed inline (well within a 16 ms frame); larger ones
/// on a worker thread.
const INLINE_ROWS: usize = 20_000;

struct Pending {
    /// The job's generation, its reports and how long they took (ms).
    rx: Receiver<(u64, Reports, f64)>,
    /// Set when nobody waits for the job any more: its analysis stops at its next step.
    stop: Arc<AtomicBool>,
}

impl Drop for Pending {
    /// A job dropped before its result came (another cohort opened, a small one analysed on
    /// the UI thread meanwhile) is told to stop, so it does not hold a core to the end.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A `--screenshot` request: render a few frames, save a PNG, close.
struct ScreenshotJob {
    path: PathBuf,
    frames_left: u32,
    requested: bool,
    done: Arc<AtomicBool>,
    error: Arc<std::sync::Mutex<Option<String>>>,
}

/// Options from the command line.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    pub file: Option<PathBuf>,
    pub screenshot: Option<PathBuf>,
    pub view: Option<View>,
    pub presentation: bool,
    /// Ignore saved settings (tests, screenshots).
    pub fresh_settings: bool,
    /// Open the column-mapping dialog at start.
    pub columns_dialog: bool,
    /// When the process started (for the start-up time, printed with
    /// `SURVIVAL_EXPLORER_TIMING=1`).
    pub started: Option<Instant>,
}

pub struct App {
    pub settings: Settings,
    pub loaded: LoadedCohort,
    pub reports: Option<Reports>,
    computed_for: Option<(u64, Settings)>,
    cohort_generation: u64,
    generation: u64,
    pending: Option<Pending>,
    pub error: Option<String>,
    /// The "Show as R code" window's script, when open.
    pub r_code: Option<String>,
    pub presentation: bool,
    screenshot: Option<ScreenshotJob>,
    /// Time of the last analysis, shown in the status bar.
    pub last_analysis_ms: f64,
    /// The column-mapping dialog, when open.
    pub columns_dialog: Option<columns_view::ColumnsDialog>,
    loading: Option<Loading>,
    /// What the core keeps between analyses of the loaded cohort (the propensity model).
    cache: Arc<AnalysisCache>,
    /// Frame timing: process start, first frame, the slowest frame's UI time.
    pub frames: FrameStats,
    /// The window's context, kept from the first frame: a worker asks it for a repaint when
    /// its analysis is done (so analyses started outside a frame go to a worker too).
    repaint: Option<egui::Context>,
}

/// How long frames take to build (the UI thread's work; drawing on the GPU is not included).
#[derive(Clone, Debug, Default)]
pub struct FrameStats {
    pub started: Option<Instant>,
    /// Milliseconds from process start to the end of the first frame.
    pub first_frame_ms: Option<f64>,
    pub frames: u64,
    pub max_frame_ms: f64,
    /// `SURVIVAL_EXPLORER_TIMING` is set: print the numbers on stderr.
    pub print: bool,
}

/// Loads the bundled demo cohort.
pub fn demo_cohort() -> LoadedCohort {
    let cohort = Arc::new(
        read_csv_bytes(DEMO_LABEL, DEMO_COHORT_CSV.as_bytes().to_vec())
            .expect("the bundled demo cohort is valid (checked by tests)"),
    );
    LoadedCohort {
        raw: Arc::clone(&cohort),
        cohort,
        options: LoadOptions::default(),
        is_demo: true,
        label: DEMO_LABEL.to_string(),
    }
}

impl App {
    /// Creates the app: restores settings (unless fresh), opens the file or the demo cohort.
    pub fn new(cc: &eframe::CreationContext<'_>, options: StartOptions) -> App {
        let settings: Settings = if options.fresh_settings {
            Settings::default()
        } else {
            cc.storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default()
        };
        let mut app = App::with_settings(settings);
        if let Some(v) = options.view {
            app.settings.view = v;
        }
        if let Some(path) = &options.file {
            app.open_file(path);
        }
        app.presentation = options.presentation;
        app.frames.started = options.started;
        if options.columns_dialog {
            app.open_columns_dialog();
        }
        if let Some(path) = options.screenshot {
            app.screenshot = Some(ScreenshotJob {
                path,
                frames_left: 6,
                requested: false,
                done: Arc::new(AtomicBool::new(false)),
                error: Arc::new(std::sync::Mutex::new(None)),
            });
        }
        theme::apply(&cc.egui_ctx, app.settings.dark, app.presentation);
        app
    }

    /// An app on the demo cohort with the given settings (also for tests).
    pub fn with_settings(settings: Settings) -> App {
        let mut app = App {
            settings,
            loaded: demo_cohort(),
            reports: None,
            computed_for: None,
            cohort_generation: 0,
            generation: 0,
            pending: None,
            error: None,
            r_code: None,
            presentation: false,
            screenshot: None,
            last_analysis_ms: 0.0,
            columns_dialog: None,
            loading: None,
            cache: Default::default(),
            frames: FrameStats {
                print: std::env::var_os("SURVIVAL_EXPLORER_TIMING").is_some(),
                ..FrameStats::default()
            },
            repaint: None,
        };
        app.fit_settings_to_cohort();
        app.recompute_if_needed(None);
        app
    }

    /// Opens a cohort file (columns found by their common names), or a spec file (its cohort
    /// with its settings); on failure the previous cohort stays and the error is shown.
    pub fn open_file(&mut self, path: &Path) {
        if crate::spec_file::is_spec_file(path) {
            self.open_spec(path);
            return;
        }
        self.open_file_with(path, LoadOptions::default());
    }

    /// Opens a cohort file read with `options`. Large files are read on a worker thread.
    pub fn open_file_with(&mut self, path: &Path, options: LoadOptions) {
        let large = std::fs::metadata(path).is_ok_and(|m| m.len() > INLINE_FILE_BYTES);
        if large {
            let (tx, rx) = channel();
            let p = path.to_path_buf();
            std::thread::spawn(move || {
                let read = read_and_prepare(&p, &options).map(|(raw, cohort)| {
                    // The controls list each column's distinct values: found here, not in
                    // the first frame that shows the cohort (a sort per column).
                    for column in &cohort.columns {
                        column.distinct();
                    }
                    (raw, cohort, options)
                });
                let _ = tx.send(read);
            });
            self.loading = Some(Loading {
                path: path.to_path_buf(),
                started: Instant::now(),
                rx,
            });
            return;
        }
        let result = read_and_prepare(path, &options);
        self.finish_loading(path, result.map(|(raw, c)| (raw, c, options)));
    }

    fn finish_loading(
        &mut self,
        path: &Path,
        result: Result<(Cohort, Cohort, LoadOptions), String>,
    ) {
        match result {
            Ok((raw, cohort, options)) => {
                self.settings.spec.column_map = options.column_map.clone();
                self.settings.spec.sheet = options.sheet.clone();
                self.settings.spec.date_format = options.date_format;
                self.set_cohort(LoadedCohort {
                    cohort: Arc::new(cohort),
                    raw: Arc::new(raw),
                    options,
                    is_demo: false,
                    label: path.display().to_string(),
                });
                self.settings.recent.retain(|p| p != path);
                self.settings.recent.insert(0, path.to_path_buf());
                self.settings.recent.truncate(8);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Re-reads the current cohort with other options (the column-mapping dialog). The file
    /// is read again only when the sheet changes; on failure the current cohort stays.
    pub fn apply_load_options(&mut self, options: LoadOptions) {
        if !self.loaded.is_demo && options.sheet != self.loaded.options.sheet {
            let path = PathBuf::from(&self.loaded.label);
            self.open_file_with(&path, options);
            return;
        }
        let mut cohort = (*self.loaded.raw).clone();
        match cohort.prepare(&options) {
            Ok(()) => {
                self.settings.spec.column_map = options.column_map.clone();
                self.settings.spec.sheet = options.sheet.clone();
                self.settings.spec.date_format = options.date_format;
                let loaded = LoadedCohort {
                    cohort: Arc::new(cohort),
                    raw: Arc::clone(&self.loaded.raw),
                    options,
                    is_demo: self.loaded.is_demo,
                    label: self.loaded.label.clone(),
                };
                self.set_cohort(loaded);
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// The file being read on a worker, and for how long, if any.
    pub fn loading(&self) -> Option<(&Path, f64)> {
        self.loading
            .as_ref()
            .map(|l| (l.path.as_path(), l.started.elapsed().as_secs_f64()))
    }

    fn poll_loading(&mut self) {
        let Some(l) = &self.loading else { return };
        match l.rx.try_recv() {
            Ok(result) => {
                let path = l.path.clone();
                self.loading = None;
                self.finish_loading(&path, result);
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                let path = l.path.display().to_string();
                self.loading = None;
                self.error = Some(format!("{path}: reading the file failed"));
            }
        }
    }

    pub fn open_demo(&mut self) {
        self.set_cohort(demo_cohort());
    }

    fn set_cohort(&mut self, loaded: LoadedCohort) {
        self.loaded = loaded;
        // A new cohort: nothing cached fits it, and a file still being read is superseded.
        self.cache = Default::default();
        self.reports = None;
        self.loading = None;
        // An analysis of the previous cohort still running is not waited for: dropped, it
        // stops at its next step.
        self.pending = None;
        self.cohort_generation += 1;
        self.fit_settings_to_cohort();
        self.recompute_if_needed(None);
    }

    /// Drops settings that do not fit the new cohort (subgroups on absent columns, matching
    /// covariates that are not there, an endpoint the file lacks).
    fn fit_settings_to_cohort(&mut self) {
        let c = &self.loaded.cohort;
        self.settings
            .spec
            .subgroups
            .retain(|s| c.has_column(s.column()));
        self.settings
            .matching
            .covariates
            .retain(|v| c.has_column(v.strip_suffix(":factor").unwrap_or(v)));
        if self.settings.matching.covariates.is_empty() {
            self.settings.matching_on = false;
        }
        self.pick_arm_levels();
        let c = &self.loaded.cohort;
        if let Ok(eps) = crate::analysis::resolve_endpoints(c, &self.settings.spec) {
            if !eps.iter().any(|e| e.name == self.settings.endpoint) {
                if let Some(first) = eps.first() {
                    self.settings.endpoint = first.name.clone();
                }
            }
        }
    }

    /// With an arm column of exactly two levels, the arms are those two: a level the settings
    /// already name (in any case) stays in its role, else the first is treated.
    fn pick_arm_levels(&mut self) {
        let c = &self.loaded.cohort;
        let spec = &mut self.settings.spec;
        let Some(name) = c.resolve_column(&spec.arm_column) else {
            return;
        };
        let Some(col) = c.column(name) else {
            return;
        };
        let [a, b] = col.distinct() else {
            return;
        };
        let same = |x: &str, y: &str| x.trim().to_lowercase() == y.trim().to_lowercase();
        let has = |level: &str| same(level, a) || same(level, b);
        if has(&spec.treated) && has(&spec.control) && !same(&spec.treated, &spec.control) {
            return;
        }
        let (treated, control) = if same(&spec.control, a) || same(&spec.treated, b) {
            (b.clone(), a.clone())
        } else {
            (a.clone(), b.clone())
        };
        spec.arm_column = name.to_string();
        spec.treated = treated;
        spec.control = control;
    }

    /// True while an analysis runs on the worker.
    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Re-runs the analysis when the settings or the cohort changed since the last run.
    ///
    /// Large cohorts are analysed on a worker, one analysis at a time: settings that change
    /// while it runs (a caliper being dragged) are analysed when it ends, from the newest
    /// settings, so the curves follow the slider at the analysis' pace and the cores are never
    /// shared among analyses already out of date.
    pub fn recompute_if_needed(&mut self, ctx: Option<&egui::Context>) {
        let key = (self.cohort_generation, self.settings.clone());
        let analysis_part = |s: &Settings| (s.unmatched_spec(), s.matched_spec());
        if let Some((g, s)) = &self.computed_for {
            if *g == key.0 && analysis_part(s) == analysis_part(&key.1) {
                return;
            }
        }
        let ctx = ctx.or(self.repaint.as_ref());
        // Sweeps and forests re-run many analyses: always off the UI thread.
        let heavy = matches!(self.settings.view, View::Sensitivity | View::Subgroups);
        let inline = (self.loaded.cohort.n_rows <= INLINE_ROWS && !heavy) || ctx.is_none();
        if !inline && self.pending.is_some() {
            return;
        }
        self.computed_for = Some(key);
        self.generation += 1;
        let cohort = Arc::clone(&self.loaded.cohort);
        let settings = self.settings.clone();
        if inline {
            let t0 = Instant::now();
            self.reports = Some(run_reports(
                &cohort,
                &settings,
                &self.cache,
                self.reports.clone(),
                &|| false,
            ));
            self.last_analysis_ms = t0.elapsed().as_secs_f64() * 1e3;
            self.pending = None;
            return;
        }
        let (tx, rx) = channel();
        let generation = self.generation;
        let repaint = ctx.cloned();
        let cache = Arc::clone(&self.cache);
        let previous = self.reports.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            let t0 = Instant::now();
            let stop = || stopped.load(Ordering::Relaxed);
            let reports = run_reports(&cohort, &settings, &cache, previous, &stop);
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            // The receiver is gone when another cohort was opened or a small one analysed
            // on the UI thread meanwhile (the analysis then stopped early): nothing to do.
            let _ = tx.send((generation, reports, ms));
            if let Some(c) = repaint {
                c.request_repaint();
            }
        });
        self.pending = Some(Pending { rx, stop });
    }

    fn poll_worker(&mut self) {
        let Some(p) = &self.pending else {
            return;
        };
        match p.rx.try_recv() {
            Ok((g, reports, ms)) => {
                if g == self.generation {
                    self.reports = Some(reports);
                    self.last_analysis_ms = ms;
                }
                self.pending = None;
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.pending = None;
                self.error = Some("the analysis stopped unexpectedly".to_string());
            }
        }
    }

    fn handle_input(&mut self, ctx: &egui::Context) {
        let (open, open_spec, save_spec, f11, esc, dropped) = ctx.input(|i| {
            let cmd = i.modifiers.command;
            (
                cmd && !i.modifiers.shift && i.key_pressed(egui::Key::O),
                cmd && i.modifiers.shift && i.key_pressed(egui::Key::O),
                cmd && i.key_pressed(egui::Key::S),
                i.key_pressed(egui::Key::F11),
                i.key_pressed(egui::Key::Escape),
                i.raw.dropped_files.first().map(|f| f.path().to_path_buf()),
            )
        });
        if open {
            self.open_dialog();
        }
        if open_spec {
            self.open_spec_dialog();
        }
        if save_spec {
            self.save_spec_dialog();
        }
        if f11 {
            self.set_presentation(ctx, !self.presentation);
        }
        if esc && self.presentation {
            self.set_presentation(ctx, false);
        }
        if let Some(path) = dropped {
            self.open_file(&path);
        }
    }

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
        self.settings
            .matched_spec()
            .unwrap_or_else(|| self.settings.unmatched_spec())
    }

    fn cohort_path(&self) -> Option<PathBuf> {
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
            self.error = Some(e);
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
                self.settings.matching_on = f.spec.matching.is_some();
                if let Some(m) = &f.spec.matching {
                    self.settings.matching = m.clone();
                }
                self.settings.spec = Spec {
                    matching: None,
                    ..f.spec
                };
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Exports the current view as a figure file.
    pub fn export_figure(&mut self, svg: bool, size: crate::export::FigureSize) {
        let ext = if svg { "svg" } else { "png" };
        let Some(path) = rfd::FileDialog::new()
            .add_filter(ext, &[ext])
            .set_file_name(format!("figure.{ext}"))
            .save_file()
        else {
            return;
        };
        if let Err(e) = self.write_figure(&path, svg, size) {
            self.error = Some(e);
        }
    }

    /// Writes the current view's figure to `path` (also used by tests).
    pub fn write_figure(
        &self,
        path: &Path,
        svg: bool,
        size: crate::export::FigureSize,
    ) -> Result<(), String> {
        let bytes = self.figure_bytes(svg, size)?;
        crate::spec_file::write_atomic(path, &bytes, true)
    }

    /// The current view's figure as SVG text or PNG bytes.
    fn figure_bytes(&self, svg: bool, size: crate::export::FigureSize) -> Result<Vec<u8>, String> {
        use crate::export::{render_png, render_svg, Figure};
        let reports = self.reports.as_ref().ok_or("nothing to export yet")?;
        let shown = match (&reports.matched, self.settings.sample_view) {
            (Some(Ok(m)), SampleView::Matched | SampleView::SideBySide) => Arc::clone(m),
            _ => reports.unmatched.clone()?,
        };
        let fig = match self.settings.view {
            View::Survival => Figure::Km(self.settings.endpoint.clone()),
            View::Response => Figure::Response,
            View::Balance => Figure::Balance,
            View::Subgroups => Figure::Forest(self.settings.endpoint.clone()),
            View::Sensitivity => Figure::Sweep(self.settings.endpoint.clone()),
        };
        let balance = crate::export::balance_source(&self.loaded.cohort, &self.current_spec());
        let demo = self.loaded.is_demo;
        if svg {
            Ok(render_svg(&fig, &shown, balance.as_ref(), size, demo)?.into_bytes())
        } else {
            render_png(&fig, &shown, balance.as_ref(), size, demo)
        }
    }

    /// Copies the current view as a PNG image (slide size) to the system clipboard, for
    /// pasting straight into slides.
    pub fn copy_figure(&mut self) {
        let result = (|| -> Result<(), String> {
            let bytes = self.figure_bytes(false, crate::export::FigureSize::SLIDE_16_9)?;
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
        let spec = self.current_spec();
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

    fn r_code_ui(&mut self, ctx: &egui::Context) {
        let Some(code) = self.r_code.clone() else {
            return;
        };
        let mut open = true;
        egui::Window::new("R code for this analysis")
            .open(&mut open)
            .default_size([720.0, 520.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui.button("Copy").clicked() {
                        ui.ctx().copy_text(code.clone());
                    }
                    ui.weak(
                        "Runs with R's survival and MatchIt; prints the same medians, HRs and DCR.",
                    );
                });
                egui::ScrollArea::both().show(ui, |ui| {
                    let mut text = code.clone();
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .code_editor()
                            .desired_width(f32::INFINITY),
                    );
                });
            });
        if !open {
            self.r_code = None;
        }
    }

    pub fn set_presentation(&mut self, ctx: &egui::Context, on: bool) {
        self.presentation = on;
        ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(on));
        theme::apply(ctx, self.settings.dark, on);
    }

    fn drive_screenshot(&mut self, ctx: &egui::Context) {
        let Some(job) = &mut self.screenshot else {
            return;
        };
        ctx.request_repaint();
        if job.done.load(Ordering::SeqCst) {
            if let Ok(guard) = job.error.lock() {
                if let Some(e) = guard.as_ref() {
                    eprintln!("error: {e}");
                }
            }
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        // The file named on the command line may still be read, then analysed.
        if self.pending.is_some() || self.loading.is_some() {
            return;
        }
        if job.frames_left > 0 {
            job.frames_left -= 1;
            return;
        }
        if !job.requested {
            job.requested = true;
            let path = job.path.clone();
            let done = Arc::clone(&job.done);
            let error = Arc::clone(&job.error);
            let repaint = ctx.clone();
            ctx.request_screenshot(move |image| {
                if let Err(e) = theme::save_png(&path, &image) {
                    if let Ok(mut g) = error.lock() {
                        *g = Some(format!(
                            "{}: cannot write the screenshot: {e}",
                            path.display()
                        ));
                    }
                }
                done.store(true, Ordering::SeqCst);
                repaint.request_repaint();
            });
        }
    }

    /// Draws the whole window (also called by the UI tests).
    pub fn ui_all(&mut self, ui: &mut egui::Ui) {
        let frame_start = Instant::now();
        self.ui_frame(ui);
        let ms = frame_start.elapsed().as_secs_f64() * 1e3;
        let f = &mut self.frames;
        f.frames += 1;
        // The first frame includes one-time set-up (fonts, the first analysis).
        if f.frames > 1 {
            f.max_frame_ms = f.max_frame_ms.max(ms);
        }
        if f.first_frame_ms.is_none() {
            f.first_frame_ms = f.started.map(|s| s.elapsed().as_secs_f64() * 1e3);
            if f.print {
                eprintln!(
                    "timing: first frame {:.0} ms after start",
                    f.first_frame_ms.unwrap_or(f64::NAN)
                );
            }
        } else if f.print && f.frames.is_multiple_of(100) {
            eprintln!(
                "timing: {} frames, slowest {:.1} ms",
                f.frames, f.max_frame_ms
            );
        }
    }

    fn ui_frame(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if self.repaint.is_none() {
            self.repaint = Some(ctx.clone());
        }
        self.poll_worker();
        self.poll_loading();
        self.handle_input(&ctx);
        let before = self.settings.clone();
        if !self.presentation {
            egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
            egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
            egui::Panel::left("controls")
                .resizable(true)
                .default_size(330.0)
                .show(ui, |ui| {
                    let columns = egui::ScrollArea::vertical()
                        .show(ui, |ui| {
                            controls::controls_ui(
                                ui,
                                &mut self.settings,
                                &self.loaded,
                                self.reports.as_ref(),
                            )
                        })
                        .inner;
                    if columns {
                        self.open_columns_dialog();
                    }
                });
        }
        egui::CentralPanel::default_margins().show(ui, |ui| self.central_ui(ui));
        self.error_ui(&ctx);
        self.r_code_ui(&ctx);
        self.columns_ui(&ctx);
        if self.settings.dark != before.dark {
            theme::apply(&ctx, self.settings.dark, self.presentation);
        }
        self.recompute_if_needed(Some(&ctx));
        if self.pending.is_some() || self.loading.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(30));
        }
        self.drive_screenshot(&ctx);
    }

    fn menu_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open cohort…  (Ctrl+O)").clicked() {
                    ui.close();
                    self.open_dialog();
                }
                if ui.button("Open the synthetic demo cohort").clicked() {
                    ui.close();
                    self.open_demo();
                }
                if ui.button("Columns and roles…").clicked() {
                    ui.close();
                    self.open_columns_dialog();
                }
                ui.separator();
                if ui.button("Save analysis spec…  (Ctrl+S)").clicked() {
                    ui.close();
                    self.save_spec_dialog();
                }
                if ui.button("Open analysis spec…  (Ctrl+Shift+O)").clicked() {
                    ui.close();
                    self.open_spec_dialog();
                }
                ui.separator();
                ui.label("Export the current view");
                use crate::export::FigureSize;
                let presets = [
                    ("SVG (vector, editable)", true, FigureSize::SLIDE_16_9),
                    (
                        "PNG slide 16:9 (1920 × 1080)",
                        false,
                        FigureSize::SLIDE_16_9,
                    ),
                    ("PNG slide 4:3", false, FigureSize::SLIDE_4_3),
                    (
                        "PNG journal single column, 300 dpi",
                        false,
                        FigureSize::single_column(300.0),
                    ),
                    (
                        "PNG journal single column, 600 dpi",
                        false,
                        FigureSize::single_column(600.0),
                    ),
                    (
                        "PNG journal double column, 300 dpi",
                        false,
                        FigureSize::double_column(300.0),
                    ),
                    (
                        "PNG journal double column, 600 dpi",
                        false,
                        FigureSize::double_column(600.0),
                    ),
                ];
                for (label, svg, size) in presets {
                    if ui.button(label).clicked() {
                        ui.close();
                        self.export_figure(svg, size);
                    }
                }
                if ui.button("Copy figure to clipboard (PNG)").clicked() {
                    ui.close();
                    self.copy_figure();
                }
                ui.separator();
                if ui.button("Show as R code…").clicked() {
                    ui.close();
                    self.show_r_code();
                }
                if !self.settings.recent.is_empty() {
                    ui.separator();
                    ui.label("Recent files");
                    let recent = self.settings.recent.clone();
                    for p in recent {
                        if ui.button(p.display().to_string()).clicked() {
                            ui.close();
                            self.open_file(&p);
                        }
                    }
                }
            });
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.settings.show_ci, "Confidence bands");
                ui.checkbox(&mut self.settings.dark, "Dark theme");
                if ui.button("Presentation mode  (F11)").clicked() {
                    ui.close();
                    let ctx = ui.ctx().clone();
                    self.set_presentation(&ctx, true);
                }
            });
            ui.separator();
            for (v, label) in [
                (View::Survival, "Survival"),
                (View::Response, "Response"),
                (View::Balance, "Balance"),
                (View::Sensitivity, "Caliper sensitivity"),
                (View::Subgroups, "Subgroups"),
            ] {
                ui.selectable_value(&mut self.settings.view, v, label);
            }
            ui.separator();
            if self.loaded.is_demo {
                ui.label(
                    egui::RichText::new(DEMO_LABEL.to_uppercase())
                        .color(theme::WARNING)
                        .strong(),
                )
                .on_hover_text("The bundled cohort is simulated (see README): no patient in it.");
            } else {
                ui.label(&self.loaded.label);
            }
        });
    }

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some((path, secs)) = self.loading() {
                ui.spinner();
                ui.label(format!(
                    "reading {} … {secs:.1} s",
                    path.file_name().unwrap_or_default().to_string_lossy()
                ));
                ui.weak("·");
            }
            if self.pending.is_some() {
                ui.spinner();
                ui.label("computing…");
            } else {
                ui.weak(format!(
                    "{} rows · analysis {:.1} ms",
                    self.loaded.cohort.n_rows, self.last_analysis_ms
                ));
            }
            ui.weak("· Ctrl+O open · Ctrl+S save spec · drop a file · F11 presentation");
        });
    }

    fn central_ui(&mut self, ui: &mut egui::Ui) {
        let Some(reports) = self.reports.clone() else {
            ui.spinner();
            return;
        };
        if self.pending.is_some() {
            ui.set_opacity(0.55);
        }
        let ctx = ViewContext {
            settings: &self.settings,
            loaded: &self.loaded,
            presentation: self.presentation,
        };
        let mut command = None;
        match self.settings.view {
            View::Survival => survival_view::survival_ui(ui, &ctx, &reports),
            View::Response => response_view::response_ui(ui, &ctx, &reports),
            View::Balance => balance_view::balance_ui(ui, &ctx, &reports),
            View::Sensitivity => command = explore_view::sweep_ui(ui, &ctx, &reports),
            View::Subgroups => explore_view::forest_ui(ui, &ctx, &reports),
        }
        if let Some(explore_view::ExploreCommand::SetCaliper(c)) = command {
            self.settings.matching.caliper = c;
        }
    }

    fn error_ui(&mut self, ctx: &egui::Context) {
        let Some(msg) = self.error.clone() else {
            return;
        };
        let mut open = true;
        let mut dismissed = false;
        egui::Window::new("Something went wrong")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 60.0])
            .show(ctx, |ui| {
                ui.label(&msg);
                ui.weak("The previous cohort is still loaded.");
                if ui.button("OK").clicked() {
                    dismissed = true;
                }
            });
        if !open || dismissed {
            self.error = None;
        }
    }
}

/// Decodes a PNG to (width, height, RGBA bytes).
fn decode_png_rgba(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
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

/// What the views need besides the reports.
pub struct ViewContext<'a> {
    pub settings: &'a Settings,
    pub loaded: &'a LoadedCohort,
    pub presentation: bool,
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_all(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }

    /// While a screenshot is being taken the pointer is gone: no hover crosshair, highlighted
    /// bar or tooltip in the picture (under Xvfb the pointer rests mid-screen).
    fn raw_input_hook(&mut self, _ctx: &egui::Context, raw_input: &mut egui::RawInput) {
        if self.screenshot.is_some() {
            raw_input.events.retain(|e| {
                !matches!(
                    e,
                    egui::Event::PointerMoved(_)
                        | egui::Event::MouseMoved(_)
                        | egui::Event::PointerButton { .. }
                )
            });
            raw_input.events.push(egui::Event::PointerGone);
        }
    }
}

/// Opens the window (blocking until it closes).
pub fn run(options: StartOptions) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Survival Explorer")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([900.0, 600.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Survival Explorer",
        native,
        Box::new(move |cc| Ok(Box::new(App::new(cc, options)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A screenshot is taken with the pointer gone: no crosshair, hover highlight or tooltip
    /// (under Xvfb the pointer rests mid-window). Without a screenshot, input is untouched.
    #[test]
    fn screenshots_are_taken_without_the_pointer() {
        let mut app = App::with_settings(Settings::default());
        let ctx = egui::Context::default();
        let moved = || egui::Event::PointerMoved(egui::pos2(700.0, 400.0));
        let mut input = egui::RawInput {
            events: vec![moved()],
            ..Default::default()
        };
        eframe::App::raw_input_hook(&mut app, &ctx, &mut input);
        assert!(matches!(
            input.events.as_slice(),
            [egui::Event::PointerMoved(_)]
        ));
        app.screenshot = Some(ScreenshotJob {
            path: PathBuf::from("shot.png"),
            frames_left: 6,
            requested: false,
            done: Arc::new(AtomicBool::new(false)),
            error: Arc::new(std::sync::Mutex::new(None)),
        });
        eframe::App::raw_input_hook(&mut app, &ctx, &mut input);
        assert!(
            matches!(input.events.as_slice(), [egui::Event::PointerGone]),
            "{:?}",
            input.events
        );
    }

    /// Opening another cohort tells the analysis still running on the worker for the previous
    /// one to stop (it would otherwise hold a core to its end); the new cohort's analysis is
    /// not told to stop.
    #[test]
    fn opening_another_cohort_stops_the_previous_cohorts_analysis() {
        let ctx = egui::Context::default();
        let mut app = App::with_settings(Settings::default());
        app.repaint = Some(ctx.clone());
        // The sensitivity view's sweep always runs on the worker.
        app.settings.view = View::Sensitivity;
        app.recompute_if_needed(Some(&ctx));
        let first = Arc::clone(&app.pending.as_ref().expect("a job on the worker").stop);
        assert!(!first.load(Ordering::Relaxed));
        app.open_demo();
        assert!(
            first.load(Ordering::Relaxed),
            "the first job was not told to stop"
        );
        let second = &app.pending.as_ref().expect("the new cohort's job").stop;
        assert!(!second.load(Ordering::Relaxed));
    }
}
