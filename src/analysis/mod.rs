//! `Spec` → `Report`: the one pipeline every front end calls.
//!
//! Order of work: arms and subgroup filter → (matching, inside the subgroup) → the matching
//! report (balance, Table 1, pairs), each endpoint (Kaplan–Meier, medians, landmarks, RMST,
//! follow-up, log-rank, Cox) and the response, independent of each other and shared among
//! the cores (results assembled in that order, so the report does not depend on the cores).

mod endpoint;
pub mod explore;
mod report;
mod response;
mod spec;

use std::time::Instant;

pub use endpoint::{CENSOR_WORDS, EVENT_WORDS};
pub use report::*;
pub use spec::*;

use crate::cohort::{format_number, parse_number, Cohort, Column, ColumnData, MISSING};
use crate::cores;
use crate::matching::{match_checked, matching_report, MatchError};
use crate::propensity::{fit_propensity, PsModel};

/// Analyses of samples this large run their parts one after the other (memory, not time).
const PARALLEL_BELOW_ROWS: usize = 500_000;

/// One part of an analysis after matching, as [`run_parts`] returns it.
enum Part {
    Matching(MatchingReport),
    /// The endpoint's name and its report.
    Endpoint(String, Result<EndpointReport, AnalysisError>),
    Response(Result<Option<ResponseReport>, AnalysisError>),
    /// The part did not run: the caller asked the analysis to stop.
    Cancelled,
}

/// Runs independent parts on as many threads as there are cores, at most `max_threads` (each
/// thread takes the next part not yet taken; the first parts should be the longest) and
/// returns their results in the parts' order: the numbers do not depend on the threads.
fn run_parts<'a, T: Send>(
    parts: Vec<Box<dyn FnOnce() -> T + Send + 'a>>,
    max_threads: usize,
) -> Vec<T> {
    let threads = cores().min(parts.len()).min(max_threads);
    if threads <= 1 {
        return parts.into_iter().map(|part| part()).collect();
    }
    let n = parts.len();
    let queue = std::sync::Mutex::new(parts.into_iter().enumerate());
    let results = std::sync::Mutex::new((0..n).map(|_| None).collect::<Vec<Option<T>>>());
    let work = || loop {
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
        let Some((k, part)) = next else { break };
        let done = part();
        results.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(done);
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Why an analysis could not run. Each message names the file, and where it applies the
/// column and row, and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("invalid settings: {0}")]
    Spec(String),
    #[error("{file}: no column '{column}' ({role}); the columns are: {available}")]
    MissingColumn {
        file: String,
        column: String,
        role: String,
        available: String,
    },
    #[error("{file}: the {role} level '{level}' is not in column '{column}'{context}; levels in the file: {found}")]
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
    cohort
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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

/// Does the cell in `row` equal `level`? Numbers compare numerically ("1" = "1.0"), texts
/// ignoring case and surrounding spaces ("pd" = "PD"), as arm levels do. `None` when no
/// cell of the column can match.
fn value_matcher<'a>(col: &'a Column, level: &str) -> Option<Box<dyn Fn(usize) -> bool + 'a>> {
    match &col.data {
        ColumnData::Numeric(v) => {
            let x = parse_number(level)?;
            v.contains(&x)
                .then(|| Box::new(move |r: usize| v[r] == x) as Box<dyn Fn(usize) -> bool>)
        }
        ColumnData::Text { codes, levels } => {
            let want = normalize_level(level);
            let spellings: Vec<u32> = levels
                .iter()
                .enumerate()
                .filter(|(_, l)| normalize_level(l) == want)
                .map(|(k, _)| k as u32)
                .collect();
            (!spellings.is_empty()).then(|| {
                Box::new(move |r: usize| spellings.contains(&codes[r]))
                    as Box<dyn Fn(usize) -> bool>
            })
        }
    }
}

fn subgroup_mask(
    cohort: &Cohort,
    spec: &Spec,
    warnings: &mut Vec<String>,
) -> Result<Vec<bool>, AnalysisError> {
    let mut mask = vec![true; cohort.n_rows];
    for sg in &spec.subgroups {
        let col = require(cohort, sg.column(), "subgroup")?;
        match sg {
            Subgroup::Levels { values, column } => {
                let (matchers, unmatched): (Vec<_>, Vec<_>) = values
                    .iter()
                    .map(|v| (v, value_matcher(col, v)))
                    .partition(|(_, m)| m.is_some());
                let unmatched: Vec<String> =
                    unmatched.iter().map(|(v, _)| format!("'{v}'")).collect();
                if !unmatched.is_empty() {
                    let text = format!(
                        "no row has {} = {}; the values are {}",
                        cohort.name_as_read(column),
                        unmatched.join(" or "),
                        col.distinct().join(", ")
                    );
                    if matchers.is_empty() {
                        return Err(AnalysisError::Subgroup {
                            file: cohort.source.clone(),
                            message: text,
                        });
                    }
                    warnings.push(text);
                }
                let matchers: Vec<_> = matchers.into_iter().filter_map(|(_, m)| m).collect();
                for (r, m) in mask.iter_mut().enumerate() {
                    *m = *m && matchers.iter().any(|f| f(r));
                }
            }
            Subgroup::Range { min, max, column } => {
                let ColumnData::Numeric(v) = &col.data else {
                    return Err(AnalysisError::Spec(format!(
                        "subgroup range on '{column}', which is not a numeric column"
                    )));
                };
                for (r, m) in mask.iter_mut().enumerate() {
                    let x = v[r];
                    let inside =
                        !x.is_nan() && min.is_none_or(|lo| x >= lo) && max.is_none_or(|hi| x <= hi);
                    *m = *m && inside;
                }
            }
        }
    }
    Ok(mask)
}

/// Rows per level of the arm column (every level of the file).
fn arm_counts(col: &Column) -> OrderedMap<usize> {
    let mut out = OrderedMap::default();
    match &col.data {
        ColumnData::Text { codes, levels } => {
            let mut n = vec![0usize; levels.len()];
            for &c in codes.iter().filter(|&&c| c != MISSING) {
                n[c as usize] += 1;
            }
            for (l, k) in levels.iter().zip(n) {
                out.insert(l.clone(), k);
            }
        }
        ColumnData::Numeric(v) => {
            let mut xs: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
            xs.sort_by(f64::total_cmp);
            let mut i = 0;
            while i < xs.len() {
                let j = xs[i..].iter().take_while(|&&x| x == xs[i]).count();
                out.insert(format_number(xs[i]), j);
                i += j;
            }
        }
    }
    out
}

/// Case and surrounding spaces ignored ("Lenvatinib " = "lenvatinib").
fn normalize_level(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Matches an arm level exactly, or — when no cell matches exactly, or several spellings of
/// the level exist — ignoring case and spaces, with a warning naming the spellings taken.
fn arm_matcher<'a>(
    col: &'a Column,
    level: &str,
    warnings: &mut Vec<String>,
) -> Box<dyn Fn(usize) -> bool + 'a> {
    let ColumnData::Text { codes, levels } = &col.data else {
        return value_matcher(col, level).unwrap_or_else(|| Box::new(|_| false));
    };
    let want = normalize_level(level);
    let spellings: Vec<u32> = levels
        .iter()
        .enumerate()
        .filter(|(_, l)| normalize_level(l) == want)
        .map(|(k, _)| k as u32)
        .collect();
    let exact = levels.iter().any(|l| l == level);
    if spellings.len() > 1 || (!exact && !spellings.is_empty()) {
        let names: Vec<String> = spellings
            .iter()
            .map(|&k| format!("'{}'", levels[k as usize]))
            .collect();
        warnings.push(format!(
            "arm levels {} are taken as '{level}' (they differ only in case or spaces)",
            names.join(", ")
        ));
    }
    Box::new(move |r| spellings.contains(&codes[r]))
}

/// The sample inside the subgroup: rows of the treated and control arms, unweighted.
pub fn subgroup_sample(
    cohort: &Cohort,
    spec: &Spec,
) -> Result<(Sample, Vec<Exclusion>), AnalysisError> {
    let (sample, excluded, _) = subgroup_sample_with_warnings(cohort, spec)?;
    Ok((sample, excluded))
}

fn subgroup_sample_with_warnings(
    cohort: &Cohort,
    spec: &Spec,
) -> Result<(Sample, Vec<Exclusion>, Vec<String>), AnalysisError> {
    let arm_col = require(cohort, &spec.arm_column, "arm")?;
    let same_number = matches!(
        (parse_number(&spec.treated), parse_number(&spec.control)),
        (Some(a), Some(b)) if a == b
    );
    if normalize_level(&spec.treated) == normalize_level(&spec.control) || same_number {
        return Err(AnalysisError::Spec(format!(
            "treated '{}' and control '{}' are the same arm level",
            spec.treated, spec.control
        )));
    }
    let mut warnings = Vec::new();
    let is_treated = arm_matcher(arm_col, &spec.treated, &mut warnings);
    let is_control = arm_matcher(arm_col, &spec.control, &mut warnings);
    let mask = subgroup_mask(cohort, spec, &mut warnings)?;
    let mut sample = Sample::default();
    let (mut other_arm, mut missing_arm, mut outside) = (0usize, 0usize, 0usize);
    let (mut n_t_all, mut n_c_all) = (0usize, 0usize);
    for (r, &inside) in mask.iter().enumerate() {
        let arm = if is_treated(r) {
            n_t_all += 1;
            Some(Arm::Treated)
        } else if is_control(r) {
            n_c_all += 1;
            Some(Arm::Control)
        } else {
            None
        };
        match (arm, inside) {
            (None, _) => {
                if arm_col.text_at(r).is_none() {
                    missing_arm += 1;
                } else {
                    other_arm += 1;
                }
            }
            (Some(_), false) => outside += 1,
            (Some(a), true) => {
                sample.rows.push(r);
                sample.treated.push(a == Arm::Treated);
            }
        }
    }
    let n = sample.rows.len();
    sample.weight = vec![1.0; n];
    sample.set_id = (0..n as u32).collect();
    let found = arm_col.levels().join(", ");
    let subgroup_text = if spec.subgroups.is_empty() {
        String::new()
    } else {
        format!(
            " inside the subgroup {}",
            spec.subgroups
                .iter()
                .map(Subgroup::describe)
                .collect::<Vec<_>>()
                .join(" and ")
        )
    };
    for (role, level, n_all, is_t) in [
        ("treated", &spec.treated, n_t_all, true),
        ("control", &spec.control, n_c_all, false),
    ] {
        let n_in = sample.treated.iter().filter(|&&t| t == is_t).count();
        if n_all == 0 || n_in == 0 {
            return Err(AnalysisError::ArmLevelMissing {
                file: cohort.source.clone(),
                column: spec.arm_column.clone(),
                role,
                level: level.clone(),
                context: if n_all == 0 {
                    String::new()
                } else {
                    subgroup_text.clone()
                },
                found: if found.is_empty() {
                    "none".to_string()
                } else {
                    found.clone()
                },
            });
        }
    }
    let mut excluded = Vec::new();
    if missing_arm > 0 {
        excluded.push(Exclusion {
            reason: format!("missing value in '{}'", spec.arm_column),
            n: missing_arm,
        });
    }
    if other_arm > 0 {
        excluded.push(Exclusion {
            reason: format!("arm is neither '{}' nor '{}'", spec.treated, spec.control),
            n: other_arm,
        });
    }
    if outside > 0 {
        excluded.push(Exclusion {
            reason: "outside the subgroup".to_string(),
            n: outside,
        });
    }
    Ok((sample, excluded, warnings))
}

/// The endpoints to analyse: the spec's, or the canonical ones the file has.
pub fn resolve_endpoints(cohort: &Cohort, spec: &Spec) -> Result<Vec<EndpointSpec>, AnalysisError> {
    Ok(endpoints_and_skips(cohort, spec)?.0)
}

/// The endpoints to analyse, and a warning for each canonical analysis the file does not
/// allow (an endpoint whose time or event column is missing, the response without a
/// best-response column), naming what was found and how to name what was not.
pub fn endpoints_and_skips(
    cohort: &Cohort,
    spec: &Spec,
) -> Result<(Vec<EndpointSpec>, Vec<String>), AnalysisError> {
    let mut skipped = Vec::new();
    if !cohort.has_column(response::RESPONSE_COLUMN) {
        skipped.push(format!(
            "response not analysed (disease control, objective response): no best-response column; {}",
            how_to_name("best_response")
        ));
    }
    if !spec.endpoints.is_empty() {
        skipped.extend(unit_warnings(cohort, spec, &spec.endpoints));
        return Ok((spec.endpoints.clone(), skipped));
    }
    let mut present = Vec::new();
    for e in EndpointSpec::canonical() {
        let columns: Vec<&String> = e.time.iter().chain([&e.event]).collect();
        let (found, missing): (Vec<&String>, Vec<&String>) =
            columns.into_iter().partition(|c| cohort.has_column(c));
        if missing.is_empty() {
            present.push(e);
            continue;
        }
        let found_text = if found.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = found
                .iter()
                .map(|c| format!("{} in '{}'", role_words(c), cohort.name_as_read(c)))
                .collect();
            format!("{} found but ", list.join(", "))
        };
        let missing_text: Vec<String> = missing
            .iter()
            .map(|c| format!("no {} column", role_words(c)))
            .collect();
        let fixes: Vec<String> = missing.iter().map(|c| how_to_name(c)).collect();
        skipped.push(format!(
            "{} not analysed: {found_text}{}; {}",
            e.label(),
            missing_text.join(" and "),
            fixes.join("; ")
        ));
    }
    if present.is_empty() {
        let mut detail: Vec<String> = skipped
            .iter()
            .filter(|s| !s.starts_with("response"))
            .cloned()
            .collect();
        // Dates found without the start they are counted from: times cannot be derived.
        let dates: Vec<&str> = crate::cohort::DATE_ROLES
            .iter()
            .copied()
            .filter(|r| *r != "start_date" && cohort.has_column(r))
            .collect();
        if !dates.is_empty() && !cohort.has_column("start_date") {
            detail.push(format!(
                "dates found ({}) but no start of the second line to count them from; {}",
                dates
                    .iter()
                    .map(|d| format!("'{}'", cohort.name_as_read(d)))
                    .collect::<Vec<_>>()
                    .join(", "),
                how_to_name("start_date")
            ));
        }
        return Err(AnalysisError::NoEndpoint {
            file: cohort.source.clone(),
            detail: detail.join("; "),
        });
    }
    skipped.extend(unit_warnings(cohort, spec, &present));
    Ok((present, skipped))
}

/// A warning for each time column whose name speaks of another unit than the one the times
/// are read in ("os_days" read as months gave "median 359 months").
fn unit_warnings(cohort: &Cohort, spec: &Spec, endpoints: &[EndpointSpec]) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for c in endpoints.iter().flat_map(|e| &e.time) {
        let shown = cohort.name_as_read(c);
        let named = TimeUnit::in_name(shown).or_else(|| TimeUnit::in_name(c));
        if seen.contains(c) {
            continue;
        }
        seen.push(c.clone());
        if let Some(unit) = named.filter(|u| *u != spec.time_unit) {
            out.push(format!(
                "time column '{shown}' looks like {} but its times are read as {}; say the file's unit in Methods, \"Time unit in the file\" (command line: --time-unit {})",
                unit.name(),
                spec.time_unit.name(),
                unit.name()
            ));
        }
    }
    out
}

/// A role's column in words, for messages: "PFS time", "OS event".
fn role_words(role: &str) -> String {
    match role {
        "pfs_months" => "PFS time",
        "pfs_event" => "PFS event",
        "os_months" => "OS time",
        "os_event" => "OS event",
        "first_line_months" => "time on A+B",
        "best_response" => "best-response",
        other => other,
    }
    .to_string()
}

/// What to do so that a role's column is found, in the window and on the command line.
fn how_to_name(role: &str) -> String {
    format!("choose its column in Columns… (command line: --map {role}=COLUMN)")
}

fn counts_by_arm(spec: &Spec, sample: &Sample) -> OrderedMap<usize> {
    let n_t = sample.treated.iter().filter(|&&t| t).count();
    let mut m = OrderedMap::default();
    m.insert(spec.treated_label(), n_t);
    m.insert(spec.control_label(), sample.rows.len() - n_t);
    m
}

/// The spec whose analysis gives an unmatched report's balance figure: the same spec with
/// matching on the default covariates the file has, so the SMDs before matching can be
/// drawn. `None` when the spec matches already or the file has none of them.
pub fn balance_spec(cohort: &Cohort, spec: &Spec) -> Option<Spec> {
    if spec.matching.is_some() {
        return None;
    }
    let covariates: Vec<String> = MatchSpec::default()
        .covariates
        .into_iter()
        .filter(|c| cohort.has_column(c))
        .collect();
    if covariates.is_empty() {
        return None;
    }
    Some(Spec {
        matching: Some(MatchSpec {
            covariates,
            ..MatchSpec::default()
        }),
        ..spec.clone()
    })
}

/// Runs the whole analysis. `load_ms` is recorded as given; `analysis_ms` is measured here.
pub fn analyze(cohort: &Cohort, spec: &Spec) -> Result<Report, AnalysisError> {
    analyze_cached(cohort, spec, &AnalysisCache::default())
}

/// What a front end keeps between analyses of one cohort, so that a live edit redoes only
/// what it changed: the propensity model is refitted only when the sample (arms, subgroup) or
/// the covariates change — moving the caliper, or changing the distance, order, ratio or
/// replacement, reuses it. One cache per cohort: start a new one when the cohort changes.
/// It is shared between threads; its lock is held only to look a model up or store one,
/// never during an analysis.
#[derive(Default)]
pub struct AnalysisCache {
    propensity: std::sync::Mutex<Option<(PropensityKey, std::sync::Arc<PsModel>)>>,
}

/// Everything the propensity model depends on besides the cohort.
#[derive(Clone, Debug, PartialEq)]
struct PropensityKey {
    arm_column: String,
    treated: String,
    control: String,
    subgroups: Vec<Subgroup>,
    covariates: Vec<String>,
}

impl AnalysisCache {
    /// The propensity model for `spec`'s sample and covariates: the cached one when they are
    /// unchanged, else a new fit (then cached).
    fn propensity(
        &self,
        cohort: &Cohort,
        spec: &Spec,
        ms: &MatchSpec,
        subgroup: &Sample,
    ) -> Result<std::sync::Arc<PsModel>, MatchError> {
        let key = PropensityKey {
            arm_column: spec.arm_column.clone(),
            treated: spec.treated.clone(),
            control: spec.control.clone(),
            subgroups: spec.subgroups.clone(),
            covariates: ms.covariates.clone(),
        };
        let slot = || self.propensity.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, model)) = &*slot() {
            if *k == key {
                return Ok(std::sync::Arc::clone(model));
            }
        }
        let model = std::sync::Arc::new(fit_propensity(
            cohort,
            &ms.covariates,
            &spec.arm_labels(),
            subgroup,
        )?);
        *slot() = Some((key, std::sync::Arc::clone(&model)));
        Ok(model)
    }

    /// True when a propensity model is cached.
    pub fn has_propensity_model(&self) -> bool {
        self.propensity.lock().map(|p| p.is_some()).unwrap_or(false)
    }
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
/// true. It is asked before each step (the propensity fit, the matching, each caliper of a
/// sweep, each part of the report; in a forest plot each covariate, each Cox fit of its
/// interaction test and each level), so an analysis nobody
/// waits for any more — a window that opened another cohort — frees its core within one
/// step. A report that ends is the one [`analyze_cached`] gives.
pub fn analyze_cancellable(
    cohort: &Cohort,
    spec: &Spec,
    cache: &AnalysisCache,
    stop: Stop,
) -> Result<Report, AnalysisError> {
    check(stop)?;
    let started = Instant::now();
    spec.validate().map_err(AnalysisError::Spec)?;
    // Column references as the user wrote them (the file's header, any case) → the cohort's.
    let resolved = spec.for_cohort(cohort);
    let spec = &resolved;
    let arm_col = require(cohort, &spec.arm_column, "arm")?;
    let (subgroup, excluded, sample_warnings) = subgroup_sample_with_warnings(cohort, spec)?;
    let (endpoints, skipped) = endpoints_and_skips(cohort, spec)?;
    let n_subgroup = counts_by_arm(spec, &subgroup);
    let subgroup_for_sweep = if spec.caliper_sweep {
        subgroup.clone()
    } else {
        Sample::default()
    };
    let mut stages = StageTiming::default();
    let wrap = |error| AnalysisError::Matching {
        file: cohort.source.clone(),
        error,
    };
    let t_fit = Instant::now();
    let model = match &spec.matching {
        Some(ms) => Some(
            cache
                .propensity(cohort, spec, ms, &subgroup)
                .map_err(wrap)?,
        ),
        None => None,
    };
    stages.propensity_ms = t_fit.elapsed().as_secs_f64() * 1e3;
    check(stop)?;
    // Matching, then the parts that read the matched sample: the matching report (balance,
    // Table 1, pairs), each endpoint and the response, shared among the cores.
    let t_match = Instant::now();
    let mut core = match (&spec.matching, &model) {
        (Some(ms), Some(model)) => Some(match_checked(model, ms, &subgroup).map_err(wrap)?),
        _ => None,
    };
    if core.is_some() {
        stages.matching_ms = t_match.elapsed().as_secs_f64() * 1e3;
        check(stop)?;
    }
    // The matched sample outlives the rest of the match (distances, sets, weights), which the
    // matching report's part owns and drops when done.
    let matched = core.as_mut().map(|c| std::mem::take(&mut c.sample));
    let sample = matched.as_ref().unwrap_or(&subgroup);
    let t_sweep = Instant::now();
    let mut sweeps = if spec.caliper_sweep {
        let swept: Vec<EndpointSpec> = endpoints
            .iter()
            .filter(|e| spec.sweep_endpoint.as_ref().is_none_or(|n| *n == e.name))
            .cloned()
            .collect();
        match &model {
            Some(model) => {
                explore::caliper_sweep(cohort, spec, &subgroup_for_sweep, &swept, model, stop)?
            }
            None => OrderedMap::default(),
        }
    } else {
        OrderedMap::default()
    };
    // The sweep counts with the endpoints (as the stage's doc says).
    stages.endpoints_ms = t_sweep.elapsed().as_secs_f64() * 1e3;
    // A part asked to stop before it starts reports so, and the analysis ends with it.
    let timed = |part: &dyn Fn() -> Part| {
        if stop() {
            return (Part::Cancelled, 0.0);
        }
        let t = Instant::now();
        (part(), t.elapsed().as_secs_f64() * 1e3)
    };
    let mut parts: Vec<Box<dyn FnOnce() -> (Part, f64) + Send + '_>> = Vec::new();
    if let (Some(ms), Some(model), Some(core)) = (&spec.matching, &model, core) {
        let subgroup = &subgroup;
        parts.push(Box::new(move || {
            timed(&|| {
                let report = matching_report(
                    cohort,
                    &spec.arm_labels(),
                    ms,
                    subgroup,
                    model,
                    &core,
                    sample,
                );
                Part::Matching(report)
            })
        }));
    }
    for ep in &endpoints {
        let endpoints = &endpoints;
        parts.push(Box::new(move || {
            timed(&|| {
                Part::Endpoint(
                    ep.name.clone(),
                    endpoint::analyze_endpoint(cohort, spec, ep, sample).and_then(|mut rep| {
                        if spec.forest {
                            rep.forest =
                                Some(explore::forest(cohort, spec, sample, ep, endpoints, stop)?);
                        }
                        Ok(rep)
                    }),
                )
            })
        }));
    }
    parts.push(Box::new(move || {
        timed(&|| Part::Response(response::analyze_response(cohort, spec, sample)))
    }));
    // Side by side, the parts' working memory adds up: from 500,000 patients on they run one
    // after the other (at 1,000,000 the peak was 537–546 MB side by side, 491 MB in turn).
    let threads = if subgroup.rows.len() < PARALLEL_BELOW_ROWS {
        usize::MAX
    } else {
        1
    };
    let mut matching = None;
    let mut endpoint_reports = OrderedMap::default();
    let mut response = None;
    // In the parts' order, so the first error is the one a sequential run meets first.
    for (part, ms) in run_parts(parts, threads) {
        match part {
            Part::Matching(report) => {
                stages.balance_ms = ms;
                matching = Some(report);
            }
            Part::Endpoint(name, rep) => {
                stages.endpoints_ms += ms;
                let mut rep = rep?;
                if let Some(pos) = sweeps.0.iter().position(|(k, _)| *k == name) {
                    rep.caliper_sweep = Some(sweeps.0.swap_remove(pos).1);
                }
                endpoint_reports.insert(name, rep);
            }
            Part::Response(rep) => {
                stages.response_ms = ms;
                response = rep?;
            }
            Part::Cancelled => return Err(AnalysisError::Cancelled),
        }
    }
    let n_analysed = counts_by_arm(spec, sample);
    let weighted = sample.weighted;
    let report = Report {
        cohort: CohortSummary {
            file: cohort.source.clone(),
            n_rows: cohort.n_rows,
            arms: arm_counts(arm_col),
            warnings: cohort.warnings.clone(),
        },
        sample: SampleSummary {
            arm_column: spec.arm_column.clone(),
            treated: spec.treated.clone(),
            control: spec.control.clone(),
            treated_label: spec.treated_label(),
            control_label: spec.control_label(),
            subgroup: spec.subgroups.iter().map(Subgroup::describe).collect(),
            n_subgroup,
            excluded,
            matched: matching.is_some(),
            n_analysed,
            weighted,
            time_unit: spec.shown_unit().name(),
            conf_type: spec.conf_type.r_name(),
            conf_level: spec.conf_level,
            warnings: sample_warnings,
        },
        endpoints: endpoint_reports,
        response,
        matching,
        warnings: skipped,
        derived_from_dates: cohort.read_info.derived.clone(),
        timing: Timing {
            load_ms: 0.0,
            analysis_ms: started.elapsed().as_secs_f64() * 1e3,
            stages,
        },
        software: Software::default(),
    };
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Results come back in the parts' order whichever part ends first, every part runs
    /// once, and with more than one core the parts are shared among threads.
    #[test]
    fn parts_return_in_order_and_share_the_cores() {
        let threads = std::sync::Mutex::new(std::collections::HashSet::new());
        let mut parts: Vec<Box<dyn FnOnce() -> usize + Send + '_>> = Vec::new();
        for k in 0..6usize {
            let threads = &threads;
            parts.push(Box::new(move || {
                // The first parts take longest, so later ones finish first on another thread.
                std::thread::sleep(std::time::Duration::from_millis(5 * (6 - k) as u64));
                threads.lock().unwrap().insert(std::thread::current().id());
                k * 10
            }));
        }
        assert_eq!(run_parts(parts, usize::MAX), vec![0, 10, 20, 30, 40, 50]);
        // With several cores, more than one thread took parts (the first part alone keeps
        // one busy for 30 ms); how many depends on when each thread starts.
        let used = threads.lock().unwrap().len();
        assert_eq!(used >= 2, cores() >= 2, "{used} threads");
    }
}
