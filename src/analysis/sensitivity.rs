//! The sensitivity summary a reviewer asks for: per endpoint, the hazard ratio of the arm
//! unadjusted, after propensity-score matching, with inverse probability weighting and in the
//! multivariable Cox model, side by side. Each is the one pipeline run with that adjustment
//! (same cohort, subgroup, endpoints and methods); the propensity covariates are the
//! matching's, else the weighting's, and the model's covariates `adjust`, else those.

use super::{
    analyze_cancellable, AnalysisCache, AnalysisError, MatchSpec, OrderedMap, Report, Spec, Stop,
};
use crate::weighting::WeightSpec;

/// One adjustment's hazard ratio.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SensitivityRow {
    /// "unadjusted", "matched", "iptw" or "multivariable".
    pub method: &'static str,
    /// How it was made, for tables and figures ("1:1 caliper 0.2 SD", "IPTW (ATE)", …).
    pub label: String,
    /// Patients in the analysis (matched, weighted, or with every covariate).
    pub n: usize,
    pub hr: f64,
    pub ci: [f64; 2],
    pub p_value: f64,
    pub robust: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_estimable: Option<String>,
}

/// The four analyses' rows per endpoint. An adjustment that cannot run (no covariates, a
/// propensity model that fails) gives rows that say why.
pub(super) fn hr_summary(
    cohort: &crate::cohort::Cohort,
    spec: &Spec,
    cache: &AnalysisCache,
    stop: Stop,
) -> Result<OrderedMap<Vec<SensitivityRow>>, AnalysisError> {
    let ps_covariates: Vec<String> = spec
        .matching
        .as_ref()
        .map(|m| m.covariates.clone())
        .or_else(|| spec.weighting.as_ref().map(|w| w.covariates.clone()))
        .unwrap_or_else(|| MatchSpec::default().covariates);
    let adjust = if spec.adjust.is_empty() {
        ps_covariates.clone()
    } else {
        spec.adjust.clone()
    };
    let base = Spec {
        matching: None,
        weighting: None,
        adjust: Vec::new(),
        univariable: false,
        caliper_sweep: false,
        forest: false,
        sensitivity: false,
        ..spec.clone()
    };
    let matching = spec.matching.clone().unwrap_or(MatchSpec {
        covariates: ps_covariates.clone(),
        ..MatchSpec::default()
    });
    let weighting = spec.weighting.clone().unwrap_or(WeightSpec {
        covariates: ps_covariates,
        ..WeightSpec::default()
    });
    let run = |s: Spec| analyze_cancellable(cohort, &s, cache, stop);
    let unadjusted = run(Spec {
        adjust,
        ..base.clone()
    })?;
    let cancelled = |r: &Result<Report, AnalysisError>| matches!(r, Err(AnalysisError::Cancelled));
    let matched = run(Spec {
        matching: Some(matching.clone()),
        ..base.clone()
    });
    let weighted = run(Spec {
        weighting: Some(weighting.clone()),
        ..base
    });
    if cancelled(&matched) || cancelled(&weighted) {
        return Err(AnalysisError::Cancelled);
    }
    let mut out = OrderedMap::default();
    for (name, ep) in unadjusted.endpoints.iter() {
        let mut rows = vec![arm_row(
            "unadjusted",
            "unadjusted".into(),
            &unadjusted,
            name,
        )];
        rows.push(from_result(
            "matched",
            format!(
                "matched 1:{} ({} caliper {} SD)",
                matching.ratio,
                format!("{:?}", matching.scale).to_lowercase(),
                matching.caliper
            ),
            &matched,
            name,
        ));
        rows.push(from_result("iptw", weighting.describe(), &weighted, name));
        let m = ep.cox_adjusted.as_ref();
        let t = m.and_then(|m| m.terms.first());
        rows.push(SensitivityRow {
            method: "multivariable",
            label: format!(
                "multivariable Cox ({})",
                m.map(|m| m.covariates.join(", ")).unwrap_or_default()
            ),
            n: m.map_or(0, |m| m.n),
            hr: t.map_or(f64::NAN, |t| t.hr),
            ci: t.map_or([f64::NAN; 2], |t| t.ci),
            p_value: t.map_or(f64::NAN, |t| t.p_value),
            robust: m.is_some_and(|m| m.robust),
            not_estimable: m.and_then(|m| m.not_estimable.clone()),
        });
        out.insert(name.clone(), rows);
    }
    Ok(out)
}

fn arm_row(method: &'static str, label: String, report: &Report, endpoint: &str) -> SensitivityRow {
    let ep = report.endpoints.get(endpoint);
    // The endpoint's patients: the sample's, less those the endpoint leaves out (no time).
    let n = ep.map_or(0, |e| {
        report
            .sample
            .n_analysed
            .iter()
            .map(|(_, v)| *v)
            .sum::<usize>()
            - e.n_excluded
    });
    SensitivityRow {
        method,
        label,
        n,
        hr: ep.map_or(f64::NAN, |e| e.cox.hr),
        ci: ep.map_or([f64::NAN; 2], |e| e.cox.ci),
        p_value: ep.map_or(f64::NAN, |e| e.cox.p_value),
        robust: ep.is_some_and(|e| e.cox.robust),
        not_estimable: ep.and_then(|e| e.cox.not_estimable.clone()),
    }
}

fn from_result(
    method: &'static str,
    label: String,
    result: &Result<Report, AnalysisError>,
    endpoint: &str,
) -> SensitivityRow {
    match result {
        Ok(r) => arm_row(method, label, r, endpoint),
        Err(e) => SensitivityRow {
            method,
            label,
            n: 0,
            hr: f64::NAN,
            ci: [f64::NAN; 2],
            p_value: f64::NAN,
            robust: false,
            not_estimable: Some(e.to_string()),
        },
    }
}
