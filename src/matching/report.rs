//! The matching report: pairs, the per-unit list, the propensity model, balance, the PS
//! histogram and Table 1 of a match.

use serde::Serialize;

use super::{by_treated_unit, CaliperScale, MatchCore, MatchOrder, MatchSpec};
use crate::balance::{self, BalanceRow, BaselineRow, PsHistogram};
use crate::cohort::{Cohort, PatientId};
use crate::propensity::{PropensityReport, PsModel};
use crate::sample::{ArmLabels, Exclusion, OrderedMap, Sample};

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

/// The warning for pairs decided by ties (see [`super::greedy::TIE_TOLERANCE_SD`]).
pub fn tie_warning(n: usize) -> String {
    let pairs = if n == 1 { "1 pair was" } else { "pairs were" };
    let count = if n == 1 {
        String::new()
    } else {
        format!("{n} ")
    };
    format!(
        "{count}{pairs} decided by exact ties (two controls equally far, within 1e-9 SD of the distance; the left one in sorted order was taken); MatchIt's own arithmetic may pick the other control"
    )
}

/// Which of a matching report's costly parts to compute; the counts, the caliper, the
/// propensity model and the warnings are always there. A part left out stays empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Details {
    /// SMDs, variance ratios and the PS histogram.
    pub balance: bool,
    /// Table 1.
    pub table1: bool,
    /// The pairs.
    pub pairs: bool,
    /// The per-unit list.
    pub units: bool,
}

impl Details {
    /// Every part.
    pub fn all() -> Details {
        Details {
            balance: true,
            table1: true,
            pairs: true,
            units: true,
        }
    }
}

/// The report of a match made by [`super::match_checked`]: pairs, per-unit list, propensity
/// model, balance, PS histogram, Table 1 (those of `details`). `sample` is the matched sample
/// (`core.sample`, which the caller may have taken out).
#[allow(clippy::too_many_arguments)]
pub fn matching_report(
    cohort: &Cohort,
    arms: &ArmLabels,
    ms: &MatchSpec,
    subgroup: &Sample,
    model: &PsModel,
    core: &MatchCore,
    sample: &Sample,
    details: Details,
) -> MatchingReport {
    let PsModel {
        design,
        fit,
        treated,
        warnings,
        excluded,
    } = model;
    let (mut warnings, excluded) = (warnings.clone(), excluded.clone());
    let MatchCore {
        distance,
        caliper_width,
        matches,
        weights,
        set_of,
        sample: _,
    } = core;
    let caliper_width = *caliper_width;
    // A unit's row in the file.
    let row_of = |u: usize| subgroup.rows[design.used[u]];
    let mut pairs = Vec::new();
    if details.pairs {
        // Identifiers looked up for the matched units only: a table of every unit's
        // identifier first was 3.2 MB to fill at 100,000 patients. Each unit's row is read
        // once, in unit order, so that a pair's control (in random order) costs one random
        // read instead of two (pairs at 100,000 patients: 3.5 → 2.5 ms).
        let patient_id = cohort.patient_ids();
        debug_assert!(
            u32::try_from(cohort.n_rows).is_ok(),
            "rows are numbered in u32"
        );
        let unit_row: Vec<u32> = design
            .used
            .iter()
            .map(|&k| subgroup.rows[k] as u32)
            .collect();
        let id_of = |u: usize| patient_id(unit_row[u] as usize);
        pairs.reserve_exact(matches.n_pairs());
        let matched = by_treated_unit(matches, design.used.len()).filter(|(_, cs)| !cs.is_empty());
        for (t, cs) in matched {
            let treated_id = id_of(t);
            for &c in cs {
                pairs.push((treated_id.clone(), id_of(c)));
            }
        }
    }
    let units = if details.units {
        (0..design.used.len())
            .map(|u| MatchedUnit {
                row: row_of(u),
                treated: treated[u],
                ps: fit.fitted[u],
                distance: distance[u],
                weight: weights[u],
                set: (weights[u] > 0.0).then_some(set_of[u]),
            })
            .collect()
    } else {
        Vec::new()
    };
    let n_t_used = treated.iter().filter(|&&t| t).count();
    let n_c_used = treated.len() - n_t_used;
    let n_t_matched = sample.treated.iter().filter(|&&t| t).count();
    let n_c_matched = sample.rows.len() - n_t_matched;
    let mut n_matched = OrderedMap::default();
    n_matched.insert(arms.treated.clone(), n_t_matched);
    n_matched.insert(arms.control.clone(), n_c_matched);
    let mut n_unmatched = OrderedMap::default();
    n_unmatched.insert(arms.treated.clone(), n_t_used - n_t_matched);
    n_unmatched.insert(arms.control.clone(), n_c_used - n_c_matched);

    if matches.n_tie_decisions > 0 {
        warnings.push(tie_warning(matches.n_tie_decisions));
    }
    let (mut balance, mut ps_histogram, mut baseline_table) = (
        Vec::new(),
        PsHistogram {
            edges: Vec::new(),
            treated_before: Vec::new(),
            control_before: Vec::new(),
            treated_after: Vec::new(),
            control_after: Vec::new(),
        },
        Vec::new(),
    );
    if details.balance || details.table1 {
        let (rows, column_sums) = balance::balance_rows(design, distance, treated, weights);
        if details.balance {
            balance = rows;
            ps_histogram = balance::ps_histogram(&fit.fitted, treated, weights);
        }
        if details.table1 {
            baseline_table =
                balance::baseline_table(design, (cohort, subgroup), treated, weights, &column_sums);
        }
    }
    MatchingReport {
        covariates: ms.covariates.clone(),
        caliper: ms.caliper,
        caliper_scale: match ms.scale {
            CaliperScale::Logit => "logit",
            CaliperScale::Ps => "ps",
        },
        caliper_width,
        caliper_sd_of: "SD of the distance over all units used (n − 1), as MatchIt; Austin's papers use the pooled SD of the two arms",
        order: match ms.order {
            MatchOrder::Largest => "largest",
            MatchOrder::Smallest => "smallest",
            MatchOrder::Data => "data",
            MatchOrder::Random => "random",
        },
        ratio: ms.ratio,
        replace: ms.replace,
        seed: ms.seed,
        n_matched,
        n_unmatched,
        n_excluded: excluded.iter().map(|e| e.n).sum(),
        excluded,
        pairs,
        n_tie_decisions: matches.n_tie_decisions,
        propensity: model.report(cohort),
        balance,
        ps_histogram,
        baseline_table,
        warnings,
        units,
    }
}
