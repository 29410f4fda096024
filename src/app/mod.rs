//! The egui window: edits a [`Spec`](crate::analysis::Spec), draws the
//! [`Report`](crate::analysis::Report)s the core computes. No statistic is computed here;
//! "live" means every edit re-runs `analysis::analyze` (inline when it fits the frame, on a
//! worker thread otherwise) and the curves redraw.

mod about;
mod actions;
mod adjustment_panel;
mod balance_view;
mod columns_view;
mod controls;
mod explore_view;
mod jobs;
mod loading;
mod platform;
mod plot_util;
mod predictors_view;
mod response_view;
mod risk_table;
mod screenshot;
mod settings;
mod summary_view;
mod survival_view;
mod theme;
#[cfg(target_arch = "wasm32")]
mod web;
mod weighting_view;
mod windows;

#[cfg(target_arch = "wasm32")]
pub use web::start as start_web;

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use web_time::Instant;

use crate::analysis::AnalysisCache;
use crate::cohort::{read_csv_bytes, Cohort, LoadOptions};
use crate::{DEMO_COHORT_CSV, DEMO_LABEL};

use jobs::Pending;
pub use jobs::Reports;
use loading::Loading;
use screenshot::ScreenshotJob;
pub use settings::{SampleView, Settings, View};
pub use theme::Palette;

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
    /// A workbook's bytes when it came from the browser (no path to read another sheet from).
    pub bytes: Option<Arc<[u8]>>,
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
    /// The table under the Kaplan–Meier plot (`--risk-table`), over the saved settings and
    /// a spec file opened at start.
    pub risk_table: Option<crate::analysis::RiskTable>,
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
    /// Files picked in the browser, opened in the next frame.
    inbox: platform::Inbox,
    /// In the browser: the file the last spec opened names, and how the spec reads it (used
    /// when a file of that name is opened next).
    spec_file_options: Option<(String, LoadOptions)>,
    /// The shown report's tables as CSV, made when the menu first lists them ([`App::tables`]).
    tables: Option<(Arc<crate::analysis::Report>, Tables)>,
}

/// Tables as (file name, CSV text).
pub type Tables = Arc<Vec<(String, String)>>;

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
        bytes: None,
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
        // The worker can repaint the window from the start: a file opened from the command
        // line is analysed off the UI thread like any other.
        app.repaint = Some(cc.egui_ctx.clone());
        if let Some(path) = &options.file {
            app.open_file(path);
        }
        if let Some(table) = options.risk_table {
            app.settings.spec.risk_table = table;
        }
        app.presentation = options.presentation;
        app.frames.started = options.started;
        if options.columns_dialog {
            app.open_columns_dialog();
        }
        if let Some(path) = options.screenshot {
            app.screenshot = Some(ScreenshotJob::new(path));
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
            cache: Arc::new(AnalysisCache::live()),
            frames: FrameStats {
                print: std::env::var_os("SURVIVAL_EXPLORER_TIMING").is_some(),
                ..FrameStats::default()
            },
            repaint: None,
            inbox: Default::default(),
            spec_file_options: None,
            tables: None,
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

    pub fn open_demo(&mut self) {
        self.set_cohort(demo_cohort());
    }

    fn set_cohort(&mut self, loaded: LoadedCohort) {
        self.loaded = loaded;
        // A new cohort: nothing cached fits it, and a file still being read is superseded.
        self.cache = Arc::new(AnalysisCache::live());
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
        // Names as the cohort has them (a spec may name the file's header, in any case).
        self.settings.spec = self.settings.spec.resolve_columns(c);
        self.settings
            .spec
            .subgroups
            .retain(|s| c.has_column(s.column()));
        self.settings
            .matching_mut()
            .covariates
            .retain(|v| c.has_column(v.strip_suffix(":factor").unwrap_or(v)));
        if self.settings.matching().covariates.is_empty() {
            self.settings.matching_on = false;
        }
        self.settings
            .spec
            .adjust
            .retain(|v| c.has_column(v.strip_suffix(":factor").unwrap_or(v)));
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
        let spelled = |level: &str| if same(level, a) { a.clone() } else { b.clone() };
        if has(&spec.treated) && has(&spec.control) && !same(&spec.treated, &spec.control) {
            // The pickers show the levels as the file spells them ("Lenvatinib").
            spec.treated = spelled(&spec.treated);
            spec.control = spelled(&spec.control);
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

    fn handle_input(&mut self, ctx: &egui::Context) {
        let (open, open_spec, save_spec, save_json, export, f11, esc, dropped) = ctx.input(|i| {
            let cmd = i.modifiers.command;
            (
                cmd && !i.modifiers.shift && i.key_pressed(egui::Key::O),
                cmd && i.modifiers.shift && i.key_pressed(egui::Key::O),
                cmd && i.key_pressed(egui::Key::S),
                cmd && i.key_pressed(egui::Key::J),
                cmd && i.key_pressed(egui::Key::E),
                i.key_pressed(egui::Key::F11),
                i.key_pressed(egui::Key::Escape),
                i.raw.dropped_files.first().map(std::sync::Arc::clone),
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
        if save_json {
            self.save_report_json();
        }
        if export {
            self.export_figure(self.settings.export.format);
        }
        if f11 {
            self.set_presentation(ctx, !self.presentation);
        }
        if esc && self.presentation {
            self.set_presentation(ctx, false);
        }
        // A dropped file is a path on the desktop; in the browser it is read in the tab and
        // opens in a later frame.
        if let Some(file) = dropped {
            #[cfg(not(target_arch = "wasm32"))]
            self.open_file(file.path());
            #[cfg(target_arch = "wasm32")]
            platform::read_dropped(file, &self.inbox, self.repaint.as_ref());
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
        self.poll_inbox();
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
        about::about_ui(&ctx);
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

    fn central_ui(&mut self, ui: &mut egui::Ui) {
        let Some(reports) = self.reports.clone() else {
            ui.spinner();
            return;
        };
        // Nothing shown is older than the curves: a view whose parts have not come for the
        // current settings says so instead of drawing older ones.
        if !reports.hold(&self.settings.visible_parts()) {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("updating…");
            });
            return;
        }
        if self.is_updating_view() {
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
            View::Summary => summary_view::summary_ui(ui, &ctx, &reports),
            View::Predictors => {
                if let Some(predictors_view::PredictorsCommand::SetAdjust(a)) =
                    predictors_view::predictors_ui(ui, &ctx, &reports)
                {
                    self.settings.spec.adjust = a;
                }
            }
        }
        if let Some(explore_view::ExploreCommand::SetCaliper(c)) = command {
            self.settings.matching_mut().caliper = c;
        }
    }
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
#[cfg(not(target_arch = "wasm32"))]
pub fn run(options: StartOptions) -> anyhow::Result<()> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(about::window_title())
        .with_inner_size([1400.0, 900.0])
        .with_min_inner_size([900.0, 600.0]);
    if let Some(icon) = about::window_icon() {
        viewport = viewport.with_icon(icon);
    }
    let native = eframe::NativeOptions {
        viewport,
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
        app.screenshot = Some(ScreenshotJob::new(PathBuf::from("shot.png")));
        eframe::App::raw_input_hook(&mut app, &ctx, &mut input);
        assert!(
            matches!(input.events.as_slice(), [egui::Event::PointerGone]),
            "{:?}",
            input.events
        );
    }
}
