//! Analyses: run on worker threads for large cohorts (inline for small ones, and always in
//! the web build), the newest settings winning; the results the views draw ([`Reports`]). An
//! analysis computes first the parts the current view shows, then the rest; a newer setting
//! lets the first pass end (the curves) and stops the rest.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use web_time::Instant;

use eframe::egui;

use super::{App, Settings, View};
use crate::analysis::{analyze_parts, AnalysisCache, AnalysisError, Parts, Report, Spec, Stop};
use crate::cohort::Cohort;

/// The two analyses the window shows; each is the core's report (of some parts, see
/// [`Report::parts`]) or its error message. Both are of one setting: nothing shown is older
/// than the rest.
#[derive(Clone, Debug)]
pub struct Reports {
    /// The spec `unmatched` was computed for.
    pub unmatched_spec: Spec,
    pub unmatched: Result<Arc<Report>, String>,
    /// The spec `matched` was computed for.
    pub matched_spec: Option<Spec>,
    pub matched: Option<Result<Arc<Report>, String>>,
}

impl Reports {
    /// True when the reports hold these parts of the (unmatched, matched) analyses; an error
    /// holds every part (the view shows it).
    pub fn hold(&self, (unmatched, matched): &(Parts, Parts)) -> bool {
        let held = |r: &Result<Arc<Report>, String>, p: &Parts| match r {
            Ok(r) => r.holds(p),
            Err(_) => true,
        };
        held(&self.unmatched, unmatched) && self.matched.as_ref().is_none_or(|m| held(m, matched))
    }

    /// True when both reports are whole.
    pub fn complete(&self) -> bool {
        self.hold(&(Parts::all(), Parts::all()))
    }
}

/// The report of `spec` holding `parts`: `previous` (a report of the same spec) when it holds
/// them, else with the missing parts computed and joined to it. None when stopped.
fn report_with(
    cohort: &Cohort,
    spec: &Spec,
    cache: &AnalysisCache,
    previous: Option<Result<Arc<Report>, String>>,
    parts: &Parts,
    stop: Stop,
) -> Option<Result<Arc<Report>, String>> {
    let (base, missing) = match previous {
        Some(Ok(r)) if r.holds(parts) => return Some(Ok(r)),
        Some(Ok(r)) => {
            let missing = parts.without(&r.parts);
            (Some(r), missing)
        }
        // The same spec gives the same error.
        Some(Err(e)) => return Some(Err(e)),
        None => (None, parts.clone()),
    };
    match analyze_parts(cohort, spec, cache, &missing, stop) {
        Ok(more) => Some(Ok(Arc::new(match base {
            Some(r) => {
                let mut r = Arc::unwrap_or_clone(r);
                r.merge(more);
                r
            }
            None => more,
        }))),
        Err(AnalysisError::Cancelled) => None,
        Err(e) => Some(Err(e.to_string())),
    }
}

/// The analyses for `settings`, holding `parts` of the (unmatched, matched) reports; None when
/// stopped. A report of `previous` is reused, and completed with what it lacks, when its spec
/// is unchanged (moving the caliper leaves the unmatched one alone), and `cache` keeps the
/// propensity model, the matching order and the last match between runs, so an edit redoes
/// only what it changed.
pub(super) fn run_reports(
    cohort: &Cohort,
    settings: &Settings,
    cache: &AnalysisCache,
    previous: Option<&Reports>,
    (unmatched_parts, matched_parts): &(Parts, Parts),
    stop: Stop,
) -> Option<Reports> {
    let (unmatched_spec, matched_spec) = settings.analysed_specs();
    let earlier_unmatched = previous
        .filter(|r| r.unmatched_spec == unmatched_spec)
        .map(|r| r.unmatched.clone());
    let earlier_matched = previous
        .filter(|r| r.matched_spec == matched_spec)
        .and_then(|r| r.matched.clone());
    let matched = match &matched_spec {
        Some(spec) => Some(report_with(
            cohort,
            spec,
            cache,
            earlier_matched,
            matched_parts,
            stop,
        )?),
        None => None,
    };
    let unmatched = report_with(
        cohort,
        &unmatched_spec,
        cache,
        earlier_unmatched,
        unmatched_parts,
        stop,
    )?;
    Some(Reports {
        unmatched_spec,
        unmatched,
        matched_spec,
        matched,
    })
}

/// The web build: no threads, so every analysis runs on the UI thread — the current view's
/// parts in the frame of the edit, the rest in a later frame.
const WEB: bool = cfg!(target_arch = "wasm32");

/// Cohorts up to this many rows are analysed inline (well within a 16 ms frame); larger ones
/// on a worker thread.
pub(super) const INLINE_ROWS: usize = 20_000;

/// How long a worker waits after the view's parts before computing the rest: newer settings
/// within this time (the next frames of a drag) take its place.
const REST_AFTER: std::time::Duration = std::time::Duration::from_millis(40);

pub(super) struct Pending {
    /// The job's results: its generation, its reports, how long they took (ms) and whether
    /// they are whole (the second pass) or the current view's parts (the first).
    rx: Receiver<Done>,
    /// Set when nobody waits for the job any more: its analysis stops at its next step.
    stop: Arc<AtomicBool>,
    /// Set when newer settings came: the job ends after its first pass (the view's parts).
    superseded: Arc<AtomicBool>,
    /// True once the job's first pass (the current view's parts) has come.
    visible_done: bool,
}

/// What a job sends: after its first pass, and after the second when it runs one.
struct Done {
    generation: u64,
    reports: Reports,
    ms: f64,
    complete: bool,
}

impl Drop for Pending {
    /// A job dropped before its result came (another cohort opened, a small one analysed on
    /// the UI thread meanwhile, newer settings) is told to stop, so it does not hold a core to
    /// the end.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The worker's job: the current view's parts first (sent at once), then the rest unless
/// newer settings came meanwhile.
fn job(
    cohort: &Cohort,
    settings: &Settings,
    cache: &AnalysisCache,
    previous: Option<Reports>,
    (stop, superseded): (&AtomicBool, &AtomicBool),
    send: impl Fn(Done),
    generation: u64,
) {
    let t0 = Instant::now();
    let stopped = || stop.load(Ordering::Relaxed);
    let visible = settings.visible_parts();
    let Some(first) = run_reports(
        cohort,
        settings,
        cache,
        previous.as_ref(),
        &visible,
        &stopped,
    ) else {
        return;
    };
    let complete = first.complete();
    send(Done {
        generation,
        reports: first.clone(),
        ms: t0.elapsed().as_secs_f64() * 1e3,
        complete,
    });
    if complete {
        return;
    }
    let stopped = || stop.load(Ordering::Relaxed) || superseded.load(Ordering::Relaxed);
    // The rest waits until the settings rest: while a slider is dragged newer settings come
    // every frame, and a rest pass begun meanwhile would take a core from their curves.
    let quiet_from = Instant::now();
    while quiet_from.elapsed() < REST_AFTER {
        if stopped() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let all = (Parts::all(), Parts::all());
    if let Some(whole) = run_reports(cohort, settings, cache, Some(&first), &all, &stopped) {
        send(Done {
            generation,
            reports: whole,
            ms: t0.elapsed().as_secs_f64() * 1e3,
            complete: true,
        });
    }
}

impl App {
    /// True while an analysis runs on the worker.
    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    /// True while the current view waits for its parts: the reports lack them, or newer
    /// settings are being analysed.
    pub fn is_updating_view(&self) -> bool {
        let waiting = self.pending.as_ref().is_some_and(|p| !p.visible_done);
        let lacking = self
            .reports
            .as_ref()
            .is_some_and(|r| !r.hold(&self.settings.visible_parts()));
        waiting || lacking
    }

    /// Re-runs the analysis when the settings or the cohort changed since the last run.
    ///
    /// Large cohorts are analysed on a worker: first the parts the current view shows, then
    /// the rest. Settings that change while the first pass runs (a caliper being dragged) are
    /// analysed when it ends, from the newest settings, so the curves follow the slider at
    /// the first pass' pace; a second pass under way is stopped at once for them.
    pub fn recompute_if_needed(&mut self, ctx: Option<&egui::Context>) {
        let key = (self.cohort_generation, self.settings.clone());
        let analysis_part = |s: &Settings| s.analysed_specs();
        // Reports that lack parts while no job runs get them: the view's, or the rest (in the
        // web build a frame after the view's; on the desktop after a job whose rest was
        // stopped for settings that were then set back — not again while the error of a job
        // that ended unexpectedly is shown, so a failing rest is not retried every frame).
        let lacking = self.pending.is_none()
            && self.reports.as_ref().is_some_and(|r| {
                !r.hold(&self.settings.visible_parts())
                    || (!r.complete() && (WEB || self.error.is_none()))
            });
        let same = self
            .computed_for
            .as_ref()
            .is_some_and(|(g, s)| *g == key.0 && analysis_part(s) == analysis_part(&key.1));
        if same && !lacking {
            return;
        }
        let ctx = ctx.or(self.repaint.as_ref());
        // Sweeps and forests re-run many analyses: always off the UI thread.
        let heavy = matches!(
            self.settings.view,
            View::Sensitivity | View::Subgroups | View::Summary
        );
        let inline = (self.loaded.cohort.n_rows <= INLINE_ROWS && !heavy) || ctx.is_none() || WEB;
        if !inline {
            if let Some(p) = &self.pending {
                p.superseded.store(true, Ordering::Relaxed);
                if !p.visible_done {
                    // Its curves come first; the newest settings are analysed then.
                    return;
                }
            }
        }
        self.computed_for = Some(key);
        self.generation += 1;
        // A job still computing the rest for older settings stops (dropped).
        self.pending = None;
        let cohort = Arc::clone(&self.loaded.cohort);
        let settings = self.settings.clone();
        if inline {
            let t0 = Instant::now();
            // Web: after an edit only what the view shows; the rest in the next frame.
            let parts = if WEB && !same {
                settings.visible_parts()
            } else {
                (Parts::all(), Parts::all())
            };
            self.reports = run_reports(
                &cohort,
                &settings,
                &self.cache,
                self.reports.as_ref(),
                &parts,
                &|| false,
            );
            self.last_analysis_ms = t0.elapsed().as_secs_f64() * 1e3;
            // The browser's console keeps the times (the web build's speed is measured there).
            #[cfg(target_arch = "wasm32")]
            eframe::web_sys::console::info_1(
                &format!(
                    "survival-explorer: analysed {} rows in {:.1} ms ({})",
                    cohort.n_rows,
                    self.last_analysis_ms,
                    if same { "the rest" } else { "the view's parts" }
                )
                .into(),
            );
            if let Some(ctx) =
                ctx.filter(|_| WEB && self.reports.as_ref().is_some_and(|r| !r.complete()))
            {
                ctx.request_repaint();
            }
            return;
        }
        let (tx, rx) = channel();
        let generation = self.generation;
        let repaint = ctx.cloned();
        let cache = Arc::clone(&self.cache);
        let previous = self.reports.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let superseded = Arc::new(AtomicBool::new(false));
        let flags = (Arc::clone(&stop), Arc::clone(&superseded));
        std::thread::spawn(move || {
            let send = |done: Done| {
                // The receiver is gone when another cohort was opened, newer settings came
                // or a small cohort was analysed on the UI thread meanwhile: nothing to do.
                let _ = tx.send(done);
                if let Some(c) = &repaint {
                    c.request_repaint();
                }
            };
            job(
                &cohort,
                &settings,
                &cache,
                previous,
                (&flags.0, &flags.1),
                send,
                generation,
            );
        });
        self.pending = Some(Pending {
            rx,
            stop,
            superseded,
            visible_done: false,
        });
    }

    pub(super) fn poll_worker(&mut self) {
        loop {
            let Some(p) = &mut self.pending else {
                return;
            };
            match p.rx.try_recv() {
                Ok(done) => {
                    p.visible_done = true;
                    if done.complete {
                        self.pending = None;
                    }
                    // A job's generation is the current one while it is pending; an older
                    // job's results never replace a newer one's.
                    if done.generation == self.generation {
                        self.reports = Some(done.reports);
                        self.last_analysis_ms = done.ms;
                    }
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => return,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    // A job told to stop ends without its whole report; one that was not
                    // ended unexpectedly.
                    let told =
                        p.stop.load(Ordering::Relaxed) || p.superseded.load(Ordering::Relaxed);
                    self.pending = None;
                    if !told {
                        self.error = Some("the analysis stopped unexpectedly".to_string());
                    }
                    return;
                }
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
        let (ctx, mut app) = worker_app();
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

    /// An app on the demo whose view (the caliper sweep) always runs on the worker.
    fn worker_app() -> (egui::Context, App) {
        let ctx = egui::Context::default();
        let mut app = App::with_settings(Settings::default());
        app.repaint = Some(ctx.clone());
        app.settings.view = View::Sensitivity;
        (ctx, app)
    }

    /// Frames (`each` after every one) until the worker is idle; fails if it never is.
    fn until_idle(app: &mut App, ctx: &egui::Context, mut each: impl FnMut(&App)) {
        for _ in 0..2000 {
            app.poll_worker();
            app.recompute_if_needed(Some(ctx));
            each(app);
            if !app.is_busy() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert!(!app.is_busy(), "the worker never became idle");
    }

    /// The matched report's caliper shown, if any.
    fn shown_caliper(app: &App) -> Option<f64> {
        let matched = app.reports.as_ref()?.matched.as_ref()?.as_ref().ok()?;
        matched.matching.as_ref().map(|m| m.caliper)
    }

    /// Calipers set one after another while the worker analyses: the caliper shown never goes
    /// back to an older setting (a late part of an older analysis never replaces a newer
    /// one), and once the worker is idle the reports are whole and of the last setting.
    #[test]
    fn a_newer_setting_always_wins_over_an_older_part_arriving_late() {
        let (ctx, mut app) = worker_app();
        // The default caliper (0.2) is shown first; every caliper set is larger.
        let mut shown = Vec::new();
        for k in 0..15 {
            app.settings.matching_mut().caliper = 0.25 + 0.01 * k as f64;
            app.poll_worker();
            app.recompute_if_needed(Some(&ctx));
            shown.extend(shown_caliper(&app));
            std::thread::sleep(std::time::Duration::from_millis(k % 4));
        }
        until_idle(&mut app, &ctx, |app| shown.extend(shown_caliper(app)));
        assert!(
            shown.windows(2).all(|w| w[0] <= w[1]),
            "an older setting came back: {shown:?}"
        );
        let reports = app.reports.as_ref().unwrap();
        assert!(reports.complete());
        assert_eq!(reports.matched_spec, app.settings.analysed_specs().1);
        assert_eq!(shown_caliper(&app), Some(0.25 + 0.01 * 14.0));
    }

    /// Settings changed while the view's parts are computed and then set back: the job's rest
    /// was stopped for the newer settings, and it still comes for the settings shown.
    #[test]
    fn the_rest_comes_for_settings_set_back_while_the_first_pass_runs() {
        let (ctx, mut app) = worker_app();
        app.settings.matching_mut().caliper = 0.3;
        app.recompute_if_needed(Some(&ctx));
        assert!(app.is_busy());
        app.settings.matching_mut().caliper = 0.35;
        app.recompute_if_needed(Some(&ctx));
        app.settings.matching_mut().caliper = 0.3;
        app.recompute_if_needed(Some(&ctx));
        until_idle(&mut app, &ctx, |_| {});
        assert_eq!(shown_caliper(&app), Some(0.3));
        assert!(
            app.reports.as_ref().unwrap().complete(),
            "the rest never came"
        );
    }

    /// A result of an older generation arriving after the current one's first part is
    /// dropped: the view keeps the newer setting's part.
    #[test]
    fn a_late_result_of_an_older_setting_is_dropped() {
        let mut app = App::with_settings(Settings::default());
        let cohort = Arc::clone(&app.loaded.cohort);
        let reports_for = |caliper: f64| {
            let mut s = app.settings.clone();
            s.matching_mut().caliper = caliper;
            let all = (Parts::all(), Parts::all());
            run_reports(&cohort, &s, &app.cache, None, &all, &|| false).unwrap()
        };
        let (older, newer) = (reports_for(0.3), reports_for(0.1));
        let (tx, rx) = channel();
        app.generation = 7;
        app.pending = Some(Pending {
            rx,
            stop: Arc::new(AtomicBool::new(false)),
            superseded: Arc::new(AtomicBool::new(false)),
            visible_done: false,
        });
        let done = |generation, reports, complete| Done {
            generation,
            reports,
            ms: 1.0,
            complete,
        };
        tx.send(done(7, newer, false)).unwrap();
        tx.send(done(6, older, true)).unwrap();
        app.poll_worker();
        assert_eq!(shown_caliper(&app), Some(0.1));
    }
}
