//! [`Spec`]: everything that defines an analysis, as the user chose it.

use serde::{Deserialize, Serialize};

use crate::matching::seed_range_error;
pub use crate::matching::{CaliperScale, MatchOrder, MatchSpec, SEED_RANGE};
use crate::stats::cox::Ties;
use crate::stats::km::ConfType;

/// A unit of time: the unit the file's time columns are in ([`Spec::time_unit`]), and the
/// unit results are shown in ([`Spec::show_in`]); times are converted between them with
/// 7 days a week, 30.4375 days a month and 365.25 days a year (the month the date columns
/// use).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    #[value(alias = "day")]
    Days,
    #[value(alias = "week")]
    Weeks,
    #[default]
    #[value(alias = "month")]
    Months,
    #[value(alias = "year")]
    Years,
}

impl TimeUnit {
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
            TimeUnit::Months => "months",
            TimeUnit::Years => "years",
        }
    }

    /// Days in one of this unit (the conversion factors).
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
            TimeUnit::Months => crate::cohort::DAYS_PER_MONTH,
            TimeUnit::Years => 365.25,
        }
    }

    /// The unit a column's name speaks of ("os_days", "OS (weeks)", "pfs_mo"), if any.
    pub fn in_name(name: &str) -> Option<Self> {
        let lower = name.to_lowercase();
        let mut found = None;
        for token in lower.split(|c: char| !c.is_alphanumeric()) {
            let unit = match token {
                "day" | "days" | "dd" => TimeUnit::Days,
                "week" | "weeks" | "wk" | "wks" => TimeUnit::Weeks,
                "month" | "months" | "mo" | "mos" | "mon" => TimeUnit::Months,
                "year" | "years" | "yr" | "yrs" => TimeUnit::Years,
                _ => continue,
            };
            found = Some(unit);
        }
        found
    }

    /// Landmarks used when the user names none: 6, 12 and 24 months; none for other units.
    pub fn default_landmarks(self) -> Vec<f64> {
        match self {
            TimeUnit::Months => vec![6.0, 12.0, 24.0],
            _ => Vec::new(),
        }
    }
}

/// One time-to-event endpoint: a name, the time column(s) (summed when several, e.g. the
/// whole-sequence OS = first_line_months + os_months) and the event column (1 event, 0 censored).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointSpec {
    pub name: String,
    pub time: Vec<String>,
    pub event: String,
}

impl EndpointSpec {
    pub fn new(name: &str, time: &[&str], event: &str) -> Self {
        EndpointSpec {
            name: name.to_string(),
            time: time.iter().map(|s| s.to_string()).collect(),
            event: event.to_string(),
        }
    }

    /// The canonical endpoints: `pfs`, `os`, and `seq_os` (OS from the start of A+B).
    pub fn canonical() -> Vec<EndpointSpec> {
        vec![
            EndpointSpec::new("pfs", &["pfs_months"], "pfs_event"),
            EndpointSpec::new("os", &["os_months"], "os_event"),
            EndpointSpec::new("seq_os", &["first_line_months", "os_months"], "os_event"),
        ]
    }

    /// A label for people: "PFS", "OS", "OS from start of A+B", or the name.
    pub fn label(&self) -> String {
        match self.name.as_str() {
            "pfs" => "PFS".to_string(),
            "os" => "OS".to_string(),
            "seq_os" => "OS from start of A+B".to_string(),
            other => other.to_string(),
        }
    }
}

/// A subgroup condition; all conditions of a spec must hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Subgroup {
    /// The column's value is one of `values` (numbers compare numerically).
    Levels { column: String, values: Vec<String> },
    /// min ≤ value ≤ max (either bound optional).
    Range {
        column: String,
        min: Option<f64>,
        max: Option<f64>,
    },
}

impl Subgroup {
    pub fn column(&self) -> &str {
        match self {
            Subgroup::Levels { column, .. } | Subgroup::Range { column, .. } => column,
        }
    }

    /// Parses `COL=V1,V2` (levels) or `COL=LO..HI` (numeric range, either side optional).
    pub fn parse(s: &str) -> Result<Subgroup, String> {
        let Some((column, values)) = s.split_once('=') else {
            return Err(format!(
                "subgroup '{s}': expected COLUMN=VALUE[,VALUE…] or COLUMN=LO..HI"
            ));
        };
        let column = column.trim().to_string();
        if column.is_empty() || values.trim().is_empty() {
            return Err(format!("subgroup '{s}': expected COLUMN=VALUE[,VALUE…]"));
        }
        if let Some((lo, hi)) = values.split_once("..") {
            let bound = |b: &str| -> Result<Option<f64>, String> {
                let b = b.trim();
                if b.is_empty() {
                    return Ok(None);
                }
                b.parse::<f64>()
                    .map(Some)
                    .map_err(|_| format!("subgroup '{s}': '{b}' is not a number"))
            };
            return Ok(Subgroup::Range {
                column,
                min: bound(lo)?,
                max: bound(hi)?,
            });
        }
        Ok(Subgroup::Levels {
            column,
            values: values.split(',').map(|v| v.trim().to_string()).collect(),
        })
    }

    /// A short description, e.g. "prior_io_response = PD" or "age 18–65".
    pub fn describe(&self) -> String {
        match self {
            Subgroup::Levels { column, values } => format!("{column} = {}", values.join(" or ")),
            Subgroup::Range { column, min, max } => match (min, max) {
                (Some(a), Some(b)) => format!("{a} ≤ {column} ≤ {b}"),
                (Some(a), None) => format!("{column} ≥ {a}"),
                (None, Some(b)) => format!("{column} ≤ {b}"),
                (None, None) => format!("{column} (any)"),
            },
        }
    }
}

/// How event columns code events.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum EventCoding {
    /// 1/0 (also 1.0/0.0, TRUE/FALSE, yes/no, dead/alive, progressed/censored, event/censored).
    #[default]
    #[value(name = "0-1", alias = "standard")]
    Standard,
    /// R's `Surv` convention 2 = event, 1 = censored; only when the user says so.
    #[serde(rename = "1-2")]
    #[value(name = "1-2")]
    OneTwo,
}

/// What the table under a Kaplan–Meier plot shows at each time tick, in the window and in
/// figures. Presentation only: the analysis is the same.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum RiskTable {
    /// One row per arm: the number at risk.
    #[default]
    AtRisk,
    /// Morris et al. (2019, BMJ Open), the KMunicate layout: per arm three rows, the number
    /// at risk, censored and events (cumulative; [`crate::stats::km::KmCurve::counts_at`]).
    Kmunicate,
}

/// Everything that defines an analysis. Defaults match the CLI's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Spec {
    /// Defaults to `arm`.
    pub arm_column: String,
    /// Defaults to `lenvatinib`.
    pub treated: String,
    /// Defaults to `sorafenib`.
    pub control: String,
    /// Empty: the canonical endpoints present in the file.
    pub endpoints: Vec<EndpointSpec>,
    pub subgroups: Vec<Subgroup>,
    /// Defaults to log-log.
    pub conf_type: ConfType,
    /// Defaults to 0.95.
    pub conf_level: f64,
    /// Defaults to Efron.
    pub ties: Ties,
    /// `None`: the time unit's defaults (6, 12, 24 for months).
    pub landmarks: Option<Vec<f64>>,
    /// `None`: the largest time in either arm (R's `rmean = "common"`).
    pub rmst_horizon: Option<f64>,
    /// The unit of the file's time columns. Defaults to months.
    pub time_unit: TimeUnit,
    /// The unit results are shown in (times converted from `time_unit`); `None`: the file's.
    /// Landmarks and the RMST horizon are in this unit.
    pub show_in: Option<TimeUnit>,
    /// `None`: no matching.
    pub matching: Option<MatchSpec>,
    /// How event columns code events. Defaults to 1/0 and its word forms.
    pub event_coding: EventCoding,
    /// Role → column of the file (`--map os_months="OS (months)"`), applied when loading.
    pub column_map: std::collections::BTreeMap<String, String>,
    /// The spreadsheet's sheet (name or number from 1); `None`: the first with data.
    pub sheet: Option<String>,
    /// Day/month order of dates written with the year last (`--date-format`).
    pub date_format: crate::cohort::DateFormat,
    /// Also compute the caliper sensitivity sweep (matching only).
    pub caliper_sweep: bool,
    /// Sweep only this endpoint (the window shows one); `None`: every endpoint.
    pub sweep_endpoint: Option<String>,
    /// Also compute the subgroup forest plot.
    pub forest: bool,
    /// Display labels of arm levels (`--label 1=Lenvatinib`), used in every legend, table,
    /// figure and report; a level without one shows as the file spells it.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Event columns whose event values the user declared (`--event-values
    /// vital_status=Deceased`): those values are events, every other value is censored.
    pub event_values: std::collections::BTreeMap<String, Vec<String>>,
    /// Covariates of the multivariable Cox model (`--adjust`; `NAME:factor` forces a factor);
    /// empty: no adjusted model.
    pub adjust: Vec<String>,
    /// Also fit one Cox model per covariate of `adjust` (`--univariable`).
    pub univariable: bool,
    /// `None`: no weighting. Inverse probability of treatment weighting (`--iptw`), instead
    /// of matching.
    pub weighting: Option<crate::weighting::WeightSpec>,
    /// Also the arm's HR unadjusted, matched, weighted and in the multivariable model, side by
    /// side (`--sensitivity`).
    pub sensitivity: bool,
    /// The table under the Kaplan–Meier plots (window and figures); presentation only.
    /// Defaults to the number at risk (also for spec files written before it existed).
    pub risk_table: RiskTable,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            arm_column: "arm".to_string(),
            treated: "lenvatinib".to_string(),
            control: "sorafenib".to_string(),
            endpoints: Vec::new(),
            subgroups: Vec::new(),
            conf_type: ConfType::LogLog,
            conf_level: 0.95,
            ties: Ties::Efron,
            landmarks: None,
            rmst_horizon: None,
            time_unit: TimeUnit::Months,
            show_in: None,
            matching: None,
            event_coding: EventCoding::Standard,
            column_map: Default::default(),
            sheet: None,
            date_format: Default::default(),
            caliper_sweep: false,
            sweep_endpoint: None,
            forest: false,
            labels: Default::default(),
            event_values: Default::default(),
            adjust: Vec::new(),
            univariable: false,
            weighting: None,
            sensitivity: false,
            risk_table: RiskTable::AtRisk,
        }
    }
}

impl Spec {
    /// How to read the cohort file for this spec.
    pub fn load_options(&self) -> crate::cohort::LoadOptions {
        crate::cohort::LoadOptions {
            sheet: self.sheet.clone(),
            date_format: self.date_format,
            column_map: self.column_map.clone(),
        }
    }

    /// This spec with every column reference — arm, endpoints, subgroups, matching
    /// covariates — turned into the cohort's name for the column ([`Cohort::resolve_column`]:
    /// the file's header or the role's name, case-insensitively). A reference that names no
    /// column is kept as written, so that the analysis' error names it.
    ///
    /// [`Cohort::resolve_column`]: crate::cohort::Cohort::resolve_column
    pub fn resolve_columns(&self, cohort: &crate::cohort::Cohort) -> Spec {
        let name = |r: &String| {
            cohort
                .resolve_column(r)
                .map_or_else(|| r.clone(), String::from)
        };
        let mut spec = self.clone();
        spec.arm_column = name(&self.arm_column);
        for e in &mut spec.endpoints {
            e.time = e.time.iter().map(name).collect();
            e.event = name(&e.event);
        }
        for sg in &mut spec.subgroups {
            match sg {
                Subgroup::Levels { column, .. } | Subgroup::Range { column, .. } => {
                    *column = name(column);
                }
            }
        }
        spec.event_values = self
            .event_values
            .iter()
            .map(|(column, words)| (name(column), words.clone()))
            .collect();
        let covariate = |c: &String| match c.strip_suffix(":factor") {
            Some(base) => format!("{}:factor", name(&base.trim().to_string())),
            None => name(c),
        };
        if let Some(m) = &mut spec.matching {
            m.covariates = m.covariates.iter().map(covariate).collect();
        }
        spec.adjust = self.adjust.iter().map(covariate).collect();
        if let Some(w) = &mut spec.weighting {
            w.covariates = w.covariates.iter().map(covariate).collect();
        }
        spec
    }

    /// The unit results are shown in: [`Spec::show_in`], else the file's.
    pub fn shown_unit(&self) -> TimeUnit {
        self.show_in.unwrap_or(self.time_unit)
    }

    /// How the arms are shown: [`Spec::treated_label`] and [`Spec::control_label`].
    pub fn arm_labels(&self) -> crate::sample::ArmLabels {
        crate::sample::ArmLabels {
            treated: self.treated_label(),
            control: self.control_label(),
        }
    }

    /// How the treated arm is shown: its label, else the level as given.
    pub fn treated_label(&self) -> String {
        self.label_of(&self.treated)
    }

    /// How the control arm is shown: its label, else the level as given.
    pub fn control_label(&self) -> String {
        self.label_of(&self.control)
    }

    /// The label of an arm level (levels compared ignoring case and surrounding spaces, as
    /// the arms are), else the level itself.
    pub fn label_of(&self, level: &str) -> String {
        self.label_for(level)
            .map_or_else(|| level.to_string(), String::from)
    }

    /// The label given to an arm level, if any (levels compared as in [`Spec::label_of`]).
    pub fn label_for(&self, level: &str) -> Option<&str> {
        let key = super::normalize_level(level);
        self.labels
            .iter()
            .find(|(k, _)| super::normalize_level(k) == key)
            .map(|(_, v)| v.as_str())
    }

    /// Gives an arm level a label, or takes it away (`None`); a label under another spelling
    /// of the level is replaced.
    pub fn set_label(&mut self, level: &str, label: Option<String>) {
        let key = super::normalize_level(level);
        self.labels.retain(|k, _| super::normalize_level(k) != key);
        if let Some(text) = label {
            self.labels.insert(level.to_string(), text);
        }
    }

    /// The event values the user declared for an event column (by its name in the cohort).
    pub fn declared_event_values(&self, column: &str) -> Option<&[String]> {
        self.event_values
            .iter()
            .find(|(k, _)| *k == column)
            .map(|(_, v)| v.as_slice())
    }

    /// The spec an analysis of `cohort` runs: column references resolved
    /// ([`Spec::resolve_columns`]) and each arm shown as labelled, else as the file spells it.
    pub fn for_cohort(&self, cohort: &crate::cohort::Cohort) -> Spec {
        let mut spec = self.resolve_columns(cohort);
        if let Some(col) = cohort.column(&spec.arm_column) {
            spec.labels = display_labels(&spec, col);
        }
        spec
    }

    /// Checks values that do not depend on the data.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.conf_level > 0.0 && self.conf_level < 1.0) {
            return Err(format!(
                "confidence level {} must be between 0 and 1 (e.g. 0.95)",
                self.conf_level
            ));
        }
        if self.labels.values().any(|l| l.trim().is_empty()) {
            return Err("an arm label is empty".to_string());
        }
        if self.treated_label() == self.control_label() && self.treated != self.control {
            return Err(format!(
                "both arms are labelled '{}'; give them different labels",
                self.treated_label()
            ));
        }
        if self.treated == self.control {
            return Err(format!(
                "treated and control levels are both '{}'",
                self.treated
            ));
        }
        if self.matching.is_some() && self.weighting.is_some() {
            return Err("choose matching or weighting (IPTW), not both".to_string());
        }
        if let Some(w) = &self.weighting {
            if w.covariates.is_empty() {
                return Err(
                    "weighting needs covariates for the propensity model (--iptw COV,…)"
                        .to_string(),
                );
            }
            if let Some(q) = w.trim {
                if !(q > 0.0 && q < 0.5) {
                    return Err(format!("trim {q} must be between 0 and 0.5 (e.g. 0.05)"));
                }
            }
        }
        if let Some(h) = self.rmst_horizon {
            if !(h.is_finite() && h > 0.0) {
                return Err(format!("RMST horizon {h} must be a positive number"));
            }
        }
        if let Some(m) = &self.matching {
            if !(m.caliper.is_finite() && m.caliper > 0.0) {
                return Err(format!(
                    "caliper {} must be a positive number of standard deviations",
                    m.caliper
                ));
            }
            if m.ratio == 0 {
                return Err("ratio must be at least 1".to_string());
            }
            if m.covariates.is_empty() {
                return Err("matching needs at least one covariate".to_string());
            }
            if !SEED_RANGE.contains(&m.seed) {
                return Err(seed_range_error(m.seed));
            }
        }
        Ok(())
    }
}

/// The spec's arm labels, plus the file's spelling for an arm level without a label that the
/// file writes otherwise ("Lenvatinib" for `lenvatinib`): shown as the file has it.
pub(crate) fn display_labels(
    spec: &Spec,
    arm_col: &crate::cohort::Column,
) -> std::collections::BTreeMap<String, String> {
    let mut labels = spec.labels.clone();
    let crate::cohort::ColumnData::Text { levels, .. } = &arm_col.data else {
        return labels;
    };
    for level in [&spec.treated, &spec.control] {
        if spec.label_of(level) != *level {
            continue;
        }
        let want = super::normalize_level(level);
        let mut spellings = levels.iter().filter(|l| super::normalize_level(l) == want);
        if let (Some(one), None) = (spellings.next(), spellings.next()) {
            if one != level {
                labels.insert(level.clone(), one.trim().to_string());
            }
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A label belongs to the level whatever its spelling, as the arms match ("Lenvatinib" =
    /// "lenvatinib "); setting it again under another spelling replaces it.
    #[test]
    fn labels_follow_the_level_in_any_spelling() {
        let mut spec = Spec::default();
        spec.labels.insert("Lenvatinib".into(), "LEN".into());
        assert_eq!(spec.label_for("lenvatinib "), Some("LEN"));
        assert_eq!(spec.treated_label(), "LEN");
        spec.set_label("lenvatinib", Some("Lenvima".into()));
        assert_eq!(spec.labels.len(), 1);
        assert_eq!(spec.treated_label(), "Lenvima");
        spec.set_label("LENVATINIB", None);
        assert!(spec.labels.is_empty());
        assert_eq!(spec.treated_label(), "lenvatinib");
    }
}
