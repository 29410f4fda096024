//! Cox models beyond the arm alone, per endpoint: the multivariable model (`--adjust`: arm +
//! covariates on the rows with every covariate present, as R's `coxph(Surv(time, event) ~
//! arm + covariates)` with `na.action = na.omit`), the univariable screen (`--univariable`),
//! and for every model its tests, concordance, proportional-hazards test and E-value. The
//! covariates are coded as in the propensity model (numeric columns as they are, factors as
//! treatment-coded indicators named column + level).

use nalgebra::DMatrix;

use super::prepared::Prepared;
use super::{
    ChiSquareTest, ConcordanceReport, CoxAdjustedReport, EValue, Exclusion, ModelTerm, ModelTests,
    PhResiduals, PhTerm, PhTest, Sample, Spec, UnivariableRow,
};
use crate::cohort::Cohort;
use crate::propensity::{build_design, model_rows, DesignRole};
use crate::stats::concordance::concordance;
use crate::stats::cox::{cox_fit, cox_zph, CoxData, CoxError, CoxFit};
use crate::stats::dist::{chi_square_upper, normal_quantile, normal_two_sided_p};
use crate::stats::evalue::e_value;
use crate::stats::spline::zph_smooth;
use crate::stats::timefix_sorted;

/// A coefficient R calls possibly infinite is taken as running away beyond this |β|.
const RUNAWAY_COEF: f64 = 10.0;

const MODEL: DesignRole = DesignRole {
    covariate: "model covariate",
    model: "Cox model",
};

/// A Cox model's design over an endpoint's rows: its columns (column-major, rows in time
/// order), their names, each term's label and columns, and the rows used.
struct ModelData {
    time: Vec<f64>,
    status: Vec<bool>,
    weight: Vec<f64>,
    set_id: Vec<u32>,
    x: Vec<f64>,
    names: Vec<String>,
    terms: Vec<(String, Vec<usize>)>,
    n_excluded: usize,
    excluded: Vec<Exclusion>,
    warnings: Vec<String>,
}

/// A fitted model: the fit and what it was fitted to, or why it is not estimable.
struct Fitted {
    data: ModelData,
    fit: Result<CoxFit, String>,
}

/// The arm's term name as R writes it: the arm column and the treated level.
pub(crate) fn arm_term(spec: &Spec) -> String {
    format!("{}{}", spec.arm_column, spec.treated)
}

/// The model's design over the endpoint's rows with every covariate present; `with_arm`
/// puts the arm first.
fn model_data(
    cohort: &Cohort,
    spec: &Spec,
    p: &Prepared,
    sample: &Sample,
    covariates: &[String],
    with_arm: bool,
) -> Result<ModelData, String> {
    let mut names = Vec::new();
    let mut terms = Vec::new();
    let mut columns: Vec<Vec<f64>> = Vec::new();
    let mut warnings = Vec::new();
    let mut excluded = Vec::new();
    // The endpoint's rows, in time order, as a sample of their own.
    let rows = Sample {
        rows: p
            .sample_pos
            .iter()
            .map(|&k| sample.rows[k as usize])
            .collect(),
        treated: p.is_treated.clone(),
        weight: p.all.weight.clone(),
        set_id: p.set_id.clone(),
        weighted: sample.weighted,
    };
    let used: Vec<usize> = if covariates.is_empty() {
        (0..p.all.len()).collect()
    } else {
        let design = build_design(
            cohort,
            covariates,
            &rows,
            MODEL,
            &mut warnings,
            &mut excluded,
        )
        .map_err(|e| {
            e.to_string()
                .replace("propensity covariate", MODEL.covariate)
        })?;
        let m = model_rows(&design, None);
        let mut c = 1;
        for t in &design.terms {
            let k = if t.factor { t.levels.len() - 1 } else { 1 };
            let first = names.len() + usize::from(with_arm);
            terms.push((t.column.clone(), (first..first + k).collect()));
            for j in c..c + k {
                names.push(design.names[j].clone());
                columns.push(m.column(j).iter().copied().collect());
            }
            c += k;
        }
        design.used
    };
    if with_arm {
        names.insert(0, arm_term(spec));
        terms.insert(0, (spec.arm_column.clone(), vec![0]));
        let arm: Vec<f64> = used
            .iter()
            .map(|&i| f64::from(u8::from(p.is_treated[i])))
            .collect();
        if arm.iter().all(|&a| a == arm[0]) {
            return Err(format!(
                "only the {} arm has patients with every covariate",
                if arm[0] == 1.0 {
                    spec.treated_label()
                } else {
                    spec.control_label()
                }
            ));
        }
        columns.insert(0, arm);
    }
    let raw_time = p.raw_time();
    let mut time: Vec<f64> = used.iter().map(|&i| raw_time[i]).collect();
    // R's timefix applies to the times analysed.
    timefix_sorted(&mut time);
    let n_excluded = excluded.iter().map(|e| e.n).sum();
    Ok(ModelData {
        time,
        status: used.iter().map(|&i| p.all.status[i]).collect(),
        weight: used.iter().map(|&i| p.all.weight[i]).collect(),
        set_id: used.iter().map(|&i| p.set_id[i]).collect(),
        x: columns.concat(),
        names,
        terms,
        n_excluded,
        excluded,
        warnings,
    })
}

impl ModelData {
    fn cox(&self) -> CoxData<'_> {
        CoxData {
            time: &self.time,
            status: &self.status,
            weight: &self.weight,
            x: &self.x,
            p: self.names.len(),
        }
    }

    fn n_events(&self) -> usize {
        self.status.iter().filter(|&&s| s).count()
    }

    /// Columns that are (numerically) linear combinations of earlier ones, by Gram–Schmidt
    /// on the weighted centred columns: R gives them NA; here they are left out, with a
    /// warning.
    fn aliased(&self) -> Vec<usize> {
        let n = self.time.len();
        let p = self.names.len();
        let wsum: f64 = self.weight.iter().sum();
        let mut basis: Vec<Vec<f64>> = Vec::new();
        let mut out = Vec::new();
        for j in 0..p {
            let col = &self.x[j * n..(j + 1) * n];
            let mean = col
                .iter()
                .zip(&self.weight)
                .map(|(x, w)| x * w)
                .sum::<f64>()
                / wsum;
            let mut v: Vec<f64> = col
                .iter()
                .zip(&self.weight)
                .map(|(x, w)| (x - mean) * w.sqrt())
                .collect();
            let norm0: f64 = v.iter().map(|a| a * a).sum();
            for b in &basis {
                let dot: f64 = v.iter().zip(b).map(|(a, c)| a * c).sum();
                v.iter_mut().zip(b).for_each(|(a, c)| *a -= dot * c);
            }
            let norm: f64 = v.iter().map(|a| a * a).sum();
            if norm0 == 0.0 || norm <= 1e-10 * norm0 {
                out.push(j);
            } else {
                let s = norm.sqrt();
                basis.push(v.into_iter().map(|a| a / s).collect());
            }
        }
        out
    }

    /// This design without the columns `drop` (and terms left with no column).
    fn without(mut self, drop: &[usize]) -> ModelData {
        let n = self.time.len();
        let keep: Vec<usize> = (0..self.names.len())
            .filter(|j| !drop.contains(j))
            .collect();
        let new_index = |j: usize| keep.iter().position(|&k| k == j);
        self.x = keep
            .iter()
            .flat_map(|&j| self.x[j * n..(j + 1) * n].to_vec())
            .collect();
        self.names = keep.iter().map(|&j| self.names[j].clone()).collect();
        self.terms = self
            .terms
            .into_iter()
            .filter_map(|(label, cols)| {
                let cols: Vec<usize> = cols.into_iter().filter_map(new_index).collect();
                (!cols.is_empty()).then_some((label, cols))
            })
            .collect();
        self
    }
}

/// Fits the model of `covariates` (with the arm first when `with_arm`).
fn fit_model(
    cohort: &Cohort,
    spec: &Spec,
    p: &Prepared,
    sample: &Sample,
    covariates: &[String],
    with_arm: bool,
) -> Result<Fitted, String> {
    let mut data = model_data(cohort, spec, p, sample, covariates, with_arm)?;
    let aliased = data.aliased();
    if !aliased.is_empty() {
        if with_arm && aliased.contains(&0) {
            return Err("the arm is collinear with the covariates".to_string());
        }
        let names: Vec<&str> = aliased.iter().map(|&j| data.names[j].as_str()).collect();
        data.warnings.push(format!(
            "{} collinear with the other covariates and left out of the Cox model (R gives NA)",
            if names.len() == 1 {
                format!("'{}' is", names[0])
            } else {
                format!("'{}' are", names.join("', '"))
            }
        ));
        data = data.without(&aliased);
    }
    if data.names.is_empty() {
        return Err("no covariate varies among the rows used".to_string());
    }
    let fit = cox_fit(&data.cox(), spec.ties, true)
        .map_err(|e| match e {
            CoxError::NoEvents => "no events".to_string(),
            e => e.to_string(),
        })
        .and_then(|f| {
            // R's "coefficient may be infinite" reads the last Newton step, and also fires
            // for a coefficient near 0 whose likelihood converged at once; a running-away
            // coefficient is large (|β| > 10: HR beyond e^±10 — R's were 16–70 on random
            // cohorts). The exact two-value check needs no such threshold.
            let running: Vec<usize> = f
                .infinite
                .iter()
                .copied()
                .filter(|&j| f.coef[j].abs() > RUNAWAY_COEF)
                .collect();
            if f.monotone || !running.is_empty() {
                let which: Vec<&str> = if f.monotone {
                    vec![data.names[0].as_str()]
                } else {
                    running.iter().map(|&j| data.names[j].as_str()).collect()
                };
                Err(format!(
                    "not estimable: the hazard ratio of {} is 0 or infinite (monotone likelihood: in one group no event happens while the other is still at risk)",
                    which.join(", ")
                ))
            } else if !f.converged {
                Err(format!(
                    "the Cox model did not converge in {} iterations",
                    f.iterations
                ))
            } else {
                Ok(f)
            }
        });
    if let Ok(f) = &fit {
        if !f.infinite.is_empty() {
            let names: Vec<&str> = f.infinite.iter().map(|&j| data.names[j].as_str()).collect();
            data.warnings.push(format!(
                "R would warn that the log-likelihood converged before {} did (\"coefficient may be infinite\"); the estimate is small and finite, so it is kept",
                names.join(", ")
            ));
        }
    }
    Ok(Fitted { data, fit })
}

/// Whether SEs are robust: matching weights, or clustered on matched sets when asked.
fn robust_mode(spec: &Spec, sample: &Sample) -> (bool, bool) {
    let cluster = spec.matching.as_ref().is_some_and(|m| m.robust);
    (sample.weighted || cluster, cluster)
}

fn chi(chi_square: f64, df: usize) -> ChiSquareTest {
    ChiSquareTest {
        chi_square,
        df,
        p_value: chi_square_upper(chi_square, df as f64),
    }
}

/// The coefficient table, with the robust variance when asked.
fn terms_of(spec: &Spec, f: &Fitted, fit: &CoxFit, var: &DMatrix<f64>) -> Vec<ModelTerm> {
    let z = normal_quantile(1.0 - (1.0 - spec.conf_level) / 2.0);
    f.data
        .names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let coef = fit.coef[j];
            let se = var[(j, j)].sqrt();
            ModelTerm {
                term: name.clone(),
                coef,
                se,
                hr: coef.exp(),
                ci: [(coef - z * se).exp(), (coef + z * se).exp()],
                p_value: normal_two_sided_p(coef / se),
            }
        })
        .collect()
}

fn variance(f: &Fitted, fit: &CoxFit, robust: (bool, bool)) -> DMatrix<f64> {
    if robust.0 {
        let cluster = robust.1.then_some(f.data.set_id.as_slice());
        if let Some(v) = fit.robust_var(&f.data.weight, cluster) {
            return v;
        }
    }
    fit.var.clone()
}

/// `cox.zph` of a fitted model, rows named by the terms' labels.
pub(crate) fn ph_test_of(
    d: &CoxData,
    fit: &CoxFit,
    terms: &[(String, Vec<usize>)],
    residuals: bool,
) -> (PhTest, Option<PhResiduals>) {
    let cols: Vec<Vec<usize>> = terms.iter().map(|(_, c)| c.clone()).collect();
    let z = cox_zph(d, &fit.coef, fit.ties, &cols, residuals);
    let ph = PhTest {
        terms: terms
            .iter()
            .zip(&z.terms)
            .map(|((label, _), r)| PhTerm {
                term: label.clone(),
                chi_square: r.chi_square,
                df: r.df,
                p_value: r.p_value,
            })
            .collect(),
        global: ChiSquareTest {
            chi_square: z.global.chi_square,
            df: z.global.df,
            p_value: z.global.p_value,
        },
    };
    // The first term's (the arm's) residuals and R's smooth of them.
    let resid = terms.first().and_then(|(label, cols)| {
        let y = z.scaled.first()?;
        // Too few distinct times for the spline: the points without a smooth (R skips it).
        let s = zph_smooth(&z.x, y, z.var[0]).unwrap_or(crate::stats::spline::Smooth {
            x: Vec::new(),
            fit: Vec::new(),
            lower: Vec::new(),
            upper: Vec::new(),
        });
        Some(PhResiduals {
            term: label.clone(),
            x: z.x.clone(),
            time: z.time.clone(),
            beta_t: y.clone(),
            smooth_x: s.x,
            smooth: s.fit,
            lower: s.lower,
            upper: s.upper,
            coef: fit.coef[cols[0]],
        })
    });
    (ph, resid)
}

/// The multivariable model of the endpoint (`spec.adjust`).
pub(crate) fn adjusted_model(
    cohort: &Cohort,
    spec: &Spec,
    p: &Prepared,
    sample: &Sample,
) -> CoxAdjustedReport {
    let robust = robust_mode(spec, sample);
    let mut report = CoxAdjustedReport {
        covariates: spec.adjust.clone(),
        n: 0,
        events: 0,
        n_excluded: 0,
        excluded: Vec::new(),
        ties: spec.ties.name(),
        robust: robust.0,
        terms: Vec::new(),
        tests: None,
        concordance: None,
        ph_test: None,
        e_value: None,
        loglik: f64::NAN,
        warnings: Vec::new(),
        not_estimable: None,
        arm_residuals: None,
    };
    let f = match fit_model(cohort, spec, p, sample, &spec.adjust, true) {
        Ok(f) => f,
        Err(reason) => {
            report.not_estimable = Some(reason);
            return report;
        }
    };
    report.n = f.data.time.len();
    report.events = f.data.n_events();
    report.n_excluded = f.data.n_excluded;
    report.excluded.clone_from(&f.data.excluded);
    report.warnings.clone_from(&f.data.warnings);
    let fit = match &f.fit {
        Ok(fit) => fit,
        Err(reason) => {
            report.not_estimable = Some(reason.clone());
            return report;
        }
    };
    let var = variance(&f, fit, robust);
    report.terms = terms_of(spec, &f, fit, &var);
    report.loglik = fit.loglik;
    let df = f.data.names.len();
    let wald = {
        let b = nalgebra::DVector::from_column_slice(&fit.coef);
        var.clone()
            .cholesky()
            .map_or(f64::NAN, |c| b.dot(&c.solve(&b)))
    };
    report.tests = Some(ModelTests {
        likelihood_ratio: chi(fit.lr_test(), df),
        wald: chi(wald, df),
        score: chi(fit.score_test, df),
    });
    report.concordance = model_concordance(&f, fit, robust);
    let (ph, resid) = ph_test_of(&f.data.cox(), fit, &f.data.terms, true);
    report.ph_test = Some(ph);
    report.arm_residuals = resid;
    let arm = &report.terms[0];
    report.e_value = e_value(arm.hr, arm.ci[0], arm.ci[1]);
    report
}

/// The concordance of the model's linear predictor (clustered on matched sets when the SEs
/// are).
fn model_concordance(f: &Fitted, fit: &CoxFit, robust: (bool, bool)) -> Option<ConcordanceReport> {
    let n = f.data.time.len();
    let lp: Vec<f64> = (0..n)
        .map(|i| {
            (0..fit.coef.len())
                .map(|j| f.data.x[j * n + i] * fit.coef[j])
                .sum()
        })
        .collect();
    let cluster = robust.1.then_some(f.data.set_id.as_slice());
    concordance(&f.data.time, &f.data.status, &f.data.weight, &lp, cluster).map(|c| {
        ConcordanceReport {
            value: c.value,
            se: c.se,
        }
    })
}

/// The univariable screen: the arm alone, then each covariate of `spec.adjust` alone, each on
/// the rows where its own covariate is present.
pub(crate) fn univariable_models(
    cohort: &Cohort,
    spec: &Spec,
    p: &Prepared,
    sample: &Sample,
) -> Vec<UnivariableRow> {
    let robust = robust_mode(spec, sample);
    let mut rows = Vec::new();
    let arm = (spec.arm_column.clone(), None);
    let covs = spec
        .adjust
        .iter()
        .map(|c| (c.strip_suffix(":factor").unwrap_or(c).to_string(), Some(c)));
    for (name, cov) in std::iter::once(arm).chain(covs) {
        let asked: Vec<String> = cov.into_iter().cloned().collect();
        let mut row = UnivariableRow {
            covariate: name,
            n: 0,
            events: 0,
            terms: Vec::new(),
            likelihood_ratio_p: f64::NAN,
            not_estimable: None,
        };
        match fit_model(cohort, spec, p, sample, &asked, asked.is_empty()) {
            Err(reason) => row.not_estimable = Some(reason),
            Ok(f) => {
                row.n = f.data.time.len();
                row.events = f.data.n_events();
                match &f.fit {
                    Err(reason) => row.not_estimable = Some(reason.clone()),
                    Ok(fit) => {
                        let var = variance(&f, fit, robust);
                        row.terms = terms_of(spec, &f, fit, &var);
                        row.likelihood_ratio_p =
                            chi_square_upper(fit.lr_test(), f.data.names.len() as f64);
                    }
                }
            }
        }
        rows.push(row);
    }
    rows
}

/// The E-value of a hazard ratio and its interval, as the report carries it.
pub(crate) fn e_value_of(hr: f64, ci: [f64; 2]) -> Option<EValue> {
    e_value(hr, ci[0], ci[1])
}
