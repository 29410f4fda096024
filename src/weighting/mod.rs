//! Inverse probability of treatment weighting (IPTW), the alternative to matching that keeps
//! every patient: weights from the propensity model (the matching's: same design, same glm),
//! for the average treatment effect (ATE: 1/ps and 1/(1 − ps); stabilized by the sample's
//! proportions of treated and controls) or on the treated (ATT: 1 and ps/(1 − ps)), with
//! optional trimming of extreme scores; the weighted sample every analysis then reads, and the
//! weighting's report: weight summaries, Kish's effective sample sizes and weighted SMDs.

use serde::{Deserialize, Serialize};

use crate::cohort::Cohort;
use crate::propensity::{model_rows, PsModel};
use crate::sample::{ArmLabels, Exclusion, OrderedMap, Sample};

/// Which effect the weights estimate.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Estimand {
    /// Average treatment effect (the whole sample).
    #[default]
    Ate,
    /// Average treatment effect on the treated.
    Att,
}

impl Estimand {
    pub fn name(self) -> &'static str {
        match self {
            Estimand::Ate => "ate",
            Estimand::Att => "att",
        }
    }
}

/// The weighting settings (`--iptw COV,… [--estimand] [--stabilized] [--trim Q]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WeightSpec {
    pub covariates: Vec<String>,
    pub estimand: Estimand,
    /// ATE weights times the sample's proportion of the patient's arm.
    pub stabilized: bool,
    /// Leave out patients whose propensity score is below `trim` or above 1 − `trim`.
    pub trim: Option<f64>,
}

impl Default for WeightSpec {
    fn default() -> Self {
        WeightSpec {
            covariates: vec![
                "ecog".to_string(),
                "albi_grade".to_string(),
                "prior_io_response".to_string(),
            ],
            estimand: Estimand::Ate,
            stabilized: false,
            trim: None,
        }
    }
}

impl WeightSpec {
    /// "IPTW (ATE, stabilized, trimmed at 0.05)", for titles.
    pub fn describe(&self) -> String {
        describe(self.estimand.name(), self.is_stabilized(), self.trim)
    }

    /// Stabilization applies to ATE weights only (ATT weights are left as they are).
    pub fn is_stabilized(&self) -> bool {
        self.stabilized && self.estimand == Estimand::Ate
    }
}

fn describe(estimand: &str, stabilized: bool, trim: Option<f64>) -> String {
    let mut parts = vec![estimand.to_uppercase()];
    if stabilized {
        parts.push("stabilized".to_string());
    }
    if let Some(q) = trim {
        parts.push(format!("trimmed at {q}"));
    }
    format!("IPTW ({})", parts.join(", "))
}

impl WeightingReport {
    /// "IPTW (ATE, stabilized)", for titles.
    pub fn describe(&self) -> String {
        describe(self.estimand, self.stabilized, self.trim)
    }
}

/// Why the weights could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WeightError {
    #[error(transparent)]
    Propensity(#[from] crate::propensity::PropensityError),
    #[error("the propensity model did not converge or separates the arms (fitted scores of 0 or 1) on {0}: inverse probability weights would be enormous; leave out or regroup the covariate that separates them")]
    Separation(String),
    #[error("after trimming at {0}, the {1} arm has no patients")]
    EmptyArm(f64, String),
    #[error("trim {0} must be between 0 and 0.5")]
    BadTrim(f64),
}

/// The fitted propensity model, as the weighting report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct WeightingModel {
    pub coefficients: OrderedMap<f64>,
    pub converged: bool,
    pub iterations: u32,
}

/// Weight summaries: range, and per arm the sum and Kish's effective sample size.
#[derive(Clone, Debug, Serialize)]
pub struct WeightSummary {
    pub min: f64,
    pub max: f64,
    pub sum: OrderedMap<f64>,
    pub ess: OrderedMap<f64>,
}

/// One covariate column's standardized mean difference before and after weighting.
#[derive(Clone, Debug, Serialize)]
pub struct WeightedBalance {
    pub covariate: String,
    pub smd_before: f64,
    pub smd_after: f64,
}

/// One weighted patient: the file row, the propensity score and the weight.
#[derive(Clone, Debug, Serialize)]
pub struct WeightedUnit {
    pub row: usize,
    pub ps: f64,
    pub weight: f64,
    pub treated: bool,
}

/// The weighting as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct WeightingReport {
    pub method: &'static str,
    pub estimand: &'static str,
    pub stabilized: bool,
    pub trim: Option<f64>,
    pub covariates: Vec<String>,
    /// Patients weighted.
    pub n: usize,
    pub n_excluded: usize,
    pub excluded: Vec<Exclusion>,
    pub propensity: WeightingModel,
    pub weights: WeightSummary,
    pub balance: Vec<WeightedBalance>,
    /// The weights' distribution per arm (for the Balance view and figure).
    pub histogram: WeightHistogram,
    pub warnings: Vec<String>,
    /// Per patient (file order): not in the JSON; the tables and the window read it.
    #[serde(skip)]
    pub units: Vec<WeightedUnit>,
}

/// Counts of patients per weight bin and arm: `edges` has one more entry than each arm's
/// counts.
#[derive(Clone, Debug, Serialize)]
pub struct WeightHistogram {
    pub edges: Vec<f64>,
    pub counts: OrderedMap<Vec<f64>>,
}

const HISTOGRAM_BINS: usize = 20;

fn histogram(units: &[WeightedUnit], arms: &ArmLabels, min: f64, max: f64) -> WeightHistogram {
    let width = ((max - min) / HISTOGRAM_BINS as f64).max(1e-12);
    let edges = (0..=HISTOGRAM_BINS)
        .map(|i| min + width * i as f64)
        .collect();
    let mut counts = OrderedMap::default();
    for (want, label) in [(true, &arms.treated), (false, &arms.control)] {
        let mut c = vec![0.0; HISTOGRAM_BINS];
        for u in units.iter().filter(|u| u.treated == want) {
            let b = (((u.weight - min) / width) as usize).min(HISTOGRAM_BINS - 1);
            c[b] += 1.0;
        }
        counts.insert(label.clone(), c);
    }
    WeightHistogram { edges, counts }
}

/// A fitted score this close to 0 or 1 is separation, not a weight.
const PS_EDGE: f64 = 1e-8;
/// A weight above this is named in a warning.
const LARGE_WEIGHT: f64 = 10.0;

/// The weighted sample and its report, from the propensity model of `subgroup`.
pub fn weight(
    cohort: &Cohort,
    model: &PsModel,
    ws: &WeightSpec,
    arms: &ArmLabels,
    subgroup: &Sample,
) -> Result<(Sample, WeightingReport), WeightError> {
    if let Some(q) = ws.trim {
        if !(q > 0.0 && q < 0.5) {
            return Err(WeightError::BadTrim(q));
        }
    }
    let (treated, used) = model.units();
    let ps = &model.fit.fitted;
    if !model.fit.converged
        || model.fit.separation
        || ps.iter().any(|&p| !(p > PS_EDGE && p < 1.0 - PS_EDGE))
    {
        return Err(WeightError::Separation(ws.covariates.join(", ")));
    }
    let mut excluded = model.excluded.clone();
    // Trimming before the weights: the units kept (positions in the model's units).
    let keep: Vec<usize> = match ws.trim {
        Some(q) => (0..used.len())
            .filter(|&u| ps[u] >= q && ps[u] <= 1.0 - q)
            .collect(),
        None => (0..used.len()).collect(),
    };
    if keep.len() < used.len() {
        let q = ws.trim.unwrap_or(0.0);
        excluded.push(Exclusion {
            reason: format!("propensity score below {q} or above {} (trimmed)", 1.0 - q),
            n: used.len() - keep.len(),
        });
    }
    for (want, label) in [(true, &arms.treated), (false, &arms.control)] {
        if !keep.iter().any(|&u| treated[u] == want) {
            return Err(WeightError::EmptyArm(ws.trim.unwrap_or(0.0), label.clone()));
        }
    }
    let n = keep.len();
    let p1 = keep.iter().filter(|&&u| treated[u]).count() as f64 / n as f64;
    let w: Vec<f64> = keep
        .iter()
        .map(|&u| {
            let (p, t) = (ps[u], treated[u]);
            match (ws.estimand, t) {
                (Estimand::Ate, true) => (if ws.is_stabilized() { p1 } else { 1.0 }) / p,
                (Estimand::Ate, false) => {
                    (if ws.is_stabilized() { 1.0 - p1 } else { 1.0 }) / (1.0 - p)
                }
                (Estimand::Att, true) => 1.0,
                (Estimand::Att, false) => p / (1.0 - p),
            }
        })
        .collect();
    let units: Vec<WeightedUnit> = keep
        .iter()
        .zip(&w)
        .map(|(&u, &weight)| WeightedUnit {
            row: subgroup.rows[used[u]],
            ps: ps[u],
            weight,
            treated: treated[u],
        })
        .collect();
    let sample = Sample {
        rows: units.iter().map(|u| u.row).collect(),
        treated: units.iter().map(|u| u.treated).collect(),
        weight: w.clone(),
        set_id: (0..n as u32).collect(),
        weighted: true,
    };
    let summary = summarize(&units, arms);
    let mut warnings = model.warnings.clone();
    if let Some(big) = units.iter().max_by(|a, b| a.weight.total_cmp(&b.weight)) {
        if big.weight > LARGE_WEIGHT {
            warnings.push(format!(
                "the largest weight is {:.1} (row {}{}, propensity score {:.4}): a few patients carry much of the weighted sample; consider --stabilized or --trim 0.05",
                big.weight,
                cohort.row_number(big.row),
                patient_id(cohort, big.row),
                big.ps
            ));
        }
    }
    let balance = weighted_balance(model, &keep, &w, ws.estimand);
    let histogram = histogram(&units, arms, summary.min, summary.max);
    let report = model.report(cohort);
    let n_excluded = excluded.iter().map(|e| e.n).sum();
    Ok((
        sample,
        WeightingReport {
            method: "iptw",
            estimand: ws.estimand.name(),
            stabilized: ws.is_stabilized(),
            trim: ws.trim,
            covariates: ws.covariates.clone(),
            n,
            n_excluded,
            excluded,
            propensity: WeightingModel {
                coefficients: report.coefficients,
                converged: report.converged,
                iterations: report.iterations,
            },
            weights: summary,
            balance,
            histogram,
            warnings,
            units,
        },
    ))
}

/// ", patient 17" when the cohort has a patient id column.
fn patient_id(cohort: &Cohort, row: usize) -> String {
    cohort
        .column("patient_id")
        .and_then(|c| c.text_at(row))
        .map(|id| format!(", patient {id}"))
        .unwrap_or_default()
}

fn summarize(units: &[WeightedUnit], arms: &ArmLabels) -> WeightSummary {
    let mut sum = OrderedMap::default();
    let mut ess = OrderedMap::default();
    for (want, label) in [(true, &arms.treated), (false, &arms.control)] {
        let w: Vec<f64> = units
            .iter()
            .filter(|u| u.treated == want)
            .map(|u| u.weight)
            .collect();
        let s: f64 = w.iter().sum();
        let s2: f64 = w.iter().map(|x| x * x).sum();
        sum.insert(label.clone(), s);
        ess.insert(label.clone(), s * s / s2);
    }
    let ws = units.iter().map(|u| u.weight);
    WeightSummary {
        min: ws.clone().fold(f64::INFINITY, f64::min),
        max: ws.fold(f64::NEG_INFINITY, f64::max),
        sum,
        ess,
    }
}

/// Per column of the propensity model (factors as indicators, named as its coefficients):
/// the difference in means before and after weighting over the unweighted SD — the treated
/// arm's for ATT, the pooled sqrt((s₁² + s₀²)/2) for ATE — with sample (n − 1) variances.
fn weighted_balance(
    model: &PsModel,
    keep: &[usize],
    w: &[f64],
    estimand: Estimand,
) -> Vec<WeightedBalance> {
    let (treated, _) = model.units();
    let x = model_rows(&model.design, Some(keep));
    let t: Vec<bool> = keep.iter().map(|&u| treated[u]).collect();
    let mean = |col: usize, arm: bool, weighted: bool| -> f64 {
        let (mut s, mut sw) = (0.0, 0.0);
        for (r, (&tr, &wr)) in t.iter().zip(w).enumerate() {
            if tr == arm {
                let wt = if weighted { wr } else { 1.0 };
                s += wt * x[(r, col)];
                sw += wt;
            }
        }
        s / sw
    };
    let var = |col: usize, arm: bool| -> f64 {
        let m = mean(col, arm, false);
        let (mut ss, mut k) = (0.0, 0.0);
        for (r, &tr) in t.iter().enumerate() {
            if tr == arm {
                ss += (x[(r, col)] - m).powi(2);
                k += 1.0;
            }
        }
        ss / (k - 1.0)
    };
    model.design.names[1..]
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let col = j + 1;
            let sd = match estimand {
                Estimand::Att => var(col, true).sqrt(),
                Estimand::Ate => ((var(col, true) + var(col, false)) / 2.0).sqrt(),
            };
            WeightedBalance {
                covariate: name.clone(),
                smd_before: (mean(col, true, false) - mean(col, false, false)) / sd,
                smd_after: (mean(col, true, true) - mean(col, false, true)) / sd,
            }
        })
        .collect()
}
