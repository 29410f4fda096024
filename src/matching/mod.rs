//! Propensity-score matching as MatchIt's `method = "nearest"`: its settings
//! ([`MatchSpec`]), greedy caliper matching on a fitted [`crate::propensity`] model, the
//! matching weights and matched sets, and the matching report (pairs, balance, Table 1).

pub mod greedy;
mod report;

use serde::{Deserialize, Serialize};

use crate::cohort::Cohort;
pub use crate::propensity::CaliperScale;
use crate::propensity::{fit_propensity, PropensityError, PsModel};
use crate::sample::{ArmLabels, Sample};
pub use greedy::{greedy_match, GreedyPlan, Matches, Order, PlanOrder};
pub use report::{matching_report, tie_warning, Details, MatchedUnit, MatchingReport};

/// Why matching could not be done.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error(transparent)]
    Propensity(#[from] PropensityError),
    #[error("no pair is within the caliper ({caliper} SD = {width:.4}): widen the caliper")]
    NoMatches { caliper: f64, width: f64 },
}

/// In which order treated units pick their controls.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum MatchOrder {
    /// Highest distance first (MatchIt's default).
    #[default]
    Largest,
    Smallest,
    /// File order.
    Data,
    /// A random order from `seed`: R's `set.seed(seed); sample.int(n)`, as MatchIt draws it.
    Random,
}

/// The seeds R's `set.seed` takes: 32-bit integers but the smallest (R's NA).
pub const SEED_RANGE: std::ops::RangeInclusive<i32> = -i32::MAX..=i32::MAX;

pub(crate) fn seed_range_error(seed: impl std::fmt::Display) -> String {
    format!(
        "seed {seed} is outside R's set.seed range ({} to {})",
        SEED_RANGE.start(),
        SEED_RANGE.end()
    )
}

/// A seed read from a spec file: any integer in [`SEED_RANGE`], else an error that says so
/// (files written before the seed was R's could hold larger ones).
fn seed_in_r_range<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let v = i64::deserialize(d)?;
    i32::try_from(v)
        .ok()
        .filter(|s| SEED_RANGE.contains(s))
        .ok_or_else(|| serde::de::Error::custom(seed_range_error(v)))
}

/// Propensity-score matching settings (MatchIt `method = "nearest"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchSpec {
    /// Covariates of the propensity model; `NAME:factor` forces a numeric column to a factor.
    pub covariates: Vec<String>,
    /// Caliper in standard deviations of the distance (SD over all units used, n − 1).
    /// Defaults to 0.2.
    pub caliper: f64,
    pub scale: CaliperScale,
    pub order: MatchOrder,
    /// Controls per treated unit. Defaults to 1.
    pub ratio: u32,
    /// Reuse controls.
    pub replace: bool,
    /// Seed of the random order, as R's `set.seed` takes it (see [`SEED_RANGE`]).
    #[serde(deserialize_with = "seed_in_r_range")]
    pub seed: i32,
    /// Cox SE clustered on the matched set (R's `cluster = subclass`).
    pub robust: bool,
}

impl Default for MatchSpec {
    fn default() -> Self {
        MatchSpec {
            covariates: vec![
                "ecog".to_string(),
                "albi_grade".to_string(),
                "prior_io_response".to_string(),
            ],
            caliper: 0.2,
            scale: CaliperScale::Logit,
            order: MatchOrder::Largest,
            ratio: 1,
            replace: false,
            seed: 1,
            robust: false,
        }
    }
}

/// Matching weights as MatchIt's ATT weights: matched treated 1; each control the sum over
/// its treated of 1 / (controls of that treated), rescaled so control weights sum to the
/// number of distinct matched controls.
pub fn att_weights(matches: &Matches, n_units: usize) -> Vec<f64> {
    one_to_one_weights(matches, n_units).unwrap_or_else(|| rescaled_weights(matches, n_units))
}

/// The weights when every matched treated unit has one control and no control is used
/// twice (1:1 without replacement, the usual case): 1 for each matched unit, exactly what
/// [`rescaled_weights`] gives then (each control's share is 1, the rescaling n/Σ is n/n),
/// in one pass. `None` otherwise.
fn one_to_one_weights(matches: &Matches, n_units: usize) -> Option<Vec<f64>> {
    let mut w = vec![0.0; n_units];
    for (t, cs) in matches.iter() {
        match cs {
            [] => {}
            [c] if w[*c] == 0.0 => {
                w[t] = 1.0;
                w[*c] = 1.0;
            }
            _ => return None,
        }
    }
    Some(w)
}

/// ATT weights in general: 1 for treated units; each control the sum of its shares
/// (1 / the number of controls of each treated unit it serves), rescaled to sum to the
/// number of distinct controls.
fn rescaled_weights(matches: &Matches, n_units: usize) -> Vec<f64> {
    let mut w = vec![0.0; n_units];
    let mut distinct = vec![false; n_units];
    for (t, cs) in matches.iter() {
        if cs.is_empty() {
            continue;
        }
        w[t] = 1.0;
        let share = 1.0 / cs.len() as f64;
        for &c in cs {
            w[c] += share;
            distinct[c] = true;
        }
    }
    let n_controls = distinct.iter().filter(|&&d| d).count() as f64;
    let sum_controls: f64 = (0..n_units).filter(|&u| distinct[u]).map(|u| w[u]).sum();
    if sum_controls > 0.0 {
        for u in (0..n_units).filter(|&u| distinct[u]) {
            w[u] *= n_controls / sum_controls;
        }
    }
    // Every treated patient with all its controls, each control used once: the weights are 1
    // up to the rounding of the rescaling. Exactly 1 then, so that the sample is unweighted
    // and its sums are counts (108.99999999999997 evaluable patients gave an exact CI of 108).
    if w.iter().all(|&x| x == 0.0 || (x - 1.0).abs() <= 1e-12) {
        for x in w.iter_mut().filter(|x| **x > 0.0) {
            *x = 1.0;
        }
    }
    w
}

/// What matching hands back to the pipeline: the matched sample and the report.
pub struct MatchOutcome {
    pub sample: Sample,
    pub report: MatchingReport,
    /// Milliseconds spent: (propensity fit, matching, balance and report).
    pub timing: (f64, f64, f64),
}

pub(crate) fn order_of(ms: &MatchSpec) -> Order {
    match ms.order {
        MatchOrder::Largest => Order::Largest,
        MatchOrder::Smallest => Order::Smallest,
        MatchOrder::Data => Order::Data,
        MatchOrder::Random => Order::Random(ms.seed),
    }
}

/// The matches in the order of the treated units (of `n` units): each appears once in
/// visiting order, so a bucket by unit orders them without a sort.
pub(crate) fn by_treated_unit(
    matches: &Matches,
    n: usize,
) -> impl Iterator<Item = (usize, &[usize])> {
    let mut entry_of = vec![u32::MAX; n];
    for (i, &t) in matches.visit_order.iter().enumerate() {
        entry_of[t] = i as u32;
    }
    entry_of
        .into_iter()
        .enumerate()
        .filter(|&(_, i)| i != u32::MAX)
        .map(|(t, i)| (t, matches.controls(i as usize)))
}

/// Matched set of each unit: the treated unit's set; a reused control keeps its first set.
/// With replacement a control belongs to several sets, so every unit is its own cluster.
pub fn matched_sets(matches: &Matches, weights: &[f64], replace: bool) -> Vec<u32> {
    let n = weights.len();
    let mut set_of = vec![u32::MAX; n];
    // Sets are numbered in the order of the treated units.
    for (set, (t, cs)) in by_treated_unit(matches, n)
        .filter(|(_, cs)| !cs.is_empty())
        .enumerate()
    {
        set_of[t] = set as u32;
        for &c in cs {
            if set_of[c] == u32::MAX {
                set_of[c] = set as u32;
            }
        }
    }
    if replace {
        for (u, s) in set_of.iter_mut().enumerate() {
            if weights[u] > 0.0 {
                *s = u as u32;
            }
        }
    }
    set_of
}

/// The ATT weights ([`att_weights`]) and matched sets ([`matched_sets`]) of a match made
/// with `ms` on `n` units: for pairs (ratio 1 without replacement) in one walk.
pub fn weights_and_sets(matches: &Matches, n: usize, ms: &MatchSpec) -> (Vec<f64>, Vec<u32>) {
    if ms.ratio == 1 && !ms.replace {
        return pairs_weights_and_sets(matches, n);
    }
    let weights = att_weights(matches, n);
    let set_of = matched_sets(matches, &weights, ms.replace);
    (weights, set_of)
}

/// The weights and matched sets of pairs (one control per treated unit, none reused; `n`
/// units) in one walk over the units: what [`att_weights`] and [`matched_sets`] give
/// then — weight 1 for each matched unit, the sets numbered in the order of the treated.
fn pairs_weights_and_sets(matches: &Matches, n: usize) -> (Vec<f64>, Vec<u32>) {
    let mut partner = vec![u32::MAX; n];
    for (t, cs) in matches.iter() {
        if let [c] = cs {
            partner[t] = *c as u32;
        }
    }
    let mut weights = vec![0.0; n];
    let mut set_of = vec![u32::MAX; n];
    let mut set = 0u32;
    for t in 0..n {
        let c = partner[t] as usize;
        if c < n {
            weights[t] = 1.0;
            weights[c] = 1.0;
            set_of[t] = set;
            set_of[c] = set;
            set += 1;
        }
    }
    (weights, set_of)
}

/// The result of one matching run on a fitted model.
pub struct MatchCore {
    /// The plan's distance, shared (not copied) by each caliper's match.
    pub distance: std::sync::Arc<[f64]>,
    pub caliper_width: f64,
    pub matches: Matches,
    pub weights: Vec<f64>,
    pub set_of: Vec<u32>,
    /// The matched sample (rows of the file, arms, weights, matched sets).
    pub sample: Sample,
}

/// What matching on one model keeps across calipers, ratios and replacement: the distance
/// (logit or PS), its SD, and the sorted and visiting orders of greedy matching. Built once
/// per model, distance scale and visiting order, it makes a caliper move one greedy pass.
pub struct MatchPlan {
    pub distance: std::sync::Arc<[f64]>,
    /// The distance's SD over all units used (n − 1): the caliper's unit.
    pub spread: f64,
    order: PlanOrder,
}

impl MatchPlan {
    /// The plan for `model` on the distance scale and in the visiting order of `ms`.
    pub fn new(model: &PsModel, ms: &MatchSpec) -> Result<MatchPlan, MatchError> {
        let (distance, spread) = model.distance(ms.scale)?;
        let order = GreedyPlan::new(&distance, model.units().0, order_of(ms)).into_order();
        Ok(MatchPlan {
            distance: distance.into(),
            spread,
            order,
        })
    }

    /// The greedy plan over the distance.
    pub fn greedy(&self) -> GreedyPlan<'_> {
        GreedyPlan::with_order(&self.distance, &self.order)
    }
}

/// Matches on a fitted model with the settings of `ms` (caliper, scale, order, ratio,
/// replacement).
pub fn match_core(
    model: &PsModel,
    ms: &MatchSpec,
    subgroup: &Sample,
) -> Result<MatchCore, MatchError> {
    match_planned(&MatchPlan::new(model, ms)?, model, ms, subgroup)
}

/// [`match_core`] with the plan of the same model, scale and order built earlier.
pub fn match_planned(
    plan: &MatchPlan,
    model: &PsModel,
    ms: &MatchSpec,
    subgroup: &Sample,
) -> Result<MatchCore, MatchError> {
    let caliper_width = ms.caliper * plan.spread;
    let (treated, used) = model.units();
    let matches = plan
        .greedy()
        .run(caliper_width, ms.ratio as usize, ms.replace);
    let distance = std::sync::Arc::clone(&plan.distance);
    let (weights, set_of) = weights_and_sets(&matches, used.len(), ms);
    let n_matched = weights.iter().filter(|&&w| w > 0.0).count();
    let mut sample = Sample {
        rows: Vec::with_capacity(n_matched),
        treated: Vec::with_capacity(n_matched),
        weight: Vec::with_capacity(n_matched),
        set_id: Vec::with_capacity(n_matched),
        ..Sample::default()
    };
    for (u, &k) in used.iter().enumerate() {
        if weights[u] > 0.0 {
            sample.rows.push(subgroup.rows[k]);
            sample.treated.push(treated[u]);
            sample.weight.push(weights[u]);
            sample.set_id.push(set_of[u]);
        }
    }
    sample.weighted = sample.weight.iter().any(|&w| w != 1.0);
    Ok(MatchCore {
        distance,
        caliper_width,
        matches,
        weights,
        set_of,
        sample,
    })
}

impl MatchCore {
    /// The positions in the subgroup of the matched sample's rows ([`MatchCore::sample`],
    /// made by [`match_planned`] in this order), ascending. `used`: the model's units
    /// (positions in the subgroup).
    pub fn subgroup_positions<'a>(&'a self, used: &'a [usize]) -> impl Iterator<Item = usize> + 'a {
        used.iter()
            .zip(&self.weights)
            .filter(|(_, &w)| w > 0.0)
            .map(|(&k, _)| k)
    }
}

/// Fits the propensity model inside `subgroup`, matches, and returns the matched sample.
pub fn match_sample(
    cohort: &Cohort,
    arms: &ArmLabels,
    ms: &MatchSpec,
    subgroup: &Sample,
) -> Result<MatchOutcome, MatchError> {
    let t0 = web_time::Instant::now();
    let model = fit_propensity(cohort, &ms.covariates, arms, subgroup)?;
    let mut outcome = match_with_model(cohort, arms, ms, subgroup, &model)?;
    outcome.timing.0 = t0.elapsed().as_secs_f64() * 1e3 - outcome.timing.1 - outcome.timing.2;
    Ok(outcome)
}

/// Matches on a fitted propensity model (fitted in the same `subgroup` with the same
/// covariates) and returns the matched sample and the report.
pub fn match_with_model(
    cohort: &Cohort,
    arms: &ArmLabels,
    ms: &MatchSpec,
    subgroup: &Sample,
    model: &PsModel,
) -> Result<MatchOutcome, MatchError> {
    let ms_since = |t: web_time::Instant| t.elapsed().as_secs_f64() * 1e3;
    let t1 = web_time::Instant::now();
    let mut core = match_checked(model, ms, subgroup)?;
    let matching_ms = ms_since(t1);
    let t2 = web_time::Instant::now();
    let sample = std::mem::take(&mut core.sample);
    let report = matching_report(
        cohort,
        arms,
        ms,
        subgroup,
        model,
        &core,
        &sample,
        Details::all(),
    );
    Ok(MatchOutcome {
        sample,
        report,
        timing: (0.0, matching_ms, ms_since(t2)),
    })
}

/// [`match_core`], an error when the matched sample lacks an arm.
pub fn match_checked(
    model: &PsModel,
    ms: &MatchSpec,
    subgroup: &Sample,
) -> Result<MatchCore, MatchError> {
    checked(match_core(model, ms, subgroup)?, ms)
}

/// [`match_planned`], an error when the matched sample lacks an arm.
pub fn match_planned_checked(
    plan: &MatchPlan,
    model: &PsModel,
    ms: &MatchSpec,
    subgroup: &Sample,
) -> Result<MatchCore, MatchError> {
    checked(match_planned(plan, model, ms, subgroup)?, ms)
}

fn checked(core: MatchCore, ms: &MatchSpec) -> Result<MatchCore, MatchError> {
    let n_t = core.sample.treated.iter().filter(|&&t| t).count();
    if n_t == 0 || n_t == core.sample.rows.len() {
        return Err(MatchError::NoMatches {
            caliper: ms.caliper,
            width: core.caliper_width,
        });
    }
    Ok(core)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// k controls for each of n treated units, each control once: every weight is exactly 1
    /// (the rescaling n/Σ rounds to 1 − 1 ulp for some n), so sums of weights are counts.
    /// One treated unit with fewer controls: real weights.
    #[test]
    fn full_matches_without_reuse_weigh_exactly_one() {
        for k in 1..=5usize {
            for n in 1..=150usize {
                let lists: Vec<(usize, Vec<usize>)> = (0..n)
                    .map(|t| (t, (0..k).map(|j| n + t * k + j).collect()))
                    .collect();
                let m = Matches::from_lists(lists.iter().map(|(t, cs)| (*t, &cs[..])));
                let w = att_weights(&m, n * (k + 1));
                assert!(w.iter().all(|&x| x == 1.0), "k {k} n {n}");
                if k == 1 {
                    // One control each: the one-pass weights, equal to the rescaled ones.
                    assert!(one_to_one_weights(&m, n * 2).is_some());
                    assert_eq!(w, rescaled_weights(&m, n * 2));
                    // Pairs, some treated units unmatched: the one-pass weights are the
                    // general ones.
                    let some = Matches::from_lists(
                        lists
                            .iter()
                            .map(|(t, cs)| (*t, if t % 3 == 0 { &cs[..0] } else { &cs[..] })),
                    );
                    let pairs = one_to_one_weights(&some, n * 2).expect("1:1");
                    assert_eq!(pairs, rescaled_weights(&some, n * 2), "n {n}");
                    let sets = matched_sets(&some, &pairs, false);
                    assert_eq!(pairs_weights_and_sets(&some, n * 2), (pairs, sets));
                    // Visited last to first: the sets are still numbered by treated unit.
                    let backwards = Matches::from_lists(
                        lists
                            .iter()
                            .rev()
                            .map(|(t, cs)| (*t, if t % 3 == 0 { &cs[..0] } else { &cs[..] })),
                    );
                    let w = att_weights(&backwards, n * 2);
                    let sets = matched_sets(&backwards, &w, false);
                    assert_eq!(pairs_weights_and_sets(&backwards, n * 2), (w, sets));
                    // Controls before the treated units in unit order (their slots written
                    // by their treated units after the walk has passed them).
                    let early_lists: Vec<(usize, Vec<usize>)> = (0..n)
                        .map(|t| (n + t, if t % 3 == 0 { vec![] } else { vec![n - 1 - t] }))
                        .collect();
                    let early =
                        Matches::from_lists(early_lists.iter().map(|(t, cs)| (*t, &cs[..])));
                    let w = att_weights(&early, n * 2);
                    let sets = matched_sets(&early, &w, false);
                    assert_eq!(pairs_weights_and_sets(&early, n * 2), (w, sets));
                }
            }
        }
        let m = Matches::from_lists([(0, &[2, 3][..]), (1, &[4][..])]);
        let w = att_weights(&m, 5);
        assert!(one_to_one_weights(&m, 5).is_none());
        // A control used twice (replacement): the general weights.
        let reused = Matches::from_lists([(0, &[2][..]), (1, &[2][..]), (3, &[4][..])]);
        assert!(one_to_one_weights(&reused, 5).is_none());
        assert_eq!(att_weights(&reused, 5), rescaled_weights(&reused, 5));
        assert!((att_weights(&reused, 5)[2] - 4.0 / 3.0).abs() < 1e-15);
        assert_eq!(&w[..2], &[1.0, 1.0]);
        assert!(
            (w[2] - 0.75).abs() < 1e-15 && (w[4] - 1.5).abs() < 1e-15,
            "{w:?}"
        );
    }
}
