//! `Spec` → `Report`: the one pipeline every front end calls.
//!
//! Order of work: arms and subgroup filter → (matching, inside the subgroup) → the matching
//! report (balance, Table 1, pairs), each endpoint (Kaplan–Meier, medians, landmarks, RMST,
//! follow-up, log-rank, Cox) and the response, independent of each other and shared among
//! the cores (results assembled in that order, so the report does not depend on the cores).

mod adjusted;
mod cache;
mod endpoint;
mod endpoints;
mod events;
pub mod explore;
mod parts;
mod prepared;
mod report;
mod response;
mod sample;
mod sensitivity;
mod spec;

use std::sync::Arc;
use web_time::Instant;

pub use cache::AnalysisCache;
pub use endpoints::{balance_spec, endpoints_and_skips, resolve_endpoints};
pub use events::{CENSOR_WORDS, EVENT_WORDS};
pub use parts::{EndpointChoice, Parts};
pub use report::*;
pub use sample::subgroup_sample;
pub use sensitivity::SensitivityRow;
pub use spec::*;

use crate::cohort::{Cohort, Column};
use crate::matching::{matching_report, Details, MatchError};
use explore::SweepPoint;
use parts::{endpoint_parts, run_parts, Drawn, Part, PartFn};
use prepared::TimeOrder;
use sample::{arm_counts, counts_by_arm, normalize_level};

/// Analyses of samples this large run their parts one after the other (memory, not time).
const PARALLEL_BELOW_ROWS: usize = 500_000;

/// Why an analysis could not run. Each message names the file, and where it applies the
/// column and row, and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("invalid settings: {0}")]
    Spec(String),
    #[error("{file}: no column '{column}' ({role}); the columns are: {available}; choose the right one in the side panel or in Columns…")]
    MissingColumn {
        file: String,
        column: String,
        role: String,
        available: String,
    },
    #[error("{file}: the {role} level '{level}' is not in column '{column}'{context}; levels in the file: {found}; choose the arms under Arms (command line: --treated, --control)")]
    ArmLevelMissing {
        file: String,
        column: String,
        role: &'static str,
        level: String,
        context: String,
        found: String,
    },
    #[error("{file}: column '{column}', row {row}: expected {expected}, found '{value}'")]
    BadValue {
        file: String,
        column: String,
        row: usize,
        value: String,
        expected: String,
    },
    #[error(
        "{file}: column {column} must code events as 1 and censoring as 0 (or as words such as dead/deceased/progressed/yes and alive/censored/no); values found: {found}; say which value is the event in Columns… (command line: --event-values COLUMN=VALUE)"
    )]
    EventCoding {
        file: String,
        column: String,
        found: String,
    },
    #[error("{file}: no endpoint to analyse ({detail}); choose the time and event columns in Columns… (command line: --map os_months=COLUMN --map os_event=COLUMN, or --endpoint NAME:TIME_COLUMN:EVENT_COLUMN)")]
    NoEndpoint { file: String, detail: String },
    /// A subgroup that cannot be formed (a value no row has).
    #[error("{file}: subgroup: {message}")]
    Subgroup { file: String, message: String },
    // The match error is part of this message (not a `#[source]`), so it is printed once.
    #[error("{file}: {error}")]
    Matching { file: String, error: MatchError },
    #[error("{file}: weighting: {error}")]
    Weighting {
        file: String,
        error: crate::weighting::WeightError,
    },
    /// The caller asked the analysis to stop (its cohort or settings were replaced).
    #[error("the analysis was stopped before it ended")]
    Cancelled,
}

/// Which arm a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arm {
    Treated,
    Control,
}

pub use crate::sample::Sample;

fn available(cohort: &Cohort) -> String {
    crate::cohort::name_list(cohort.columns.iter().map(|c| c.name.as_str()))
}

/// Looks up a column or says which are there.
pub(crate) fn require<'a>(
    cohort: &'a Cohort,
    name: &str,
    role: &str,
) -> Result<&'a Column, AnalysisError> {
    cohort
        .column(name)
        .ok_or_else(|| AnalysisError::MissingColumn {
            file: cohort.source.clone(),
            column: name.to_string(),
            role: role.to_string(),
            available: available(cohort),
        })
}

/// Runs the whole analysis. `load_ms` is recorded as given; `analysis_ms` is measured here.
pub fn analyze(cohort: &Cohort, spec: &Spec) -> Result<Report, AnalysisError> {
    analyze_cached(cohort, spec, &AnalysisCache::one_shot())
}

/// [`analyze`] reusing what `cache` holds from earlier analyses of the same cohort. The report
/// is the one `analyze` gives for `spec` (only `timing` differs).
pub fn analyze_cached(
    cohort: &Cohort,
    spec: &Spec,
    cache: &AnalysisCache,
) -> Result<Report, AnalysisError> {
    analyze_cancellable(cohort, spec, cache, &|| false)
}

/// A stop request from the caller, asked between the analysis' steps: true ends the analysis
/// with [`AnalysisError::Cancelled`].
pub type Stop<'a> = &'a (dyn Fn() -> bool + Sync);

/// `Err(Cancelled)` once `stop` says so.
pub(crate) fn check(stop: Stop) -> Result<(), AnalysisError> {
    if stop() {
        Err(AnalysisError::Cancelled)
    } else {
        Ok(())
    }
}

/// [`analyze_cached`] that ends early, with [`AnalysisError::Cancelled`], when `stop` returns
/// true (the full report: [`analyze_parts`] with [`Parts::all`]).
pub fn analyze_cancellable(
    cohort: &Cohort,
    spec: &Spec,
    cache: &AnalysisCache,
    stop: Stop,
) -> Result<Report, AnalysisError> {
    analyze_parts(cohort, spec, cache, &Parts::all(), stop)
}

/// The parts `parts` of the report [`analyze_cached`] gives for `spec`, to the bit: what the
/// window's view shows first, the rest after ([`Report::merge`] joins them). The report
/// records which parts it holds ([`Report::parts`]).
///
/// It ends early, with [`AnalysisError::Cancelled`], when `stop` returns true. `stop` is
/// asked before each step (the propensity fit, the matching, each caliper of a
/// sweep, each part of the report; in a forest plot each covariate, each Cox fit of its
/// interaction test and each level), so an analysis nobody
/// waits for any more — a window that opened another cohort — frees its core within one
/// step. A report that ends is the one [`analyze_cached`] gives.
pub fn analyze_parts(
    cohort: &Cohort,
    spec: &Spec,
    cache: &AnalysisCache,
    parts: &Parts,
    stop: Stop,
) -> Result<Report, AnalysisError> {
    check(stop)?;
    let started = Instant::now();
    spec.validate().map_err(AnalysisError::Spec)?;
    // Column references as the user wrote them (the file's header, any case) → the cohort's.
    let resolved = spec.for_cohort(cohort);
    let spec = &resolved;
    // Shown as the file spells them, two arms could end up with one name.
    let same = |a: &str, b: &str| normalize_level(a) == normalize_level(b);
    if same(&spec.treated_label(), &spec.control_label()) && !same(&spec.treated, &spec.control) {
        return Err(AnalysisError::Spec(format!(
            "both arms are shown as '{}'; give them different labels",
            spec.treated_label()
        )));
    }
    let arm_col = require(cohort, &spec.arm_column, "arm")?;
    let formed = cache.sample(cohort, spec)?;
    let (subgroup, excluded, sample_warnings) = (&formed.0, formed.1.clone(), formed.2.clone());
    let (all_endpoints, skipped) = endpoints_and_skips(cohort, spec)?;
    let endpoint_order: Vec<String> = all_endpoints.iter().map(|e| e.name.clone()).collect();
    // The endpoints asked, whole or their checks only, in the report's order.
    let wanted: Vec<(EndpointSpec, endpoint::Want)> = all_endpoints
        .iter()
        .filter_map(|e| {
            let want = endpoint::Want {
                whole: parts.endpoints.includes(&e.name),
                checks: parts.checks.includes(&e.name),
            };
            (want.whole || want.checks).then(|| (e.clone(), want))
        })
        .collect();
    let endpoints: Vec<EndpointSpec> = wanted
        .iter()
        .filter(|(_, want)| want.whole)
        .map(|(e, _)| e.clone())
        .collect();
    let n_subgroup = counts_by_arm(spec, subgroup);
    let mut stages = StageTiming::default();
    let wrap = |error| AnalysisError::Matching {
        file: cohort.source.clone(),
        error,
    };
    let fit = || -> Result<_, AnalysisError> {
        let t_fit = Instant::now();
        let model = match &spec.matching {
            Some(ms) => Some(
                cache
                    .propensity(cohort, spec, &ms.covariates, subgroup)
                    .map_err(wrap)?,
            ),
            None => None,
        };
        let weighted = match &spec.weighting {
            Some(ws) => Some(weighted_sample(cohort, spec, ws, cache, subgroup)?),
            None => None,
        };
        Ok((model, weighted, t_fit.elapsed().as_secs_f64() * 1e3))
    };
    // A first analysis of a large cohort sorts its rows by each endpoint's time (the cohort
    // keeps the orders): beside the propensity fit, which runs on one core.
    let to_sort = if spec.matching.is_some() || spec.weighting.is_some() {
        orders_to_sort(cohort, spec, &endpoints, subgroup, parts.table1)
    } else {
        Vec::new()
    };
    // The fit, then the match, on one core; beside them the sort, then (when the model is
    // fitted for a match of a sample under 500,000 patients) each endpoint's rows of the
    // subgroup in time order, off which the match's are read.
    let fit_and_match = || -> Result<_, AnalysisError> {
        let (model, weighted, fit_ms) = fit()?;
        check(stop)?;
        // The match's own time (not the orders' beside it).
        let timed_match = |ms, model| {
            let t_match = Instant::now();
            let core = cache.matched(spec, ms, model, subgroup);
            (core, t_match.elapsed().as_secs_f64() * 1e3)
        };
        let (core, match_ms) = match (&spec.matching, &model) {
            // Table 1's orders of the numeric covariates beside the match: the other core
            // has sorted and waits (they are kept with the model).
            (Some(ms), Some(model)) if parts.table1 => {
                let ((core, took), ()) = rayon::join(
                    || timed_match(ms, model),
                    || model.order_numeric_terms(cohort, subgroup),
                );
                (Some(core.map_err(wrap)?), took)
            }
            (Some(ms), Some(model)) => {
                let (core, took) = timed_match(ms, model);
                (Some(core.map_err(wrap)?), took)
            }
            _ => (None, 0.0),
        };
        Ok((model, weighted, fit_ms, core, match_ms))
    };
    let drawn_from = spec
        .matching
        .as_ref()
        .filter(|_| subgroup.rows.len() < PARALLEL_BELOW_ROWS);
    let early = drawn_from.is_some_and(|ms| !cache.has_model_of(spec, &ms.covariates));
    let time_orders = || -> Vec<(EndpointSpec, Option<Arc<TimeOrder>>)> {
        sort_rows(cohort, &to_sort);
        let owner = Arc::clone(&formed) as cache::SampleOwner;
        // An endpoint that cannot be read is left to its part, which says why. (Not a step
        // `stop` is asked before: each order takes about 2 ms at 100,000 patients.)
        let made = |ep: &EndpointSpec| {
            let owner = Arc::clone(&owner);
            cache.time_order(cohort, spec, ep, (subgroup, owner)).ok()
        };
        wanted
            .iter()
            .map(|(ep, _)| (ep.clone(), made(ep)))
            .collect()
    };
    let (fitted, orders) = if early && !wanted.is_empty() {
        rayon::join(fit_and_match, time_orders)
    } else if to_sort.is_empty() {
        (fit_and_match(), Vec::new())
    } else {
        (
            rayon::join(fit_and_match, || sort_rows(cohort, &to_sort)).0,
            Vec::new(),
        )
    };
    let (model, weighted, fit_ms, core, match_ms) = fitted?;
    stages.propensity_ms = fit_ms;
    if core.is_some() {
        stages.matching_ms = match_ms;
        check(stop)?;
    }
    let matched = core.as_ref().map(|c| &c.sample);
    let (weighted_sample, weighting) = match weighted {
        Some((s, r)) => (Some(s), Some(r)),
        None => (None, None),
    };
    let sample = matched.or(weighted_sample.as_ref()).unwrap_or(subgroup);
    let t_sweep = Instant::now();
    let sweeps = match &model {
        Some(model) if spec.caliper_sweep && !endpoints.is_empty() => {
            let ms = spec
                .matching
                .as_ref()
                .ok_or_else(|| AnalysisError::Spec("a caliper sweep needs matching".to_string()))?;
            let plan = cache.plan(spec, ms, model).map_err(wrap)?;
            sweeps(cohort, spec, &endpoints, subgroup, (model, &plan), stop)?
        }
        _ => OrderedMap::default(),
    };
    // The sweep counts with the endpoints (as the stage's doc says).
    stages.endpoints_ms = t_sweep.elapsed().as_secs_f64() * 1e3;
    // A match's endpoint rows are read off the subgroup's in time order.
    let drawn = match (drawn_from, &model, &core) {
        (Some(_), Some(model), Some(core)) => Some(Drawn {
            subgroup: (subgroup, Arc::clone(&formed) as cache::SampleOwner),
            orders,
            core,
            used: model.units().1,
            slots: std::sync::OnceLock::new(),
        }),
        _ => None,
    };
    let mut jobs: Vec<PartFn<'_, Part>> = Vec::new();
    if let (Some(ms), Some(model), Some(core)) = (&spec.matching, &model, &core) {
        let arms = spec.arm_labels();
        let details = Details {
            balance: parts.balance,
            table1: parts.table1,
            pairs: parts.pairs,
            units: parts.units,
        };
        jobs.push(Box::new(move || {
            Part::Matching(matching_report(
                cohort, &arms, ms, subgroup, model, core, sample, details,
            ))
        }));
    }
    // Who owns the sample, for the endpoints' rows in time order kept by the cache: the match
    // or the subgroup (a weighted sample is formed anew by each analysis: nothing kept).
    let owner: Option<cache::SampleOwner> = match (&core, &weighted_sample) {
        (Some(core), _) => Some(Arc::clone(core) as cache::SampleOwner),
        (None, None) => Some(Arc::clone(&formed) as cache::SampleOwner),
        (None, Some(_)) => None,
    };
    jobs.extend(endpoint_parts(
        (cohort, cache, owner),
        spec,
        (&wanted, &all_endpoints),
        (sample, drawn.as_ref()),
        parts.response,
        stop,
    ));
    let jobs: Vec<PartFn<'_, (Part, f64)>> = jobs
        .into_iter()
        .map(|part| Box::new(move || timed(stop, part)) as PartFn<'_, _>)
        .collect();
    // Side by side, the parts' working memory adds up: from 500,000 patients on they run one
    // after the other (at 1,000,000 the peak was 537–546 MB side by side, 491 MB in turn).
    let side_by_side = subgroup.rows.len() < PARALLEL_BELOW_ROWS;
    let mut collected = collect_parts(run_parts(jobs, side_by_side), sweeps, &mut stages)?;
    if spec.sensitivity && !endpoints.is_empty() {
        let mut rows = sensitivity::hr_summary(cohort, spec, cache, stop)?;
        let whole = collected.endpoints.0.iter_mut();
        for (name, ep) in whole.filter(|(n, _)| parts.endpoints.includes(n)) {
            if let Some(pos) = rows.0.iter().position(|(k, _)| k == name) {
                ep.sensitivity = Some(rows.0.swap_remove(pos).1);
            }
        }
    }
    let matched = collected.matching.is_some();
    let summary = sample_summary(spec, n_subgroup, excluded, matched, sample, sample_warnings);
    Ok(Report {
        cohort: CohortSummary {
            file: cohort.source.clone(),
            n_rows: cohort.n_rows,
            arms: arm_counts(arm_col),
            warnings: cohort.warnings.clone(),
        },
        sample: summary,
        endpoints: collected.endpoints,
        response: collected.response,
        matching: collected.matching,
        weighting,
        warnings: skipped,
        derived_from_dates: cohort.read_info.derived.clone(),
        parts: parts.clone(),
        endpoint_order,
        timing: Timing {
            load_ms: 0.0,
            analysis_ms: started.elapsed().as_secs_f64() * 1e3,
            stages,
        },
        software: Software::default(),
    })
}

/// The columns whose order of the cohort's rows ([`Cohort::sorted_rows`]) is not yet kept
/// and will be read by large samples (see [`Cohort::order_of_rows`]; a match may come out
/// smaller and sort its own): the endpoints' times when in the file's unit, and with
/// `table1` the matching's numeric covariates (their quartiles) — in cohorts not so large
/// that the parts of the analysis run one after the other (memory).
fn orders_to_sort<'a>(
    cohort: &Cohort,
    spec: &'a Spec,
    endpoints: &'a [EndpointSpec],
    sample: &Sample,
    table1: bool,
) -> Vec<&'a [String]> {
    let worth = (20_000..PARALLEL_BELOW_ROWS).contains(&cohort.n_rows)
        && sample.rows.len().saturating_mul(8) >= cohort.n_rows;
    let same_unit = spec.time_unit.days() == spec.shown_unit().days();
    let times = endpoints
        .iter()
        .map(|e| e.time.as_slice())
        .filter(|_| same_unit);
    // A covariate written `name:factor`, or of text, is a factor: no order read.
    let numeric = |c: &&String| cohort.column(c).is_some_and(|col| col.is_numeric());
    let covariates = spec
        .matching
        .iter()
        .filter(|_| table1)
        .flat_map(|ms| ms.covariates.iter().filter(numeric))
        .map(std::slice::from_ref);
    times
        .chain(covariates)
        .filter(|columns| worth && !cohort.has_sorted_rows(columns))
        .collect()
}

/// [`Cohort::sorted_rows`] of each list of columns, side by side.
fn sort_rows(cohort: &Cohort, columns: &[&[String]]) {
    use rayon::prelude::*;
    columns.par_iter().for_each(|c| {
        cohort.sorted_rows(c);
    });
}

/// The weighted sample and the weighting's report (the propensity model from the cache).
fn weighted_sample(
    cohort: &Cohort,
    spec: &Spec,
    ws: &crate::weighting::WeightSpec,
    cache: &AnalysisCache,
    subgroup: &Sample,
) -> Result<(Sample, crate::weighting::WeightingReport), AnalysisError> {
    let wrap = |error| AnalysisError::Weighting {
        file: cohort.source.clone(),
        error,
    };
    let model = cache
        .propensity(cohort, spec, &ws.covariates, subgroup)
        .map_err(|e| match e {
            MatchError::Propensity(p) => wrap(crate::weighting::WeightError::Propensity(p)),
            other => AnalysisError::Matching {
                file: cohort.source.clone(),
                error: other,
            },
        })?;
    crate::weighting::weight(cohort, &model, ws, &spec.arm_labels(), subgroup).map_err(wrap)
}

/// Who was analysed: the arms as given and as shown, the subgroup, the counts, the sample's
/// weighting and the methods that label every number.
fn sample_summary(
    spec: &Spec,
    n_subgroup: OrderedMap<usize>,
    excluded: Vec<Exclusion>,
    matched: bool,
    sample: &Sample,
    warnings: Vec<String>,
) -> SampleSummary {
    SampleSummary {
        arm_column: spec.arm_column.clone(),
        treated: spec.treated.clone(),
        control: spec.control.clone(),
        treated_label: spec.treated_label(),
        control_label: spec.control_label(),
        subgroup: spec.subgroups.iter().map(Subgroup::describe).collect(),
        n_subgroup,
        excluded,
        matched,
        n_analysed: counts_by_arm(spec, sample),
        weighted: sample.weighted,
        time_unit: spec.shown_unit().name(),
        conf_type: spec.conf_type.r_name(),
        conf_level: spec.conf_level,
        warnings,
    }
}

/// Runs a part and times it; a part asked to stop before it starts reports so, and the
/// analysis ends with it.
fn timed(stop: Stop, part: impl FnOnce() -> Part) -> (Part, f64) {
    if stop() {
        return (Part::Cancelled, 0.0);
    }
    let t = Instant::now();
    (part(), t.elapsed().as_secs_f64() * 1e3)
}

/// The caliper sweep of the endpoints the spec sweeps (all, or the one on screen).
fn sweeps(
    cohort: &Cohort,
    spec: &Spec,
    endpoints: &[EndpointSpec],
    subgroup: &Sample,
    planned: (&crate::propensity::PsModel, &crate::matching::MatchPlan),
    stop: Stop,
) -> Result<OrderedMap<Vec<SweepPoint>>, AnalysisError> {
    let swept: Vec<EndpointSpec> = endpoints
        .iter()
        .filter(|e| spec.sweep_endpoint.as_ref().is_none_or(|n| *n == e.name))
        .cloned()
        .collect();
    explore::caliper_sweep(cohort, spec, subgroup, &swept, planned, stop)
}

/// The parts' results, assembled.
struct Collected {
    matching: Option<MatchingReport>,
    endpoints: OrderedMap<EndpointReport>,
    response: Option<ResponseReport>,
}

/// Assembles the parts' results in their order (so the first error is the one a sequential
/// run meets first), each endpoint with its caliper sweep, and records their times.
fn collect_parts(
    results: Vec<(Part, f64)>,
    mut sweeps: OrderedMap<Vec<SweepPoint>>,
    stages: &mut StageTiming,
) -> Result<Collected, AnalysisError> {
    let mut out = Collected {
        matching: None,
        endpoints: OrderedMap::default(),
        response: None,
    };
    for (part, ms) in results {
        match part {
            Part::Matching(report) => {
                stages.balance_ms = ms;
                out.matching = Some(report);
            }
            Part::Endpoint(name, rep) => {
                stages.endpoints_ms += ms;
                let mut rep = rep?;
                if let Some(pos) = sweeps.0.iter().position(|(k, _)| *k == name) {
                    rep.caliper_sweep = Some(sweeps.0.swap_remove(pos).1);
                }
                out.endpoints.insert(name, rep);
            }
            Part::Response(rep) => {
                stages.response_ms = ms;
                out.response = rep?;
            }
            Part::Cancelled => return Err(AnalysisError::Cancelled),
        }
    }
    Ok(out)
}
