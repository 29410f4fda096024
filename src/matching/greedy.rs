//! Greedy nearest-neighbour matching on a scalar distance, as MatchIt's `method = "nearest"`
//! (Ho, Imai, King & Stuart 2011), in O(n log n): sort once, then find the nearest available
//! control on each side with "next available" links (path-compressed), never a distance matrix.
//!
//! The rule, tie-breaking included: units sorted by distance with a stable sort (equal
//! distances keep input order); treated visited in the chosen order; for each, the nearest
//! available control to the left and to the right in sorted order, the left one winning a tie;
//! kept when |d_t − d_c| ≤ caliper width (a pair exactly at the width is kept).
//!
//! A tie is two gaps equal within [`TIE_TOLERANCE_SD`] standard deviations of the distance,
//! not only equal to the bit: with whole-number covariates entered as linear terms, two
//! controls on either side of a treated unit are often exactly as far away in exact
//! arithmetic, and which gap rounds smaller depends on the last bits of the fitted
//! coefficients (ours or R's). Deciding such ties by the rule instead of by rounding makes
//! the pairs the same as the emitted R script's; the pairs a tie decided are counted
//! ([`Matches::n_tie_decisions`]), since MatchIt's own arithmetic may pick the other control.

use crate::rng::RMersenneTwister;

/// Two gaps that differ by at most this many standard deviations of the distance are a tie
/// (the left control wins). Fitted distances agree with R's to ~1e-15 relative; gaps that
/// differ in exact arithmetic differ by far more than 1e-9 SD in practice.
pub const TIE_TOLERANCE_SD: f64 = 1e-9;

/// Visiting order of treated units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Largest,
    Smallest,
    Data,
    /// R's order for this seed: `set.seed(seed); sample.int(n)` over the treated units in
    /// input order (MatchIt's `m.order = "random"`).
    Random(i32),
}

/// Result: each treated unit (input index) in the order it was visited, with its controls
/// (input indices) in the order they were matched — none when it found no match. The
/// controls are one flat list, not a list per unit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Matches {
    /// Treated units in the order they were visited.
    pub visit_order: Vec<usize>,
    /// The controls of the i-th visited unit are `controls[start[i]..start[i + 1]]`.
    start: Vec<usize>,
    controls: Vec<usize>,
    /// Pairs whose control was chosen by a tie (two gaps equal within the tolerance).
    pub n_tie_decisions: usize,
}

impl Matches {
    /// From each visited treated unit's controls, in visiting order.
    pub fn from_lists<'a>(lists: impl IntoIterator<Item = (usize, &'a [usize])>) -> Self {
        let mut m = Matches {
            start: vec![0],
            ..Matches::default()
        };
        for (t, cs) in lists {
            m.visit_order.push(t);
            m.controls.extend_from_slice(cs);
            m.start.push(m.controls.len());
        }
        m
    }

    /// Each visited treated unit and its controls, in visiting order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (usize, &[usize])> + '_ {
        self.visit_order
            .iter()
            .zip(self.start.windows(2))
            .map(|(&t, w)| (t, &self.controls[w[0]..w[1]]))
    }

    /// The controls of the i-th visited unit.
    pub fn controls(&self, i: usize) -> &[usize] {
        &self.controls[self.start[i]..self.start[i + 1]]
    }

    /// The number of (treated, control) pairs.
    pub fn n_pairs(&self) -> usize {
        self.controls.len()
    }
}

/// "Next available slot" lookup with path compression: `find(i)` is the nearest available
/// slot at or beyond `i` in one direction (or `None`).
struct Avail {
    next: Vec<usize>,
}

impl Avail {
    fn new(n: usize) -> Self {
        // Slot n (and the virtual slot for "none") point to themselves.
        Avail {
            next: (0..=n).collect(),
        }
    }

    fn find(&mut self, i: usize) -> usize {
        let mut root = i;
        while self.next[root] != root {
            root = self.next[root];
        }
        let mut cur = i;
        while self.next[cur] != root {
            let nxt = self.next[cur];
            self.next[cur] = root;
            cur = nxt;
        }
        root
    }

    fn remove(&mut self, i: usize) {
        self.next[i] = i + 1;
    }
}

/// The treated units of `units` (each unit at most once), in their order; `n_treated` of
/// them are treated. Every unit is written and the count moves on for a treated one only:
/// no branch on the arm, which is as good as random from one unit to the next.
fn treated_in(
    units: impl Iterator<Item = usize>,
    treated: &[bool],
    n_treated: usize,
) -> Vec<usize> {
    // Room for the treated and one unit written after the last of them.
    let mut out = vec![0usize; n_treated + 1];
    let mut len = 0;
    for u in units {
        out[len] = u;
        len += usize::from(treated[u]);
    }
    out.truncate(len);
    out
}

/// Matches treated to control units on `distance`.
/// `ratio` controls per treated (rounds: every treated unit gets its k-th match before any gets
/// a (k+1)-th; a unit without a first match gets none); `replace` lets controls be reused.
pub fn greedy_match(
    distance: &[f64],
    treated: &[bool],
    caliper_width: f64,
    order: Order,
    ratio: usize,
    replace: bool,
) -> Matches {
    GreedyPlan::new(distance, treated, order).run(caliper_width, ratio, replace)
}

/// The caliper-independent part of greedy matching: the sorted order, the controls in it,
/// each treated unit's insertion point and the visiting order. Built once, it serves any
/// caliper (the caliper sweep, and the window's caliper moves through the analysis cache).
pub struct GreedyPlan<'a> {
    distance: &'a [f64],
    order: std::borrow::Cow<'a, PlanOrder>,
}

/// The orders a [`GreedyPlan`] keeps, without the distance they were built from.
#[derive(Clone, Debug)]
pub struct PlanOrder {
    /// Gaps closer than this are a tie: [`TIE_TOLERANCE_SD`] × the distance's SD.
    tie_tolerance: f64,
    controls: Vec<usize>,
    visit: Vec<usize>,
    /// Per visited unit, in visiting order: its distance and insertion point (read in
    /// turn by each caliper's pass, instead of at random by unit).
    visit_key: Vec<(f64, usize)>,
}

impl<'a> GreedyPlan<'a> {
    /// The plan over `distance` with orders built earlier from the same distance, treated
    /// flags and visiting order ([`GreedyPlan::into_order`]).
    pub fn with_order(distance: &'a [f64], order: &'a PlanOrder) -> Self {
        GreedyPlan {
            distance,
            order: std::borrow::Cow::Borrowed(order),
        }
    }

    /// The plan's orders, to keep for later calipers.
    pub fn into_order(self) -> PlanOrder {
        self.order.into_owned()
    }

    pub fn new(distance: &'a [f64], treated: &[bool], order: Order) -> Self {
        let n = distance.len();
        debug_assert_eq!(treated.len(), n, "a treated flag per distance");
        // Stable (radix) ordering: equal distances keep input order.
        let sorted: Vec<u32> = crate::stats::sorted_order(distance);
        let n_treated = treated.iter().filter(|&&t| t).count();
        // Controls in sorted order, and each treated unit's insertion point among them.
        // Without a branch on the arm (see `treated_in`): every unit is written, a control
        // moves the count on; a control's insertion point is written too, and never read.
        let mut controls: Vec<usize> = vec![0; n - n_treated + 1];
        let mut insert_at = vec![0u32; n];
        let mut n_controls = 0;
        for &u in &sorted {
            let u = u as usize;
            insert_at[u] = n_controls as u32;
            controls[n_controls] = u;
            n_controls += usize::from(!treated[u]);
        }
        controls.truncate(n_controls);
        // Treated units in input order, or a stable sort: equal distances keep input order.
        let visit: Vec<usize> = match order {
            Order::Data => treated_in(0..n, treated, n_treated),
            Order::Largest => {
                // The ascending order backwards, with each run of equal distances turned
                // back into input order (no second sort).
                let mut visit =
                    treated_in(sorted.iter().rev().map(|&u| u as usize), treated, n_treated);
                let mut i = 0;
                while i < visit.len() {
                    let d = distance[visit[i]];
                    let same = |v: f64| v == d || (v.is_nan() && d.is_nan());
                    let run = visit[i..]
                        .iter()
                        .take_while(|&&u| same(distance[u]))
                        .count();
                    visit[i..i + run].reverse();
                    i += run.max(1);
                }
                visit
            }
            Order::Smallest => treated_in(sorted.iter().map(|&u| u as usize), treated, n_treated),
            Order::Random(seed) => {
                let in_input_order = treated_in(0..n, treated, n_treated);
                let permutation = RMersenneTwister::set_seed(seed).sample_int(n_treated);
                permutation.into_iter().map(|k| in_input_order[k]).collect()
            }
        };
        let spread = crate::stats::sample_sd(distance);
        let visit_key = visit
            .iter()
            .map(|&t| (distance[t], insert_at[t] as usize))
            .collect();
        GreedyPlan {
            distance,
            order: std::borrow::Cow::Owned(PlanOrder {
                tie_tolerance: if spread.is_finite() {
                    TIE_TOLERANCE_SD * spread
                } else {
                    0.0
                },
                controls,
                visit,
                visit_key,
            }),
        }
    }

    /// The plan with another tie tolerance (0: gaps compared to the bit, as MatchIt's own
    /// arithmetic compares them).
    pub fn with_tie_tolerance(mut self, tolerance: f64) -> Self {
        self.order.to_mut().tie_tolerance = tolerance;
        self
    }

    /// Matches with this caliper width, ratio and replacement.
    pub fn run(&self, caliper_width: f64, ratio: usize, replace: bool) -> Matches {
        if !replace {
            return self.run_without_replacement(caliper_width, ratio);
        }
        let distance = self.distance;
        let order = &*self.order;
        let mut m = Matches {
            visit_order: order.visit.clone(),
            start: Vec::with_capacity(order.visit.len() + 1),
            controls: Vec::new(),
            n_tie_decisions: 0,
        };
        m.start.push(0);
        for &(dt, pos) in &order.visit_key {
            m.n_tie_decisions += nearest_k(
                distance,
                &order.controls,
                pos,
                dt,
                Limits {
                    width: caliper_width,
                    tie: order.tie_tolerance,
                },
                ratio,
                &mut m.controls,
            );
            m.start.push(m.controls.len());
        }
        m
    }

    fn run_without_replacement(&self, caliper_width: f64, ratio: usize) -> Matches {
        let distance = self.distance;
        let order = &*self.order;
        let (controls, visit) = (&order.controls, &order.visit);
        let nc = controls.len();
        // No unit can take more controls than there are.
        let ratio = ratio.min(nc);
        // The controls' distances in sorted order, contiguous.
        let cdist: Vec<f64> = controls.iter().map(|&c| distance[c]).collect();
        // right.find(i): smallest available control slot >= i (nc = none).
        // left.find(j): with slots shifted by one, largest available slot < j (0 = none).
        let mut right = Avail::new(nc);
        let mut left = LeftAvail::new(nc);
        // picks[round * visit.len() + v]: the control slot the v-th visited unit took.
        let mut picks = vec![u32::MAX; ratio * visit.len()];
        let mut active: Vec<u32> = (0..visit.len() as u32).collect();
        let tie = order.tie_tolerance;
        let mut n_tie_decisions = 0;
        for round in 0..ratio {
            let mut still = Vec::with_capacity(active.len());
            for &v in &active {
                let (dt, pos) = order.visit_key[v as usize];
                let l = left.find(pos);
                let r = right.find(pos);
                let dl = l.map(|k| (dt - cdist[k]).abs());
                let dr = (r < nc).then(|| (cdist[r] - dt).abs());
                let mut tied = false;
                let pick = match (dl, dr) {
                    (Some(a), Some(b)) => {
                        // Controls at the same distance (equal covariates) are not told
                        // apart by arithmetic: the sorted order decides, as in R.
                        tied =
                            is_tie(a, b, tie) && l.is_some_and(|k| r < nc && cdist[k] != cdist[r]);
                        Some(if left_wins(a, b, tie) {
                            (l.unwrap_or(0), a)
                        } else {
                            (r, b)
                        })
                    }
                    (Some(a), None) => Some((l.unwrap_or(0), a)),
                    (None, Some(b)) => Some((r, b)),
                    (None, None) => None,
                };
                if let Some((k, gap)) = pick {
                    if gap <= caliper_width {
                        n_tie_decisions += usize::from(tied);
                        picks[round * visit.len() + v as usize] = k as u32;
                        right.remove(k);
                        left.remove(k);
                        still.push(v);
                    }
                }
            }
            // Only units matched in this round go on to the next one.
            active = still;
        }
        let n_picked = picks.iter().filter(|&&k| k != u32::MAX).count();
        let mut m = Matches {
            visit_order: visit.clone(),
            start: Vec::with_capacity(visit.len() + 1),
            controls: Vec::with_capacity(n_picked),
            n_tie_decisions,
        };
        m.start.push(0);
        for v in 0..visit.len() {
            let cs = (0..ratio)
                .map(|round| picks[round * visit.len() + v])
                .take_while(|&k| k != u32::MAX)
                .map(|k| controls[k as usize]);
            m.controls.extend(cs);
            m.start.push(m.controls.len());
        }
        m
    }
}

/// Two gaps are a tie when they differ by at most `tolerance` (see [`TIE_TOLERANCE_SD`]).
fn is_tie(gap_left: f64, gap_right: f64, tolerance: f64) -> bool {
    (gap_left - gap_right).abs() <= tolerance
}

/// The left neighbour wins when it is nearer, or as near within the tie tolerance (MatchIt's
/// rule for a tie: the left neighbour in sorted order).
fn left_wins(gap_left: f64, gap_right: f64, tolerance: f64) -> bool {
    gap_left <= gap_right || is_tie(gap_left, gap_right, tolerance)
}

/// The caliper width and the tie tolerance of one matching run.
#[derive(Clone, Copy)]
struct Limits {
    width: f64,
    tie: f64,
}

/// Largest available slot strictly below a position.
struct LeftAvail {
    inner: Avail,
}

impl LeftAvail {
    fn new(n: usize) -> Self {
        LeftAvail {
            inner: Avail::new(n),
        }
    }

    /// Slots are mirrored: slot k is stored at n − 1 − k, so "largest below pos" becomes
    /// "smallest at or beyond n − pos".
    fn find(&mut self, pos: usize) -> Option<usize> {
        let n = self.inner.next.len() - 1;
        if pos == 0 {
            return None;
        }
        let m = self.inner.find(n - pos);
        (m < n).then(|| n - 1 - m)
    }

    fn remove(&mut self, k: usize) {
        let n = self.inner.next.len() - 1;
        self.inner.remove(n - 1 - k);
    }
}

/// With replacement: the `k` nearest controls within the caliper, merging outwards from the
/// insertion point (left wins ties), appended to `out`. Returns how many a tie decided.
fn nearest_k(
    distance: &[f64],
    controls: &[usize],
    pos: usize,
    dt: f64,
    limits: Limits,
    k: usize,
    out: &mut Vec<usize>,
) -> usize {
    let (mut l, mut r) = (pos, pos);
    let mut ties = 0;
    for _ in 0..k {
        let dl = (l > 0).then(|| (dt - distance[controls[l - 1]]).abs());
        let dr = (r < controls.len()).then(|| (distance[controls[r]] - dt).abs());
        let (take_left, tied) = match (dl, dr) {
            (Some(a), Some(b)) => {
                let same_distance = distance[controls[l - 1]] == distance[controls[r]];
                (
                    left_wins(a, b, limits.tie),
                    is_tie(a, b, limits.tie) && !same_distance,
                )
            }
            (Some(_), None) => (true, false),
            (None, Some(_)) => (false, false),
            (None, None) => break,
        };
        let gap = if take_left { dl } else { dr }.unwrap_or(f64::INFINITY);
        if gap > limits.width {
            break;
        }
        ties += usize::from(tied);
        if take_left {
            l -= 1;
            out.push(controls[l]);
        } else {
            out.push(controls[r]);
            r += 1;
        }
    }
    ties
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random order visits the treated units (taken in input order) in the order R's
    /// `set.seed(seed); sample.int(n_treated)` gives, as MatchIt's `m.order = "random"` does;
    /// the controls and distances play no part in it.
    #[test]
    fn random_order_is_rs_sample_int_over_the_treated() {
        let text = include_str!("../../tests/fixtures/r_rng/r_sample_int.txt");
        let line = text
            .lines()
            .find(|l| l.starts_with("123456789 300 "))
            .unwrap();
        let r: Vec<usize> = line
            .split_whitespace()
            .skip(2)
            .map(|t| t.parse().unwrap())
            .collect();
        // 300 treated units scattered among 750 (three of every five, then controls only).
        let mut n_treated = 0;
        let treated: Vec<bool> = (0..750)
            .map(|u| {
                let t = u % 5 != 2 && u % 5 != 4 && n_treated < 300;
                n_treated += usize::from(t);
                t
            })
            .collect();
        let treated_units: Vec<usize> = (0..750).filter(|&u| treated[u]).collect();
        assert_eq!(treated_units.len(), 300);
        let distance: Vec<f64> = (0..750).map(|u| ((u * 37) % 101) as f64 / 101.0).collect();
        let plan = GreedyPlan::new(&distance, &treated, Order::Random(123456789));
        let expected: Vec<usize> = r.iter().map(|&p| treated_units[p - 1]).collect();
        assert_eq!(plan.order.visit, expected);
    }
}
