//! Background work: reading large files and running analyses on worker threads, one analysis
//! at a time, the newest settings winning; the results the views draw ([`Reports`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::Instant;

use eframe::egui;

use super::{App, LoadedCohort, Settings, View};
use crate::analysis::{analyze_cancellable, AnalysisCache, Report, Spec, Stop};
use crate::cohort::{Cohort, LoadOptions};

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
pub(super) fn run_reports(
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
    let (unmatched_spec, matched_spec) = settings.analysed_specs();
    let unmatched = match previous {
        Some(reports) if reports.unmatched_spec == unmatched_spec => reports.unmatched,
        _ => run(&unmatched_spec),
    };
    Reports {
        unmatched_spec,
        unmatched,
        matched: matched_spec.map(|s| run(&s)),
    }
}

/// Files up to this size are read on the UI thread (well under a frame's worth of waiting);
/// larger ones on a worker, with progress in the status bar.
pub(super) const INLINE_FILE_BYTES: u64 = 4 << 20;

/// A file being read on a worker thread.
pub(super) struct Loading {
    path: PathBuf,
    started: Instant,
    rx: Receiver<Result<(Cohort, Cohort, LoadOptions), String>>,
}

/// Reads a file and prepares it with `options`: (as read, prepared).
pub(super) fn read_and_prepare(
    path: &Path,
    options: &LoadOptions,
) -> Result<(Cohort, Cohort), String> {
    let raw = Cohort::read(path, options.sheet.as_deref()).map_err(|e| e.to_string())?;
    let mut cohort = raw.clone();
    cohort.prepare(options).map_err(|e| e.to_string())?;
    Ok((raw, cohort))
}

/// Cohorts up to this many rows are analysed inline (well within a 16 ms frame); larger ones
/// on a worker thread.
pub(super) const INLINE_ROWS: usize = 20_000;

pub(super) struct Pending {
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

impl App {
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

    pub(super) fn finish_loading(
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

    pub(super) fn poll_loading(&mut self) {
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
        let analysis_part = |s: &Settings| s.analysed_specs();
        if let Some((g, s)) = &self.computed_for {
            if *g == key.0 && analysis_part(s) == analysis_part(&key.1) {
                return;
            }
        }
        let ctx = ctx.or(self.repaint.as_ref());
        // Sweeps and forests re-run many analyses: always off the UI thread.
        let heavy = matches!(
            self.settings.view,
            View::Sensitivity | View::Subgroups | View::Summary
        );
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

    pub(super) fn poll_worker(&mut self) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
