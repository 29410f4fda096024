//! The per-time tables every curve and test reads: for each distinct time the number at
//! risk, events and censored (weighted), for both arms and the pooled sample in one pass.

use crate::stats::{kept, tied_runs_from_last, SurvSample};

/// A sample summed per distinct time: at risk (Σ weights with time ≥ t), events and
/// censorings (Σ weights at t); `n` is Σ weights. What Kaplan–Meier and the log-rank test
/// need, built for both arms and the pooled sample in one pass by [`time_tables`].
#[derive(Clone, Debug, Default)]
pub struct TimeTable {
    pub time: Vec<f64>,
    pub n_risk: Vec<f64>,
    pub n_event: Vec<f64>,
    pub n_censor: Vec<f64>,
    pub n: f64,
    /// The same sums of squared weights, present when some weight of the sample is not a
    /// whole number: R's `survfit` then gives the infinitesimal-jackknife (robust) variance.
    pub squares: Option<SquareSums>,
}

/// Σ w² per distinct time: at risk, events, censorings (see [`TimeTable::squares`]).
#[derive(Clone, Debug, Default)]
pub struct SquareSums {
    pub risk: Vec<f64>,
    pub event: Vec<f64>,
    pub censor: Vec<f64>,
}

impl TimeTable {
    /// Event and censoring swapped (reverse Kaplan–Meier for the median follow-up,
    /// Schemper & Smith 1996).
    pub fn reversed(&self) -> TimeTable {
        TimeTable {
            time: self.time.clone(),
            n_risk: self.n_risk.clone(),
            n_event: self.n_censor.clone(),
            n_censor: self.n_event.clone(),
            n: self.n,
            squares: self.squares.as_ref().map(|q| SquareSums {
                risk: q.risk.clone(),
                event: q.censor.clone(),
                censor: q.event.clone(),
            }),
        }
    }

    pub fn len(&self) -> usize {
        self.time.len()
    }

    fn with_capacity(rows: usize) -> TimeTable {
        TimeTable {
            time: Vec::with_capacity(rows),
            n_risk: Vec::with_capacity(rows),
            n_event: Vec::with_capacity(rows),
            n_censor: Vec::with_capacity(rows),
            ..TimeTable::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    fn push(&mut self, time: f64, n_risk: f64, n_event: f64, n_censor: f64) {
        self.time.push(time);
        self.n_risk.push(n_risk);
        self.n_event.push(n_event);
        self.n_censor.push(n_censor);
    }

    fn reverse_rows(&mut self) {
        self.time.reverse();
        self.n_risk.reverse();
        self.n_event.reverse();
        self.n_censor.reverse();
        if let Some(q) = &mut self.squares {
            q.risk.reverse();
            q.event.reverse();
            q.censor.reverse();
        }
    }
}

/// R's rule (`survfitKM`): with a weight that is not a whole number the curve's variance is
/// the robust one.
pub(super) fn has_fractional_weights(weight: &[f64]) -> bool {
    weight.iter().any(|w| w.floor() != *w)
}

/// Walks the distinct times from the last, summing `value(w)` for the subjects with
/// `first(i)` (group 0), the others (1) and all (2): at risk (time ≥ t, summed from the last
/// subject backwards), events and censorings at t (forwards), each from +0 without
/// branching on the group or the status. `visit(start, sums)` gets each time's first index
/// and `[at risk, events, censorings]` per group, `None` for a group without a subject at t.
pub(super) fn sums_by_time(
    sample: &SurvSample,
    first: &impl Fn(usize) -> bool,
    value: impl Fn(f64) -> f64,
    mut visit: impl FnMut(usize, [Option<[f64; 3]>; 3]),
) {
    let (time, status, weight) = (&sample.time, &sample.status, &sample.weight);
    let mut at_risk = [0.0f64; 3];
    for (start, end) in tied_runs_from_last(time) {
        for i in (start..end).rev() {
            let (w, f) = (value(weight[i]), first(i));
            at_risk[0] += kept(w, f);
            at_risk[1] += kept(w, !f);
            at_risk[2] += w;
        }
        let (mut event, mut censor, mut n_first) = ([0.0f64; 3], [0.0f64; 3], 0usize);
        for i in start..end {
            let (w, f, e) = (value(weight[i]), first(i), status[i]);
            let (we, wc) = (kept(w, e), kept(w, !e));
            event[0] += kept(we, f);
            event[1] += kept(we, !f);
            event[2] += we;
            censor[0] += kept(wc, f);
            censor[1] += kept(wc, !f);
            censor[2] += wc;
            n_first += usize::from(f);
        }
        let present = [n_first > 0, n_first < end - start, true];
        visit(
            start,
            std::array::from_fn(|g| present[g].then_some([at_risk[g], event[g], censor[g]])),
        );
    }
}

/// The [`SquareSums`] of the three tables of [`time_tables`], summed in the same order.
pub(super) fn add_square_sums(
    tables: &mut [TimeTable; 3],
    sample: &SurvSample,
    first: &impl Fn(usize) -> bool,
) {
    let mut sums: [SquareSums; 3] = Default::default();
    sums_by_time(
        sample,
        first,
        |w| w * w,
        |_, by_group| {
            for (s, sums_at_t) in sums.iter_mut().zip(by_group) {
                if let Some([risk, event, censor]) = sums_at_t {
                    s.risk.push(risk);
                    s.event.push(event);
                    s.censor.push(censor);
                }
            }
        },
    );
    for (table, s) in tables.iter_mut().zip(sums) {
        table.squares = Some(s);
    }
}

/// The tables of the subjects with `first(i)`, of the others, and of all, from one sample
/// sorted by time, in one pass without branching on the group or the status (both are at
/// random from one subject to the next). The sums are the ones a pass over each group alone
/// gives, to the bit: at risk is summed from the last subject backwards, events and
/// censorings forwards within each time, `n` forwards, each from +0 (a subject outside a
/// group adds +0, which leaves a sum unchanged). A time is written +0 where it was -0 (the
/// two are one time).
pub fn time_tables(sample: &SurvSample, first: impl Fn(usize) -> bool) -> [TimeTable; 3] {
    if sample.weight.iter().all(|&w| w == 1.0) {
        counted_tables(sample, first)
    } else {
        summed_tables(sample, first)
    }
}

/// [`time_tables`] of an unweighted sample (every weight 1): each sum of weights is a count,
/// which floating point adds exactly in any order, so counting subjects gives the summed
/// tables to the bit — with integer additions, which do not wait on each other.
fn counted_tables(sample: &SurvSample, first: impl Fn(usize) -> bool) -> [TimeTable; 3] {
    let (time, status) = (&sample.time, &sample.status);
    let n = sample.len();
    // Each table has at most one row per distinct time and per subject: room for them up
    // front.
    let distinct = usize::from(n > 0) + time.windows(2).filter(|w| w[0] != w[1]).count();
    let n_first = (0..n).filter(|&i| first(i)).count();
    let counts = [n_first, n - n_first, n];
    let mut tables: [TimeTable; 3] =
        std::array::from_fn(|g| TimeTable::with_capacity(distinct.min(counts[g])));
    for (table, count) in tables.iter_mut().zip(counts) {
        table.n = count as f64;
    }
    let mut at_risk = [0usize; 3];
    for (start, end) in tied_runs_from_last(time) {
        let (mut firsts, mut first_events, mut events) = (0usize, 0usize, 0usize);
        for (i, &dead) in status.iter().enumerate().take(end).skip(start) {
            let (f, e) = (usize::from(first(i)), usize::from(dead));
            firsts += f;
            first_events += f & e;
            events += e;
        }
        let len = end - start;
        let sizes = [firsts, len - firsts, len];
        let event = [first_events, events - first_events, events];
        let t = time[start] + 0.0;
        for g in 0..3 {
            at_risk[g] += sizes[g];
            if sizes[g] > 0 {
                tables[g].push(
                    t,
                    at_risk[g] as f64,
                    event[g] as f64,
                    (sizes[g] - event[g]) as f64,
                );
            }
        }
    }
    for table in &mut tables {
        table.reverse_rows();
    }
    tables
}

/// [`time_tables`] of any sample: the weights summed.
fn summed_tables(sample: &SurvSample, first: impl Fn(usize) -> bool) -> [TimeTable; 3] {
    let n = sample.len();
    let (time, weight) = (&sample.time, &sample.weight);
    let mut tables: [TimeTable; 3] = Default::default();
    for (i, &w) in weight.iter().enumerate().take(n) {
        let f = first(i);
        tables[0].n += kept(w, f);
        tables[1].n += kept(w, !f);
        tables[2].n += w;
    }
    sums_by_time(
        sample,
        &first,
        |w| w,
        |start, by_group| {
            let t = time[start] + 0.0;
            for (table, sums_at_t) in tables.iter_mut().zip(by_group) {
                if let Some([at_risk, event, censor]) = sums_at_t {
                    table.push(t, at_risk, event, censor);
                }
            }
        },
    );
    if has_fractional_weights(weight) {
        add_square_sums(&mut tables, sample, &first);
    }
    for table in &mut tables {
        table.reverse_rows();
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// Counting an unweighted sample gives the summed tables to the bit: ties, censoring,
    /// groups absent at some times, all in one group, -0 times.
    #[test]
    fn counted_tables_are_the_summed_ones_to_the_bit() {
        let mut rng = SplitMix64::new(31);
        let mut mixed = false;
        for (n, distinct, p_first) in [
            (600, 40.0, 0.5),
            (400, 3.0, 0.1),
            (50, 500.0, 1.0),
            (60, 30.0, 0.5),
        ] {
            let mut time: Vec<f64> = (0..n)
                .map(|_| (rng.next_f64() * distinct).floor())
                .collect();
            time.sort_by(f64::total_cmp);
            time[0] = -0.0;
            let sample = SurvSample {
                status: (0..n).map(|_| rng.next_f64() < 0.55).collect(),
                weight: vec![1.0; n],
                time,
            };
            let group: Vec<bool> = (0..n).map(|_| rng.next_f64() < p_first).collect();
            let counted = counted_tables(&sample, |i| group[i]);
            let summed = summed_tables(&sample, |i| group[i]);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert!(!summed[2].is_empty());
            let all = summed[2].len();
            let (first, other) = (summed[0].len(), summed[1].len());
            mixed |= first > 0 && other > 0 && (first < all || other < all);
            for (c, s) in counted.iter().zip(&summed) {
                assert_eq!(bits(&c.time), bits(&s.time));
                assert_eq!(bits(&c.n_risk), bits(&s.n_risk));
                assert_eq!(bits(&c.n_event), bits(&s.n_event));
                assert_eq!(bits(&c.n_censor), bits(&s.n_censor));
                assert_eq!(c.n.to_bits(), s.n.to_bits());
                assert!(c.squares.is_none() && s.squares.is_none());
            }
        }
        assert!(mixed, "no sample had a group absent at some times only");
    }
}
