//! Which endpoints an analysis runs: the spec's, or the canonical ones the file has — with
//! a warning for each canonical analysis the file does not allow and how to name what is
//! missing, and for time columns whose name speaks of another unit; and the spec of the
//! balance figure of an unmatched analysis.

use super::{AnalysisError, EndpointSpec, MatchSpec, Spec, TimeUnit};
use crate::cohort::Cohort;

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
    if !cohort.has_column(super::response::RESPONSE_COLUMN) {
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
pub(super) fn unit_warnings(
    cohort: &Cohort,
    spec: &Spec,
    endpoints: &[EndpointSpec],
) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for c in endpoints.iter().flat_map(|e| &e.time) {
        let shown = cohort.name_as_read(c);
        // The header as the file has it; a role's own name ("os_months") says nothing of a
        // column renamed to it, only of one derived from dates (in months).
        let derived = cohort.read_info.derived.contains(c);
        let named = if derived {
            TimeUnit::in_name(c)
        } else {
            TimeUnit::in_name(shown)
        };
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
pub(super) fn role_words(role: &str) -> String {
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
pub(super) fn how_to_name(role: &str) -> String {
    format!("choose its column in Columns… (command line: --map {role}=COLUMN)")
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
