//! One time-to-event endpoint of the pipeline.

use crate::cohort::{Cohort, Column, ColumnData};
use crate::stats::cox::{cox_fit, CoxData, CoxError};
use crate::stats::dist::{normal_quantile, normal_two_sided_p};
use crate::stats::km::{kaplan_meier_table, time_tables, KmCurve, TimeTable};
use crate::stats::logrank::log_rank_tables;
use crate::stats::SurvSample;

use super::prepared::Prepared;

use super::{
    AnalysisError, ArmSurvival, CoxReport, EndpointReport, EndpointSpec, FollowUp, LogRankReport,
    OrderedMap, RmstDifference, Sample, Spec,
};

const FOLLOW_UP_METHOD: &str = "reverse Kaplan–Meier (Schemper & Smith 1996)";

/// A numeric column, or an error naming the first cell that is not a number.
pub(crate) fn numeric<'a>(
    cohort: &'a Cohort,
    col: &'a Column,
    expected: &str,
) -> Result<&'a [f64], AnalysisError> {
    match &col.data {
        ColumnData::Numeric(v) => Ok(v),
        ColumnData::Text { codes, levels } => {
            let (row, value) = codes
                .iter()
                .enumerate()
                .find_map(|(r, &c)| {
                    let s = levels.get(c as usize)?;
                    crate::cohort::parse_number(s)
                        .is_none()
                        .then(|| (r, s.clone()))
                })
                .unwrap_or((0, String::new()));
            Err(AnalysisError::BadValue {
                file: cohort.source.clone(),
                column: col.name.clone(),
                row: cohort.row_number(row),
                value,
                expected: expected.to_string(),
            })
        }
    }
}

fn median_follow_up(curve: &KmCurve) -> FollowUp {
    let q = curve.median();
    FollowUp {
        median: q.estimate,
        ci: [q.lower, q.upper],
        method: FOLLOW_UP_METHOD,
        pending: false,
    }
}

fn not_estimable_cox(spec: &Spec, reason: String) -> CoxReport {
    CoxReport {
        hr: f64::NAN,
        ci: [f64::NAN, f64::NAN],
        p_value: f64::NAN,
        ties: spec.ties.name(),
        coef: f64::NAN,
        se: f64::NAN,
        z: f64::NAN,
        robust: false,
        loglik: f64::NAN,
        iterations: 0,
        not_estimable: Some(reason),
        ph_test: None,
        e_value: None,
        arm_residuals: None,
    }
}

/// Cox model with the arm as the only covariate (treated = 1); with `ph_test`, also its
/// proportional-hazards test and the arm's residuals for the plot.
fn arm_cox(spec: &Spec, prepared: &Prepared, weighted: bool, ph_test: bool) -> CoxReport {
    let robust_cluster = spec.matching.as_ref().is_some_and(|m| m.robust);
    let Prepared { all, set_id, .. } = prepared;
    let x = prepared.arm_covariate();
    let d = CoxData {
        time: &all.time,
        status: &all.status,
        weight: &all.weight,
        x: &x,
        p: 1,
    };
    let need_robust = weighted || robust_cluster;
    let fit = match cox_fit(&d, spec.ties, need_robust) {
        Ok(f) => f,
        Err(CoxError::NoEvents) => return not_estimable_cox(spec, "no events".to_string()),
        Err(e) => return not_estimable_cox(spec, e.to_string()),
    };
    if fit.monotone {
        return not_estimable_cox(
            spec,
            format!(
                "the hazard ratio is 0 or infinite (monotone likelihood): in one arm no event happens while the other arm still has patients at risk ({} vs {})",
                spec.treated_label(), spec.control_label()
            ),
        );
    }
    if fit.may_be_infinite {
        return not_estimable_cox(
            spec,
            "the hazard ratio may be 0 or infinite (monotone likelihood: the log-likelihood converged while the coefficient kept growing, as R warns)".to_string(),
        );
    }
    if !fit.converged {
        return not_estimable_cox(
            spec,
            format!(
                "the Cox model did not converge in {} iterations",
                fit.iterations
            ),
        );
    }
    let coef = fit.coef[0];
    let mut se = fit.se(0);
    if need_robust {
        let cluster = robust_cluster.then_some(set_id.as_slice());
        if let Some(v) = fit.robust_var(&all.weight, cluster) {
            se = v[(0, 0)].sqrt();
        }
    }
    let z = normal_quantile(1.0 - (1.0 - spec.conf_level) / 2.0);
    let ci = [(coef - z * se).exp(), (coef + z * se).exp()];
    let (ph_test, arm_residuals) = if ph_test {
        let terms = [(spec.arm_column.clone(), vec![0])];
        // The test only: no view draws the arm-only model's residuals (the Predictors
        // view draws the adjusted model's).
        let (ph, resid) = super::adjusted::ph_test_of(&d, &fit, &terms, false);
        (Some(ph), resid)
    } else {
        (None, None)
    };
    CoxReport {
        hr: coef.exp(),
        ci,
        p_value: normal_two_sided_p(coef / se),
        ties: spec.ties.name(),
        coef,
        se,
        z: coef / se,
        robust: need_robust,
        loglik: fit.loglik,
        iterations: fit.iterations,
        not_estimable: None,
        ph_test,
        e_value: super::adjusted::e_value_of(coef.exp(), ci),
        arm_residuals,
    }
}

/// The Cox model of the arm only (caliper sweeps need nothing else).
pub(crate) fn endpoint_cox(spec: &Spec, p: &Prepared, weighted: bool) -> CoxReport {
    let events = |arm: bool| -> f64 {
        (0..p.all.len())
            .filter(|&i| p.is_treated[i] == arm && p.all.status[i])
            .map(|i| p.all.weight[i])
            .sum()
    };
    cox_if_events(spec, [events(true), events(false)], || {
        arm_cox(spec, p, weighted, false)
    })
}

/// The Cox model `fit` gives, unless an arm has no events (weight of events per arm:
/// treated, control): then not estimable, saying which.
fn cox_if_events(spec: &Spec, events: [f64; 2], fit: impl FnOnce() -> CoxReport) -> CoxReport {
    let which = match events.map(|e| e == 0.0) {
        [false, false] => return fit(),
        [true, true] => "no events in either arm".to_string(),
        [true, false] => format!("no events in the {} arm", spec.treated_label()),
        [false, true] => format!("no events in the {} arm", spec.control_label()),
    };
    not_estimable_cox(spec, format!("{which}: the hazard ratio is 0 or infinite"))
}

/// What of an endpoint an analysis computes ([`super::Parts`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Want {
    /// Everything the spec asks of the endpoint (adjusted models, forest plot, caliper sweep,
    /// sensitivity summary) besides its curves and arm model.
    pub whole: bool,
    /// Its checks: the median follow-up and the arm model's test of proportional hazards.
    pub checks: bool,
}

/// The endpoint `ep`'s report on `sample`, from its rows in time order (`prepared`, what
/// [`prepare_endpoint`](super::prepared::prepare_endpoint) gives for them), with what `want`
/// asks.
pub(crate) fn analyze_endpoint(
    cohort: &Cohort,
    spec: &Spec,
    ep: &EndpointSpec,
    sample: &Sample,
    prepared: &Prepared,
    want: Want,
) -> Result<EndpointReport, AnalysisError> {
    let Prepared {
        all,
        is_treated,
        excluded,
        n_excluded,
        ..
    } = prepared;
    let (n_excluded, excluded) = (*n_excluded, excluded.clone());
    // The arm's Cox model (with its test of proportional hazards when the checks are asked)
    // and the curves are
    // independent: side by side on rayon's threads below the size where the parts of an
    // analysis run in turn (memory), each computed as alone.
    let fit = || arm_cox(spec, prepared, sample.weighted, want.checks);
    let curves = || curves_of(spec, all, is_treated, sample.weighted, want.checks);
    let (fitted, (arm_t, arm_c, rmst_difference, overall_follow_up, logrank)) =
        if all.len() < super::PARALLEL_BELOW_ROWS {
            rayon::join(fit, curves)
        } else {
            (fit(), curves())
        };
    // Not estimable when an arm has no events, whatever the fit gave.
    let cox = cox_if_events(spec, [arm_t.events, arm_c.events], || fitted);
    let cox_adjusted = (want.whole && !spec.adjust.is_empty())
        .then(|| super::adjusted::adjusted_model(cohort, spec, prepared, sample));
    let cox_univariable = (want.whole && spec.univariable && !spec.adjust.is_empty())
        .then(|| super::adjusted::univariable_models(cohort, spec, prepared, sample));

    let mut arms = OrderedMap::default();
    arms.insert(spec.treated_label(), arm_t);
    arms.insert(spec.control_label(), arm_c);
    Ok(EndpointReport {
        label: ep.label(),
        time_columns: ep.time.clone(),
        event_column: ep.event.clone(),
        n_excluded,
        excluded,
        arms,
        rmst_difference,
        median_follow_up: overall_follow_up,
        logrank,
        cox,
        cox_adjusted,
        cox_univariable,
        sensitivity: None,
        caliper_sweep: None,
        forest: None,
    })
}

/// An endpoint's curves and what is read off them: per arm the Kaplan–Meier summary, the
/// RMST difference, the overall median follow-up (with `follow_up`, as the arms') and the
/// log-rank test (not for weighted samples).
fn curves_of(
    spec: &Spec,
    all: &SurvSample,
    is_treated: &[bool],
    weighted: bool,
    follow_up: bool,
) -> (
    ArmSurvival,
    ArmSurvival,
    RmstDifference,
    FollowUp,
    LogRankReport,
) {
    // Both arms and the pooled sample summed per time in one pass: every curve, follow-up
    // curve and the log-rank test read these tables.
    let [table_t, table_c, table_all] = time_tables(all, |i| is_treated[i]);
    let km = |table: TimeTable| kaplan_meier_table(table, spec.conf_type, spec.conf_level);
    let reverse = |table: &TimeTable| follow_up.then(|| km(table.reversed()));
    let (rev_t, rev_c) = (reverse(&table_t), reverse(&table_c));
    let logrank_result = (!weighted).then(|| log_rank_tables(&table_t, &table_c));
    let km_t = km(table_t);
    let km_c = km(table_c);
    let last = |k: &KmCurve| k.time.last().copied().unwrap_or(0.0);
    let horizon = spec
        .rmst_horizon
        .unwrap_or_else(|| last(&km_t).max(last(&km_c)));
    let landmarks = spec
        .landmarks
        .clone()
        .unwrap_or_else(|| spec.shown_unit().default_landmarks());

    let arm_summary = |km: KmCurve, rev: Option<KmCurve>| -> ArmSurvival {
        let m = km.median();
        let max_t = last(&km);
        let lms = landmarks
            .iter()
            .map(|&t| {
                let mut l = km.at(t);
                if t > max_t {
                    // Beyond the last observation the curve is unknown (R omits such times).
                    l.surv = f64::NAN;
                    l.lower = f64::NAN;
                    l.upper = f64::NAN;
                }
                l
            })
            .collect();
        ArmSurvival {
            n: km.n,
            events: km.events,
            median: m.estimate,
            median_ci: [m.lower, m.upper],
            landmarks: lms,
            rmst: km.rmst(horizon),
            median_follow_up: rev
                .as_ref()
                .map_or_else(FollowUp::pending, median_follow_up),
            curve: Some(km),
        }
    };
    let arm_t = arm_summary(km_t, rev_t);
    let arm_c = arm_summary(km_c, rev_c);

    let z = normal_quantile(1.0 - (1.0 - spec.conf_level) / 2.0);
    let diff = arm_t.rmst.value - arm_c.rmst.value;
    let diff_se = (arm_t.rmst.se.powi(2) + arm_c.rmst.se.powi(2)).sqrt();
    let rmst_difference = RmstDifference {
        horizon,
        value: diff,
        se: diff_se,
        ci: [diff - z * diff_se, diff + z * diff_se],
    };

    let overall_follow_up = reverse(&table_all)
        .as_ref()
        .map_or_else(FollowUp::pending, median_follow_up);

    let logrank = logrank_report(spec, logrank_result);

    (arm_t, arm_c, rmst_difference, overall_follow_up, logrank)
}

/// The log-rank test as the report shows it: per arm observed and expected events, or why
/// the test is not available (matching weights; no events; no one at risk in an arm).
fn logrank_report(spec: &Spec, result: Option<crate::stats::logrank::LogRank>) -> LogRankReport {
    let mut observed = OrderedMap::default();
    let mut expected = OrderedMap::default();
    match result {
        None => LogRankReport {
            chi_square: f64::NAN,
            df: 1,
            p_value: f64::NAN,
            observed,
            expected,
            not_available: Some(
                "not defined for weighted samples (IPTW, or matching with ratio > 1 or replacement)"
                    .to_string(),
            ),
        },
        Some(lr) => {
            observed.insert(spec.treated_label(), lr.observed_a);
            observed.insert(spec.control_label(), lr.observed_b);
            expected.insert(spec.treated_label(), lr.expected_a);
            expected.insert(spec.control_label(), lr.expected_b);
            LogRankReport {
                chi_square: lr.chi_square,
                df: lr.df,
                p_value: lr.p_value,
                observed,
                expected,
                not_available: (lr.variance <= 0.0).then(|| {
                    if lr.observed_a + lr.observed_b == 0.0 {
                        "no events".to_string()
                    } else {
                        "not defined: an arm has no patients at risk at any event time"
                            .to_string()
                    }
                }),
            }
        }
    }
}
