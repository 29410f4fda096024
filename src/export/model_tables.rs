//! The tables of the adjusted analyses: the Cox models as Table 2 (`cox_<endpoint>.csv`), and
//! the weighting's balance and per-patient weights; the weighting's methods sentence.

use super::tables::{line, num};
use crate::analysis::Report;
use crate::cohort::Cohort;
use crate::weighting::WeightingReport;

/// An endpoint's Cox models as Table 2 (`cox_<endpoint>.csv`), one row per term: the
/// univariable models, the multivariable model, then its proportional-hazards test per term
/// and global. `None` without `--adjust`.
pub fn cox_csv(report: &Report, endpoint: &str) -> Option<String> {
    let ep = report.endpoints.get(endpoint)?;
    let model = ep.cox_adjusted.as_ref()?;
    let mut out = String::new();
    line(
        &mut out,
        &[
            "model",
            "covariate",
            "term",
            "n",
            "events",
            "coef",
            "se",
            "hr",
            "ci_lower",
            "ci_upper",
            "p_value",
            "chi_square",
            "df",
            "note",
        ]
        .map(String::from),
    );
    let term_row = |out: &mut String,
                    model: &str,
                    cov: &str,
                    n: usize,
                    ev: usize,
                    t: &crate::analysis::ModelTerm| {
        line(
            out,
            &[
                model.to_string(),
                cov.to_string(),
                t.term.clone(),
                n.to_string(),
                ev.to_string(),
                num(t.coef),
                num(t.se),
                num(t.hr),
                num(t.ci[0]),
                num(t.ci[1]),
                num(t.p_value),
                String::new(),
                String::new(),
                String::new(),
            ],
        );
    };
    for u in ep.cox_univariable.iter().flatten() {
        for t in &u.terms {
            term_row(&mut out, "univariable", &u.covariate, u.n, u.events, t);
        }
        if let Some(why) = &u.not_estimable {
            let mut cells = vec![String::new(); 14];
            cells[0] = "univariable".into();
            cells[1] = u.covariate.clone();
            cells[13] = format!("not estimable: {why}");
            line(&mut out, &cells);
        }
    }
    for t in &model.terms {
        term_row(&mut out, "multivariable", "", model.n, model.events, t);
    }
    let notes = model
        .not_estimable
        .iter()
        .map(|why| format!("not estimable: {why}"))
        .chain(model.warnings.iter().cloned());
    for note in notes {
        let mut cells = vec![String::new(); 14];
        cells[0] = "multivariable".into();
        cells[13] = note;
        line(&mut out, &cells);
    }
    if let Some(ph) = &model.ph_test {
        let rows = ph
            .terms
            .iter()
            .map(|t| (t.term.as_str(), t.chi_square, t.df, t.p_value))
            .chain(std::iter::once((
                "GLOBAL",
                ph.global.chi_square,
                ph.global.df,
                ph.global.p_value,
            )));
        for (term, chi, df, p) in rows {
            let mut cells = vec![String::new(); 14];
            cells[0] = "ph_test".into();
            cells[2] = term.to_string();
            cells[10] = num(p);
            cells[11] = num(chi);
            cells[12] = df.to_string();
            line(&mut out, &cells);
        }
    }
    Some(out)
}

/// Under weighting: the weighted SMDs (`balance_weighted.csv`) and each patient's row, id,
/// arm, propensity score and weight (`weights.csv`).
pub fn weighting_csv(cohort: &Cohort, report: &Report) -> Option<(String, String)> {
    let w = report.weighting.as_ref()?;
    let mut balance = String::new();
    line(
        &mut balance,
        &["covariate", "smd_before", "smd_after"].map(String::from),
    );
    for b in &w.balance {
        line(
            &mut balance,
            &[b.covariate.clone(), num(b.smd_before), num(b.smd_after)],
        );
    }
    let ids = cohort.column("patient_id");
    let mut weights = String::new();
    line(
        &mut weights,
        &["row", "patient_id", "arm", "ps", "weight"].map(String::from),
    );
    for u in &w.units {
        let id = ids.and_then(|c| c.text_at(u.row)).unwrap_or_default();
        let arm = if u.treated {
            &report.sample.treated_label
        } else {
            &report.sample.control_label
        };
        line(
            &mut weights,
            &[
                cohort.row_number(u.row).to_string(),
                id.to_string(),
                arm.clone(),
                num(u.ps),
                num(u.weight),
            ],
        );
    }
    Some((balance, weights))
}

/// report.md's methods sentence for the weighting.
pub fn weighting_methods(w: &WeightingReport) -> String {
    let weights = match (w.estimand, w.stabilized) {
        ("att", _) => "1 for the treated and ps/(1 − ps) for the controls (ATT)".to_string(),
        (_, true) => {
            "P(T=1)/ps for the treated and P(T=0)/(1 − ps) for the controls (stabilized ATE)"
                .to_string()
        }
        _ => "1/ps for the treated and 1/(1 − ps) for the controls (ATE)".to_string(),
    };
    let trim = match w.trim {
        Some(q) => format!(
            " Patients with a propensity score below {q} or above {} were left out first.",
            1.0 - q
        ),
        None => String::new(),
    };
    format!(
        "Treatment groups were balanced by inverse probability of treatment weighting: the propensity score (ps) was estimated by logistic regression of treatment on {}, and each patient weighted by {weights}.{trim} Balance was assessed with standardized mean differences of the weighted means over the unweighted standard deviation (threshold 0.1), and the effective sample size per arm by Kish's formula. Weighted Kaplan–Meier curves used robust (infinitesimal-jackknife) variances, and the weighted Cox model robust standard errors. ",
        w.covariates.iter().map(|c| c.strip_suffix(":factor").unwrap_or(c)).collect::<Vec<_>>().join(", ")
    )
}
