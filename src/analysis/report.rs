//! [`Report`]: every number an analysis produces. Its JSON form is a contract (field names
//! are read by other tools); NaN and infinities serialize as `null`.

use serde::Serialize;

pub use crate::balance::{BalanceRow, BaselineCell, BaselineRow, PsHistogram};
pub use crate::matching::{MatchedUnit, MatchingReport};
pub use crate::propensity::PropensityReport;
pub use crate::sample::{Exclusion, OrderedMap};

use crate::stats::km::{KmCurve, Landmark, Rmst};

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
    /// Columns the loader derived from dates (e.g. `os_months` from the dates of start, death
    /// and last follow-up); empty when the file had durations.
    pub derived_from_dates: Vec<String>,
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
