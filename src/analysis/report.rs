//! [`Report`]: every number an analysis produces. Its JSON form is a contract (field names
//! are read by other tools); NaN and infinities serialize as `null`.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::cohort::PatientId;
use crate::stats::km::{KmCurve, Landmark, Rmst};

/// A map that serializes in insertion order (treated arm before control).
#[derive(Clone, Debug, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn insert(&mut self, key: String, value: V) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<V: std::fmt::Display> OrderedMap<V> {
    /// "lenvatinib 125 · sorafenib 105" style text of the entries, joined by `sep`.
    pub fn joined(&self, sep: &str) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(sep)
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Rows left out of one analysis, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exclusion {
    pub reason: String,
    pub n: usize,
}

/// What was loaded.
#[derive(Clone, Debug, Serialize)]
pub struct CohortSummary {
    pub file: String,
    pub n_rows: usize,
    /// Rows per arm level in the whole file (every level, missing not counted).
    pub arms: OrderedMap<usize>,
    pub warnings: Vec<String>,
}

/// Who is analysed: the subgroup, matched or not, and how many per arm.
#[derive(Clone, Debug, Serialize)]
pub struct SampleSummary {
    pub arm_column: String,
    /// The arm levels as the spec names them.
    pub treated: String,
    pub control: String,
    /// How the arms are shown (the keys of every per-arm map): the user's label, else the
    /// level as the file spells it.
    pub treated_label: String,
    pub control_label: String,
    /// The subgroup conditions in words (empty: all patients).
    pub subgroup: Vec<String>,
    /// Patients per arm inside the subgroup, before matching.
    pub n_subgroup: OrderedMap<usize>,
    /// Rows outside the treated/control arms or outside the subgroup.
    pub excluded: Vec<Exclusion>,
    pub matched: bool,
    /// Patients per arm in the analysed sample (after matching when matched).
    pub n_analysed: OrderedMap<usize>,
    /// True when the analysis uses matching weights other than 1.
    pub weighted: bool,
    pub time_unit: &'static str,
    pub conf_type: &'static str,
    pub conf_level: f64,
    /// Things noticed while selecting the sample (e.g. arm levels that differ in case).
    pub warnings: Vec<String>,
}

/// Kaplan–Meier summary of one arm for one endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct ArmSurvival {
    pub n: f64,
    pub events: f64,
    pub median: f64,
    pub median_ci: [f64; 2],
    pub landmarks: Vec<Landmark>,
    pub rmst: Rmst,
    pub median_follow_up: FollowUp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<KmCurve>,
}

/// Median follow-up by the reverse Kaplan–Meier method.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FollowUp {
    pub median: f64,
    pub ci: [f64; 2],
    pub method: &'static str,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct RmstDifference {
    pub horizon: f64,
    pub value: f64,
    pub se: f64,
    pub ci: [f64; 2],
}

#[derive(Clone, Debug, Serialize)]
pub struct LogRankReport {
    pub chi_square: f64,
    pub df: u32,
    pub p_value: f64,
    pub observed: OrderedMap<f64>,
    pub expected: OrderedMap<f64>,
    /// Why the statistic is null, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_available: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CoxReport {
    /// Hazard ratio, treated vs control.
    pub hr: f64,
    pub ci: [f64; 2],
    pub p_value: f64,
    pub ties: &'static str,
    pub coef: f64,
    pub se: f64,
    pub z: f64,
    /// True when `se` is the robust (sandwich) SE clustered on matched sets.
    pub robust: bool,
    pub loglik: f64,
    pub iterations: u32,
    /// Why no hazard ratio could be estimated, when none is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_estimable: Option<String>,
}

/// One time-to-event endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointReport {
    pub label: String,
    pub time_columns: Vec<String>,
    pub event_column: String,
    pub n_excluded: usize,
    pub excluded: Vec<Exclusion>,
    pub arms: OrderedMap<ArmSurvival>,
    pub rmst_difference: RmstDifference,
    pub median_follow_up: FollowUp,
    pub logrank: LogRankReport,
    pub cox: CoxReport,
    /// HR over a grid of calipers (`--caliper-sweep`, matching only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caliper_sweep: Option<Vec<super::explore::SweepPoint>>,
    /// HR per level of each categorical covariate with interaction tests (`--forest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forest: Option<Vec<super::explore::ForestRow>>,
}

impl EndpointReport {
    /// The largest time on either arm's curve (0 when there are none).
    pub fn last_time(&self) -> f64 {
        self.arms
            .iter()
            .filter_map(|(_, a)| a.curve.as_ref().and_then(|c| c.time.last().copied()))
            .fold(0.0f64, f64::max)
    }
}

/// Best-response counts and rates of one arm.
#[derive(Clone, Debug, Serialize)]
pub struct ArmResponse {
    pub n: f64,
    pub n_evaluable: f64,
    pub n_not_evaluable: f64,
    pub n_missing: f64,
    pub counts: OrderedMap<f64>,
    pub dcr: f64,
    pub dcr_ci: [f64; 2],
    pub orr: f64,
    pub orr_ci: [f64; 2],
}

#[derive(Clone, Debug, Serialize)]
pub struct ResponseReport {
    pub column: String,
    pub arms: OrderedMap<ArmResponse>,
    pub dcr_p_value: f64,
    pub orr_p_value: f64,
    pub test: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_available: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Timing {
    pub load_ms: f64,
    /// Everything after loading, start to end.
    pub analysis_ms: f64,
    /// Time spent in each stage: propensity fit (design and logistic regression), matching,
    /// balance (SMDs, Table 1, PS histogram, pairs), every endpoint (KM, log-rank, Cox …,
    /// sweep and forest when asked; summed over the endpoints), response. Balance, the
    /// endpoints and the response run side by side when there is more than one core, so
    /// their sum can exceed their share of `analysis_ms`.
    pub stages: StageTiming,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct StageTiming {
    pub propensity_ms: f64,
    pub matching_ms: f64,
    pub balance_ms: f64,
    pub endpoints_ms: f64,
    pub response_ms: f64,
}

/// Propensity model, pairs and balance (present when matching was asked for).
#[derive(Clone, Debug, Serialize)]
pub struct MatchingReport {
    pub covariates: Vec<String>,
    pub caliper: f64,
    pub caliper_scale: &'static str,
    pub caliper_width: f64,
    pub caliper_sd_of: &'static str,
    pub order: &'static str,
    pub ratio: u32,
    pub replace: bool,
    pub seed: i32,
    pub n_matched: OrderedMap<usize>,
    pub n_unmatched: OrderedMap<usize>,
    pub n_excluded: usize,
    pub excluded: Vec<Exclusion>,
    pub pairs: Vec<(PatientId, PatientId)>,
    /// Pairs whose control was chosen by a tie: two controls as far from the treated patient
    /// within 1e-9 SD of the distance (the left one in sorted order is taken, as MatchIt's
    /// rule says; MatchIt's own arithmetic may pick the other).
    pub n_tie_decisions: usize,
    pub propensity: PropensityReport,
    pub balance: Vec<BalanceRow>,
    pub ps_histogram: PsHistogram,
    pub baseline_table: Vec<BaselineRow>,
    pub warnings: Vec<String>,
    /// Every unit of the propensity model (not in the JSON: one row per patient). For export
    /// of the matched cohort and for checks.
    #[serde(skip)]
    pub units: Vec<MatchedUnit>,
}

/// One patient of the propensity model.
#[derive(Clone, Debug)]
pub struct MatchedUnit {
    /// Row in the file (0-based); its id is `Cohort::patient_id(row)`.
    pub row: usize,
    pub treated: bool,
    pub ps: f64,
    /// The matching distance (logit or PS).
    pub distance: f64,
    /// Matching weight (0 = not matched).
    pub weight: f64,
    /// Matched set (None = not matched).
    pub set: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PropensityReport {
    pub formula: String,
    pub coefficients: OrderedMap<f64>,
    pub se: OrderedMap<f64>,
    pub converged: bool,
    pub iterations: u32,
    pub deviance: f64,
    pub n: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct BalanceRow {
    pub covariate: String,
    pub binary: bool,
    pub mean_treated_before: f64,
    pub mean_control_before: f64,
    pub mean_treated_after: f64,
    pub mean_control_after: f64,
    pub smd_before: f64,
    pub smd_after: f64,
    pub variance_ratio_before: f64,
    pub variance_ratio_after: f64,
    /// |SMD| after matching above 0.1.
    pub imbalanced_after: bool,
    pub imbalanced_before: bool,
}

/// Propensity-score histogram per arm, before and after matching (shared bins).
#[derive(Clone, Debug, Serialize)]
pub struct PsHistogram {
    pub edges: Vec<f64>,
    pub treated_before: Vec<f64>,
    pub control_before: Vec<f64>,
    pub treated_after: Vec<f64>,
    pub control_after: Vec<f64>,
}

/// One line of "Table 1": a level of a categorical covariate (n, %) or a numeric covariate
/// (mean, SD, median, IQR), per arm, before and after matching.
#[derive(Clone, Debug, Serialize)]
pub struct BaselineRow {
    pub covariate: String,
    /// The level for a categorical row; null for a numeric row.
    pub level: Option<String>,
    pub treated_before: BaselineCell,
    pub control_before: BaselineCell,
    pub treated_after: BaselineCell,
    pub control_after: BaselineCell,
}

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum BaselineCell {
    Count {
        n: f64,
        percent: f64,
    },
    Numeric {
        mean: f64,
        sd: f64,
        median: f64,
        q1: f64,
        q3: f64,
    },
}

/// The whole analysis.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub cohort: CohortSummary,
    pub sample: SampleSummary,
    pub endpoints: OrderedMap<EndpointReport>,
    pub response: Option<ResponseReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matching: Option<MatchingReport>,
    /// Analyses that were not done and why, with what to do about it (e.g. a PFS time column
    /// found without its event column).
    pub warnings: Vec<String>,
    pub timing: Timing,
    pub software: Software,
}

#[derive(Clone, Debug, Serialize)]
pub struct Software {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Software {
    fn default() -> Self {
        Software {
            name: "survival-explorer",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

impl Report {
    /// Drops the per-time curve tables (the `--summary` form).
    pub fn without_curves(mut self) -> Report {
        for (_, ep) in self.endpoints.0.iter_mut() {
            for (_, arm) in ep.arms.0.iter_mut() {
                arm.curve = None;
            }
        }
        self
    }
}
