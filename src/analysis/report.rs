//! [`Report`]: every number an analysis produces. Its JSON form is a contract (field names
//! are read by other tools); NaN and infinities serialize as `null`.

use serde::Serialize;

pub use crate::balance::{BalanceRow, BaselineCell, BaselineRow, PsHistogram};
pub use crate::matching::{MatchedUnit, MatchingReport};
pub use crate::propensity::PropensityReport;
pub use crate::sample::{Exclusion, OrderedMap};
pub use crate::stats::evalue::EValue;

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
    /// Pending (not computed, left out of the JSON) when the endpoint's checks were not
    /// asked ([`super::Parts::checks`]).
    #[serde(skip_serializing_if = "FollowUp::is_pending")]
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
    /// True when not computed: its endpoint came without its checks
    /// ([`super::Parts::checks`]); the numbers are NaN and the JSON leaves it out.
    #[serde(skip)]
    pub pending: bool,
}

impl FollowUp {
    /// The follow-up of an endpoint whose checks were not asked.
    pub fn pending() -> FollowUp {
        FollowUp {
            median: f64::NAN,
            ci: [f64::NAN; 2],
            method: "",
            pending: true,
        }
    }

    /// True when not computed ([`FollowUp::pending`]).
    pub fn is_pending(&self) -> bool {
        self.pending
    }
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
    /// The test of proportional hazards (R's `cox.zph`), when the model was estimable (and,
    /// of the arm's model, its endpoint's checks asked: [`super::Parts::checks`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ph_test: Option<PhTest>,
    /// The E-value of the hazard ratio (VanderWeele & Ding 2017, common outcome).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_value: Option<EValue>,
    /// The arm's scaled Schoenfeld residuals for the plot (not in the JSON).
    #[serde(skip)]
    pub arm_residuals: Option<PhResiduals>,
}

/// One coefficient of a Cox model, named as R names it (`armlenvatinib`, `age`, `differ2`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelTerm {
    pub term: String,
    pub coef: f64,
    pub se: f64,
    pub hr: f64,
    pub ci: [f64; 2],
    pub p_value: f64,
}

/// A chi-square test: statistic, degrees of freedom, p-value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChiSquareTest {
    pub chi_square: f64,
    pub df: usize,
    pub p_value: f64,
}

/// The global tests of a Cox model (R's `summary(fit)`: logtest, waldtest, sctest).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelTests {
    pub likelihood_ratio: ChiSquareTest,
    pub wald: ChiSquareTest,
    pub score: ChiSquareTest,
}

/// Harrell's concordance and its standard error, as `coxph()$concordance`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConcordanceReport {
    pub value: f64,
    pub se: f64,
}

/// One term's row of the proportional-hazards test.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhTerm {
    /// The term's label: the arm column, a numeric column, or a factor's column.
    pub term: String,
    pub chi_square: f64,
    pub df: usize,
    pub p_value: f64,
}

/// R's `cox.zph(fit)` (transform "km"): per term and global.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhTest {
    pub terms: Vec<PhTerm>,
    pub global: ChiSquareTest,
}

/// The arm's scaled Schoenfeld residuals against transformed time (1 − KM), and R's smooth of
/// them (`plot(cox.zph(fit))`: a natural cubic spline with 4 df and ±2 SE).
#[derive(Clone, Debug, PartialEq)]
pub struct PhResiduals {
    pub term: String,
    /// Per event: transformed time, time, scaled residual (β(t) estimate).
    pub x: Vec<f64>,
    pub time: Vec<f64>,
    pub beta_t: Vec<f64>,
    /// The smooth on 40 points over the range of `x`, with its ±2 SE band.
    pub smooth_x: Vec<f64>,
    pub smooth: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// The model's coefficient (the horizontal line of a constant effect).
    pub coef: f64,
}

/// The multivariable Cox model (`--adjust`): arm + covariates, on the rows with every
/// covariate present.
#[derive(Clone, Debug, Serialize)]
pub struct CoxAdjustedReport {
    /// As asked (`NAME:factor` kept), in the order asked.
    pub covariates: Vec<String>,
    pub n: usize,
    pub events: usize,
    pub n_excluded: usize,
    pub excluded: Vec<Exclusion>,
    pub ties: &'static str,
    /// True when the SEs are robust (matching weights or `--robust`).
    pub robust: bool,
    pub terms: Vec<ModelTerm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests: Option<ModelTests>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concordance: Option<ConcordanceReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ph_test: Option<PhTest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_value: Option<EValue>,
    pub loglik: f64,
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_estimable: Option<String>,
    #[serde(skip)]
    pub arm_residuals: Option<PhResiduals>,
}

/// One univariable Cox model of the screen (`--univariable`): the left half of Table 2.
#[derive(Clone, Debug, Serialize)]
pub struct UnivariableRow {
    /// The column's name (without `:factor`); the arm's row is named by the arm column.
    pub covariate: String,
    pub n: usize,
    pub events: usize,
    pub terms: Vec<ModelTerm>,
    pub likelihood_ratio_p: f64,
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
    /// Pending (not computed, left out of the JSON) when the endpoint's checks were not
    /// asked ([`super::Parts::checks`]).
    #[serde(skip_serializing_if = "FollowUp::is_pending")]
    pub median_follow_up: FollowUp,
    pub logrank: LogRankReport,
    pub cox: CoxReport,
    /// The multivariable model (`--adjust`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cox_adjusted: Option<CoxAdjustedReport>,
    /// One model per covariate (`--univariable`), the arm's first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cox_univariable: Option<Vec<UnivariableRow>>,
    /// The arm's HR unadjusted, matched, weighted and multivariable (`--sensitivity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Vec<super::SensitivityRow>>,
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
    /// Inverse probability of treatment weighting (`--iptw`), the alternative to matching.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighting: Option<crate::weighting::WeightingReport>,
    /// Analyses that were not done and why, with what to do about it (e.g. a PFS time column
    /// found without its event column).
    pub warnings: Vec<String>,
    /// Columns the loader derived from dates (e.g. `os_months` from the dates of start, death
    /// and last follow-up); empty when the file had durations.
    pub derived_from_dates: Vec<String>,
    pub timing: Timing,
    pub software: Software,
    /// The parts this report holds ([`super::Parts::all`] for the full report).
    #[serde(skip)]
    pub parts: super::Parts,
    /// Every endpoint of the analysis in the full report's order, computed or not.
    #[serde(skip)]
    pub endpoint_order: Vec<String>,
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

impl EndpointReport {
    /// Takes the checks ([`super::Parts::checks`]: the median follow-up and the arm model's
    /// test of proportional hazards) from `other`, a report of the same endpoint.
    pub fn take_checks(&mut self, other: EndpointReport) {
        self.median_follow_up = other.median_follow_up;
        for ((_, mine), (_, theirs)) in self.arms.0.iter_mut().zip(other.arms.0) {
            mine.median_follow_up = theirs.median_follow_up;
        }
        self.cox.ph_test = other.cox.ph_test;
        self.cox.arm_residuals = other.cox.arm_residuals;
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
