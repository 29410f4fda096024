//! Pure statistical functions: no I/O, no UI, nothing of ours below them.

pub mod concordance;
pub mod cox;
pub mod dist;
pub mod evalue;
pub mod km;
pub mod logistic;
pub mod logrank;
pub mod proportion;
pub mod spline;

/// Right-censored survival data for one group, sorted by time (stable: ties keep input order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SurvSample {
    pub time: Vec<f64>,
    /// `true` = event, `false` = censored.
    pub status: Vec<bool>,
    /// Case weights; all 1 for an unweighted sample.
    pub weight: Vec<f64>,
}

/// Indices that sort `time` ascending, ties in input order (stable). Large inputs with few
/// distinct values are counted into place, other large inputs radix-sorted on the
/// order-preserving bit pattern of the f64 (linear time); small ones take a comparison sort
/// of (key, index) pairs.
pub fn sorted_order(time: &[f64]) -> Vec<u32> {
    // Map f64 to u64 preserving the total order (sign-magnitude to two's complement).
    // `+ 0.0` folds -0 into +0: they are equal times (and equal distances).
    let key = |x: f64| {
        let b = (x + 0.0).to_bits();
        if b >> 63 == 1 {
            !b
        } else {
            b | (1 << 63)
        }
    };
    let n = time.len();
    if n < 4096 {
        let mut pairs: Vec<(u64, u32)> = time
            .iter()
            .enumerate()
            .map(|(i, &t)| (key(t), i as u32))
            .collect();
        pairs.sort_unstable();
        return pairs.into_iter().map(|(_, i)| i).collect();
    }
    let mut keys: Vec<u64> = time.iter().map(|&t| key(t)).collect();
    if let Some(order) = order_by_few_keys(&keys) {
        return order;
    }
    const BITS: u32 = 11;
    const BUCKETS: usize = 1 << BITS;
    let mut idx: Vec<u32> = (0..n as u32).collect();
    let mut keys2 = vec![0u64; n];
    let mut idx2 = vec![0u32; n];
    // Only digits in which some keys differ need a pass.
    let first = keys[0];
    let differing = keys.iter().fold(0u64, |acc, &k| acc | (k ^ first));
    let mut shift = 0u32;
    while shift < 64 {
        if (differing >> shift) & ((BUCKETS as u64) - 1) != 0 {
            let mut count = vec![0usize; BUCKETS + 1];
            for &k in &keys {
                count[((k >> shift) as usize & (BUCKETS - 1)) + 1] += 1;
            }
            for b in 0..BUCKETS {
                count[b + 1] += count[b];
            }
            for i in 0..n {
                let d = (keys[i] >> shift) as usize & (BUCKETS - 1);
                let pos = count[d];
                count[d] += 1;
                keys2[pos] = keys[i];
                idx2[pos] = idx[i];
            }
            std::mem::swap(&mut keys, &mut keys2);
            std::mem::swap(&mut idx, &mut idx2);
        }
        shift += BITS;
    }
    idx
}

/// The stable order of `keys` when they take few distinct values (at most one per 8
/// keys: times in days or rounded months, a propensity score from categorical
/// covariates): the distinct keys are sorted and the keys counted into place (two passes,
/// where the radix sort makes up to six). `None` as soon as the keys prove too many.
fn order_by_few_keys(keys: &[u64]) -> Option<Vec<u32>> {
    let n = keys.len();
    let limit = n / 8;
    let cap = (2 * limit).next_power_of_two().max(16);
    let mask = cap - 1;
    // The product's top bits (Fibonacci hashing), which every bit of the key stirs: decimal
    // times share their low bits (1/100 repeats in binary), and a slot taken from the middle
    // of the product made long probe chains of them.
    let shift = 64 - cap.trailing_zeros();
    // Open addressing: slot → distinct key; each key's slot remembered.
    let mut table: Vec<Option<u64>> = vec![None; cap];
    let mut slot_of = Vec::with_capacity(n);
    let mut distinct = 0usize;
    for &k in keys {
        let mut slot = (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize;
        loop {
            match table[slot] {
                Some(t) if t == k => break,
                Some(_) => slot = (slot + 1) & mask,
                None => {
                    distinct += 1;
                    if distinct > limit {
                        return None;
                    }
                    table[slot] = Some(k);
                    break;
                }
            }
        }
        slot_of.push(slot as u32);
    }
    // Rank of each distinct key, then a counting sort by rank (stable: input order kept).
    let mut present: Vec<(u64, u32)> = table
        .iter()
        .enumerate()
        .filter_map(|(slot, k)| k.map(|k| (k, slot as u32)))
        .collect();
    present.sort_unstable();
    let mut start_of_slot = vec![0u32; cap];
    let mut count = vec![0u32; present.len() + 1];
    let mut rank_of_slot = vec![0u32; cap];
    for (rank, &(_, slot)) in present.iter().enumerate() {
        rank_of_slot[slot as usize] = rank as u32;
    }
    for &slot in &slot_of {
        count[rank_of_slot[slot as usize] as usize + 1] += 1;
    }
    for r in 0..present.len() {
        count[r + 1] += count[r];
    }
    for (&(_, slot), &c) in present.iter().zip(&count) {
        start_of_slot[slot as usize] = c;
    }
    let mut order = vec![0u32; n];
    for (i, &slot) in slot_of.iter().enumerate() {
        let at = &mut start_of_slot[slot as usize];
        order[*at as usize] = i as u32;
        *at += 1;
    }
    Some(order)
}

impl SurvSample {
    /// Builds a sample, sorting by time. `weight = None` means every weight is 1. Subjects
    /// with a NaN time are dropped (the estimators group equal times and NaN equals nothing).
    pub fn new(time: Vec<f64>, status: Vec<bool>, weight: Option<Vec<f64>>) -> Self {
        let n = time.len();
        let weight = weight.unwrap_or_else(|| vec![1.0; n]);
        let order: Vec<u32> = sorted_order(&time)
            .into_iter()
            .filter(|&i| !time[i as usize].is_nan())
            .collect();
        SurvSample {
            time: order.iter().map(|&i| time[i as usize]).collect(),
            status: order.iter().map(|&i| status[i as usize]).collect(),
            weight: order.iter().map(|&i| weight[i as usize]).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// True when some weight differs from 1.
    pub fn is_weighted(&self) -> bool {
        self.weight.iter().any(|&w| w != 1.0)
    }
}

/// `w` when `keep`, else +0, without a branch: exact for any `w` (w·0 would turn an
/// infinite weight into NaN).
#[inline]
pub(crate) fn kept(w: f64, keep: bool) -> f64 {
    f64::from_bits(w.to_bits() & u64::from(keep).wrapping_neg())
}

/// The runs of equal values of a sorted slice as `(start, end)` index ranges, from the last
/// run to the first (how the risk-set sums are accumulated: everyone at a time or later).
/// NaN equals nothing: each NaN is a run of its own.
pub(crate) fn tied_runs_from_last(time: &[f64]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut end = time.len();
    std::iter::from_fn(move || {
        if end == 0 {
            return None;
        }
        let t = time[end - 1];
        let mut start = end - 1;
        while start > 0 && time[start - 1] == t {
            start -= 1;
        }
        let run = (start, end);
        end = start;
        Some(run)
    })
}

/// The mean absolute distinct finite time of times sorted ascending (the scale of
/// [`timefix`]'s relative tolerance); `None` with fewer than two distinct times, which
/// timefix leaves alone.
fn distinct_mean_abs(times: &[f64]) -> Option<f64> {
    let (mut sum_abs, mut n_unique, mut prev) = (0.0f64, 0usize, f64::NAN);
    for &t in times.iter().filter(|t| t.is_finite()) {
        if t != prev {
            sum_abs += t.abs();
            n_unique += 1;
            prev = t;
        }
    }
    (n_unique >= 2).then(|| sum_abs / n_unique as f64)
}

/// [`timefix`]'s walk over finite times sorted ascending: each time's value after it (a time
/// merged into the distinct time below it takes that one's value, and so on down the run).
struct TimefixWalk {
    mean_abs: f64,
    cut: f64,
    prev_unique: f64,
}

impl TimefixWalk {
    /// The walk over `times`; `None` with fewer than two distinct times, which timefix
    /// leaves alone.
    fn over(times: &[f64]) -> Option<TimefixWalk> {
        Some(TimefixWalk {
            mean_abs: distinct_mean_abs(times)?,
            cut: f64::NAN,
            prev_unique: f64::NAN,
        })
    }

    /// The value of finite time `v`, the next in ascending order.
    #[inline]
    fn value_of(&mut self, v: f64) -> f64 {
        if v != self.prev_unique {
            let tol = km::QUANTILE_TOLERANCE;
            let dy = v - self.prev_unique;
            let merged = !self.prev_unique.is_nan() && (dy <= tol || dy / self.mean_abs <= tol);
            if !merged {
                self.cut = v;
            }
            self.prev_unique = v;
        }
        self.cut
    }
}

/// [`timefix`] for times already sorted ascending: O(n), and the order is kept.
pub fn timefix_sorted(times: &mut [f64]) {
    let Some(mut walk) = TimefixWalk::over(times) else {
        return;
    };
    for t in times.iter_mut().filter(|t| t.is_finite()) {
        *t = walk.value_of(*t);
    }
}

/// Whether [`timefix_sorted`] would change the bits of any of these times (sorted
/// ascending): the same walk, without writing. Most samples have no two times closer than
/// its tolerance without being equal (nor a -0 beside a +0).
pub fn timefix_sorted_changes(times: &[f64]) -> bool {
    TimefixWalk::over(times).is_some_and(|mut walk| {
        times
            .iter()
            .filter(|t| t.is_finite())
            .any(|&v| walk.value_of(v).to_bits() != v.to_bits())
    })
}

/// R's `aeqSurv` (`timefix = TRUE` in `survfit`, `survdiff` and `coxph`): times whose
/// difference is at most sqrt(machine epsilon), absolutely or relative to the mean absolute
/// distinct time, are merged into the smallest of them. Applied to all times of one fit.
pub fn timefix(times: &mut [f64]) {
    let tol = km::QUANTILE_TOLERANCE;
    let mut unique: Vec<f64> = times.iter().copied().filter(|t| t.is_finite()).collect();
    unique.sort_by(f64::total_cmp);
    unique.dedup();
    if unique.len() < 2 {
        return;
    }
    let mean_abs = unique.iter().map(|t| t.abs()).sum::<f64>() / unique.len() as f64;
    let mut cuts = Vec::with_capacity(unique.len());
    cuts.push(unique[0]);
    let mut any_tied = false;
    for w in unique.windows(2) {
        let dy = w[1] - w[0];
        let tied = dy <= tol || dy / mean_abs <= tol;
        any_tied |= tied;
        if !tied {
            cuts.push(w[1]);
        }
    }
    if !any_tied {
        return;
    }
    for t in times.iter_mut().filter(|t| t.is_finite()) {
        // findInterval: the last cut <= t.
        let k = cuts.partition_point(|&c| c <= *t);
        if k > 0 {
            *t = cuts[k - 1];
        }
    }
}

/// Sample standard deviation (n − 1 denominator); NaN with fewer than two values.
pub fn sample_sd(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let mean = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timefix_sorted_equals_timefix() {
        let mut rng = crate::rng::SplitMix64::new(5);
        let mut seen = [false; 2];
        for trial in 0..400 {
            // Half the samples with times a few bits apart (merged), half without; -0, NaN
            // and infinities among them.
            let near = if trial % 2 == 0 { 3 } else { 1 };
            let mut t: Vec<f64> = (0..50)
                .map(|_| match rng.below(40) {
                    0 => -0.0,
                    1 => f64::NAN,
                    2 => f64::INFINITY,
                    3 if trial % 4 == 1 => 0.0,
                    _ => {
                        let base = (rng.below(10) as f64) * 0.1 + 1.0;
                        f64::from_bits(base.to_bits() + rng.below(near) as u64)
                    }
                })
                .collect();
            t.sort_by(f64::total_cmp);
            let mut a = t.clone();
            timefix(&mut a);
            let changes = timefix_sorted_changes(&t);
            let before = t.clone();
            timefix_sorted(&mut t);
            // The same values (a -0 beside a +0 may come out either way: one time).
            let same = |x: &f64, y: &f64| x == y || (x.is_nan() && y.is_nan());
            assert!(a.iter().zip(&t).all(|(x, y)| same(x, y)), "{before:?}");
            // Bits, not values: "no change" is what lets a caller keep one copy.
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(changes, bits(&before) != bits(&t), "{before:?}");
            seen[usize::from(changes)] = true;
        }
        assert_eq!(seen, [true, true]);
    }

    #[test]
    fn radix_order_equals_stable_sort() {
        let mut rng = crate::rng::SplitMix64::new(9);
        // Few distinct values (counted into place), about n/8 of them (either way), and
        // all distinct (0: radix sort); with -0, infinities and NaN.
        for (n, values) in [
            (10, 300),
            (5000, 300),
            (20_000, 300),
            (20_000, 2400),
            (20_000, 2600),
            (20_000, 0),
        ] {
            let t: Vec<f64> = (0..n)
                .map(|_| match rng.below(8) {
                    0 => -(rng.below(50) as f64) / 7.0,
                    1 => f64::INFINITY,
                    2 if n > 10 && rng.below(50) == 0 => f64::NAN,
                    _ if values == 0 => rng.next_f64() * 100.0,
                    _ => (rng.below(values) as f64) / 3.0,
                })
                .collect();
            let mut expect: Vec<u32> = (0..n as u32).collect();
            // -0 and +0 are the same time.
            expect.sort_by(|&a, &b| (t[a as usize] + 0.0).total_cmp(&(t[b as usize] + 0.0)));
            assert_eq!(sorted_order(&t), expect, "n = {n}, {values} values");
        }
    }

    /// `kept` picks the weight or +0 exactly, infinite and NaN weights included (w·0 would
    /// give NaN).
    #[test]
    fn kept_selects_exactly() {
        for w in [0.0, -0.0, 0.5, 1.0, 3.7e300, f64::INFINITY, f64::NAN] {
            assert_eq!(kept(w, true).to_bits(), w.to_bits());
            assert_eq!(kept(w, false).to_bits(), 0.0f64.to_bits());
        }
    }

    #[test]
    fn timefix_merges_near_ties() {
        let mut t = vec![1.1, f64::from_bits(1.1f64.to_bits() + 1), 2.0, 5.0];
        timefix(&mut t);
        assert_eq!(t[0], t[1]);
        assert_eq!(t[2], 2.0);
    }
}
