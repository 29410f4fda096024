//! An endpoint's rows in time order: the one sort of a sample by an endpoint's time
//! ([`TimeOrder`]) and what the endpoint's analysis reads ([`Prepared`]) — of that sample,
//! or of a sample drawn from it (a match) without reading or sorting the rows again.

use super::endpoint::numeric;
use super::events::event_values;
use super::{require, AnalysisError, EndpointSpec, Exclusion, Sample, Spec};
use crate::cohort::Cohort;
use crate::stats::{sorted_order, timefix_sorted, timefix_sorted_changes, SurvSample};

/// An endpoint's usable rows in time order (one sort), with arm and matched set.
#[derive(Debug, PartialEq)]
pub(crate) struct Prepared {
    pub all: SurvSample,
    pub is_treated: Vec<bool>,
    pub set_id: Vec<u32>,
    /// Position in the sample of each row of `all`.
    pub sample_pos: Vec<u32>,
    /// The times of `all` before R's timefix (which depends on the set of times analysed),
    /// when it changed any; else they are `all.time` ([`Prepared::raw_time`]).
    raw_time: Option<Vec<f64>>,
    pub excluded: Vec<Exclusion>,
    pub n_excluded: usize,
}

/// Why a row of the sample is not one of the endpoint's (in the order the checks are made).
#[derive(Clone, Copy, Debug, PartialEq)]
enum LeftOut {
    MissingTime,
    InfiniteTime,
    NegativeTime,
    MissingEvent,
}

/// An endpoint's usable rows of a sample in time order, ties in sample order (which is file
/// order): the sort every sample drawn from that sample reads its own order off. A match is a
/// subset of its subgroup's rows in the same order, so its rows in time order are the
/// subgroup's with the unmatched left out — what sorting the match gives, to the bit.
pub(crate) struct TimeOrder {
    /// Position in the sample of each usable row, in time order.
    pos: Vec<u32>,
    /// Its time in the unit shown, before R's timefix.
    time: Vec<f64>,
    status: Vec<bool>,
    /// Its arm (a sample drawn from the sample keeps each row's arm).
    treated: Vec<bool>,
    /// The rows left out.
    left_out: LeftOutRows,
    /// The sample's size.
    n: usize,
}

/// A usable row while the order is made (`pos`: position in the sample).
#[derive(Clone, Copy)]
struct Subject {
    time: f64,
    pos: u32,
    status: bool,
    treated: bool,
}

/// What a drawn sample says of one row of the sample an order was made of: the row's
/// position in the drawn sample (`u32::MAX`: not drawn), its weight and its matched set there:
/// one read per row in time order instead of three (the drawn sample's arrays).
#[derive(Clone, Copy)]
pub(crate) struct Slot {
    weight: f64,
    set: u32,
    place: u32,
}

impl Slot {
    const NOT_DRAWN: Slot = Slot {
        weight: 0.0,
        set: u32::MAX,
        place: u32::MAX,
    };

    /// The rows of a sample of `n` rows drawn into `drawn`, whose rows are the sample's rows
    /// `drawn_rows` (ascending, one per row of `drawn`, in its order).
    pub(crate) fn drawn(
        n: usize,
        drawn: &Sample,
        drawn_rows: impl Iterator<Item = usize>,
    ) -> Vec<Slot> {
        let mut slots = vec![Slot::NOT_DRAWN; n];
        let mut last = None;
        for (j, k) in drawn_rows.enumerate() {
            debug_assert!(last < Some(k), "drawn rows ascend");
            last = Some(k);
            slots[k] = Slot {
                weight: drawn.weight[j],
                set: drawn.set_id[j],
                place: j as u32,
            };
        }
        debug_assert_eq!(
            slots.iter().filter(|s| s.place != u32::MAX).count(),
            drawn.rows.len(),
            "a row of the sample per drawn row"
        );
        slots
    }
}

/// The rows of a sample left out of an endpoint (positions in the sample, ascending) and why.
type LeftOutRows = Vec<(u32, LeftOut)>;

/// Endpoint `ep`'s usable rows of `sample` in time order (ties in sample order), each made by
/// `make` from its position in the sample, its time in the unit shown and its status, and
/// the rows left out (times summed over the endpoint's columns; rows without a usable time
/// or event left out). `pos_of` gives a made row's position back.
fn usable_in_time_order<S: Copy>(
    (cohort, spec, ep, sample): (&Cohort, &Spec, &EndpointSpec, &Sample),
    make: impl Fn(usize, f64, bool) -> S,
    (time_of, pos_of): (impl Fn(&S) -> f64, impl Fn(&S) -> usize),
) -> Result<(Vec<S>, LeftOutRows), AnalysisError> {
    let role = format!("time of endpoint '{}'", ep.name);
    let time_cols: Vec<&[f64]> = ep
        .time
        .iter()
        .map(|c| {
            let col = require(cohort, c, &role)?;
            numeric(cohort, col, &format!("a time in {}", spec.time_unit.name()))
        })
        .collect::<Result<_, _>>()?;
    let event_col = require(
        cohort,
        &ep.event,
        &format!("event of endpoint '{}'", ep.name),
    )?;
    let events = event_values(cohort, event_col, spec)?;

    // Times in the unit shown: (t × days per file unit) / days per shown unit, as the R
    // script writes it, so both round alike.
    let (per_file, per_shown) = (spec.time_unit.days(), spec.shown_unit().days());
    let convert = per_file != per_shown;
    let mut left_out = Vec::new();
    // Each usable row's fields side by side, read in file order here and gathered in time
    // order below: one random read per row.
    let mut rows = Vec::with_capacity(sample.rows.len());
    for (k, &r) in sample.rows.iter().enumerate() {
        // + 0.0: a time of -0 is the time 0 (as the sort and R take it), and written so.
        let mut t: f64 = time_cols.iter().map(|c| c[r]).sum::<f64>() + 0.0;
        if convert {
            t = t * per_file / per_shown;
        }
        let e = events[r];
        let why = if t.is_nan() {
            LeftOut::MissingTime
        } else if t.is_infinite() {
            LeftOut::InfiniteTime
        } else if t < 0.0 {
            LeftOut::NegativeTime
        } else if e.is_nan() {
            LeftOut::MissingEvent
        } else {
            rows.push(make(k, t, e == 1.0));
            continue;
        };
        left_out.push((k as u32, why));
    }
    // The rows in time order (ties in sample order). The cohort sorts each endpoint's times
    // once and every analysis reads its rows off that order.
    // (Converted times may tie where the file's did not: sorted afresh, ties in row order.)
    let cached = (!convert)
        .then(|| cohort.order_of_rows(&ep.time, rows.len(), |i| sample.rows[pos_of(&rows[i])]))
        .flatten();
    let order = cached.unwrap_or_else(|| {
        let time: Vec<f64> = rows.iter().map(&time_of).collect();
        sorted_order(&time)
    });
    let sorted = order.iter().map(|&i| rows[i as usize]).collect();
    Ok((sorted, left_out))
}

/// The rows left out (`why`, one per row), counted by reason in [`LeftOut`]'s order as the
/// report lists them, and their number.
fn exclusions(ep: &EndpointSpec, why: impl Iterator<Item = LeftOut>) -> (Vec<Exclusion>, usize) {
    let mut counts = [0usize; 4];
    for why in why {
        counts[why as usize] += 1;
    }
    let time_name = ep.time.join(" + ");
    let reasons = [
        format!("missing {time_name}"),
        format!("infinite {time_name}"),
        format!("negative {time_name}"),
        format!("missing {}", ep.event),
    ];
    let excluded = counts
        .iter()
        .zip(reasons)
        .filter(|(&n, _)| n > 0)
        .map(|(&n, reason)| Exclusion { reason, n })
        .collect();
    (excluded, counts.iter().sum())
}

impl TimeOrder {
    /// Endpoint `ep`'s usable rows of `sample` in time order: times summed over the endpoint's
    /// columns and put in the unit shown, rows without a usable time or event left out.
    pub(crate) fn of(
        cohort: &Cohort,
        spec: &Spec,
        ep: &EndpointSpec,
        sample: &Sample,
    ) -> Result<TimeOrder, AnalysisError> {
        let make = |k: usize, time: f64, status: bool| Subject {
            time,
            pos: k as u32,
            status,
            treated: sample.treated[k],
        };
        let (time_of, pos_of) = (|s: &Subject| s.time, |s: &Subject| s.pos as usize);
        let (sorted, left_out) =
            usable_in_time_order((cohort, spec, ep, sample), make, (time_of, pos_of))?;
        Ok(TimeOrder {
            pos: sorted.iter().map(|s| s.pos).collect(),
            time: sorted.iter().map(|s| s.time).collect(),
            status: sorted.iter().map(|s| s.status).collect(),
            treated: sorted.iter().map(|s| s.treated).collect(),
            left_out,
            n: sample.rows.len(),
        })
    }

    /// What [`prepare_endpoint`] gives for a sample drawn from the one this order was made
    /// of (a match), each of whose rows `slots` gives (see [`Slot::drawn`]). The drawn rows
    /// keep the sample's order (a match lists its units in the subgroup's order), so their
    /// order is this one with the others left out.
    pub(crate) fn prepared(&self, ep: &EndpointSpec, slots: &[Slot]) -> Prepared {
        debug_assert_eq!(slots.len(), self.n, "a slot per row of the order's sample");
        // Every row is written and the count moves on for a drawn one only: no branch on
        // whether a row was drawn (as good as random), no vector's length checked per row
        // (the three endpoints' rows at 100,000 patients: 5.7 → 4.2 ms). The count never
        // passes the row being read, so n slots are enough.
        let n = self.pos.len();
        let (mut time, mut weight) = (vec![0.0f64; n], vec![0.0f64; n]);
        let (mut status, mut is_treated) = (vec![false; n], vec![false; n]);
        let (mut set_id, mut sample_pos) = (vec![0u32; n], vec![0u32; n]);
        let mut k = 0;
        for i in 0..n {
            let slot = slots[self.pos[i] as usize];
            time[k] = self.time[i];
            weight[k] = slot.weight;
            status[k] = self.status[i];
            is_treated[k] = self.treated[i];
            set_id[k] = slot.set;
            sample_pos[k] = slot.place;
            k += usize::from(slot.place != u32::MAX);
        }
        time.truncate(k);
        weight.truncate(k);
        status.truncate(k);
        is_treated.truncate(k);
        set_id.truncate(k);
        sample_pos.truncate(k);
        let p = Prepared {
            all: SurvSample {
                time,
                status,
                weight,
            },
            is_treated,
            set_id,
            sample_pos,
            raw_time: None,
            excluded: Vec::new(),
            n_excluded: 0,
        };
        let drawn = |&&(row, _): &&(u32, LeftOut)| slots[row as usize].place != u32::MAX;
        let why = self.left_out.iter().filter(drawn).map(|&(_, why)| why);
        p.finish(exclusions(ep, why))
    }
}

/// One usable row of the sample analysed, with all an endpoint's analysis reads of it
/// (`pos`: its position in the sample).
#[derive(Clone, Copy)]
struct Row {
    time: f64,
    weight: f64,
    pos: u32,
    set_id: u32,
    status: bool,
    treated: bool,
}

impl Prepared {
    fn with_capacity(n: usize) -> Prepared {
        Prepared {
            all: SurvSample {
                time: Vec::with_capacity(n),
                status: Vec::with_capacity(n),
                weight: Vec::with_capacity(n),
            },
            is_treated: Vec::with_capacity(n),
            set_id: Vec::with_capacity(n),
            sample_pos: Vec::with_capacity(n),
            raw_time: None,
            excluded: Vec::new(),
            n_excluded: 0,
        }
    }

    /// The next row in time order (its time before timefix: [`Prepared::finish`]).
    fn push(&mut self, row: Row) {
        self.all.time.push(row.time);
        self.all.status.push(row.status);
        self.all.weight.push(row.weight);
        self.is_treated.push(row.treated);
        self.set_id.push(row.set_id);
        self.sample_pos.push(row.pos);
    }

    /// The rows' times with R's timefix (which depends on the set of times analysed), and
    /// the rows left out.
    fn finish(mut self, (excluded, n_excluded): (Vec<Exclusion>, usize)) -> Prepared {
        self.raw_time = with_timefix(&mut self.all.time);
        self.excluded = excluded;
        self.n_excluded = n_excluded;
        self
    }

    /// The rows' times before R's timefix.
    pub fn raw_time(&self) -> &[f64] {
        self.raw_time.as_deref().unwrap_or(&self.all.time)
    }

    /// The arm as the Cox models' covariate: 1 for the treated, 0 for the control arm.
    pub fn arm_covariate(&self) -> Vec<f64> {
        self.is_treated
            .iter()
            .map(|&t| f64::from(u8::from(t)))
            .collect()
    }
}

/// Applies R's timefix to times sorted ascending; returns the times as they were when it
/// changed any (`None`: they are the same).
fn with_timefix(time: &mut [f64]) -> Option<Vec<f64>> {
    timefix_sorted_changes(time).then(|| {
        let raw = time.to_vec();
        timefix_sorted(time);
        raw
    })
}

/// Endpoint `ep`'s usable rows of `sample` in time order, with arm, weight and matched set:
/// each row's fields read in sample order, then gathered in time order in one random read
/// per row.
pub(crate) fn prepare_endpoint(
    cohort: &Cohort,
    spec: &Spec,
    ep: &EndpointSpec,
    sample: &Sample,
) -> Result<Prepared, AnalysisError> {
    let make = |k: usize, time: f64, status: bool| Row {
        time,
        weight: sample.weight[k],
        pos: k as u32,
        set_id: sample.set_id[k],
        status,
        treated: sample.treated[k],
    };
    let (time_of, pos_of) = (|r: &Row| r.time, |r: &Row| r.pos as usize);
    let (sorted, left_out) =
        usable_in_time_order((cohort, spec, ep, sample), make, (time_of, pos_of))?;
    let mut p = Prepared::with_capacity(sorted.len());
    for row in sorted {
        p.push(row);
    }
    Ok(p.finish(exclusions(ep, left_out.into_iter().map(|(_, why)| why))))
}

impl Prepared {
    /// The rows whose sample position has a positive weight, re-weighted, with timefix
    /// applied to their own times — what `prepare_endpoint` gives for that sample, but for
    /// the rows left out (not counted) and the positions (this sample's).
    pub(crate) fn reweighted(&self, weight_of_pos: &[f64], set_of_pos: &[u32]) -> Prepared {
        let pos = |i: usize| self.sample_pos[i] as usize;
        let keep: Vec<usize> = (0..self.all.len())
            .filter(|&i| weight_of_pos[pos(i)] > 0.0)
            .collect();
        let raw = self.raw_time();
        let mut time: Vec<f64> = keep.iter().map(|&i| raw[i]).collect();
        let raw_time = with_timefix(&mut time);
        Prepared {
            all: SurvSample {
                time,
                status: keep.iter().map(|&i| self.all.status[i]).collect(),
                weight: keep.iter().map(|&i| weight_of_pos[pos(i)]).collect(),
            },
            is_treated: keep.iter().map(|&i| self.is_treated[i]).collect(),
            set_id: keep.iter().map(|&i| set_of_pos[pos(i)]).collect(),
            sample_pos: keep.iter().map(|&i| self.sample_pos[i]).collect(),
            raw_time,
            excluded: Vec::new(),
            n_excluded: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{resolve_endpoints, subgroup_sample, MatchSpec, Subgroup, TimeUnit};
    use crate::cohort::read_csv_bytes;
    use crate::matching::match_core;
    use crate::propensity::fit_propensity;

    /// A simulated cohort whose PFS times tie (rounded to half months), and some of whose
    /// rows have no PFS time, a negative one or no PFS event.
    fn cohort_with_gaps(n: usize, seed: u64) -> Cohort {
        let csv = crate::simulate::simulate_csv(n, seed);
        let mut lines = csv.lines();
        let mut out = format!("{}\n", lines.next().unwrap());
        for (i, line) in lines.enumerate() {
            let mut cells: Vec<String> = line.split(',').map(String::from).collect();
            let t: f64 = cells[12].parse().unwrap();
            cells[12] = match i % 37 {
                3 => "NA".to_string(),
                11 => format!("{}", -t),
                // Within R's timefix tolerance of a half month: merged into it.
                19 => format!("{}", (t * 2.0).round() / 2.0 + 1e-10),
                _ => format!("{}", (t * 2.0).round() / 2.0),
            };
            if i % 41 == 5 {
                cells[13] = String::new();
            }
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        read_csv_bytes("gaps.csv", out.into_bytes()).unwrap()
    }

    /// A match's rows of each endpoint read off its subgroup's order are, to the bit, what
    /// reading and sorting the match's own rows gives: rows, order of ties, times (timefix
    /// of the match's own times, and the times before it where it merged some), arms,
    /// weights (ratio 2, with replacement), matched sets, positions and the rows left out —
    /// with times converted or not, the cohort's kept order of the times used or not,
    /// matches large enough for the radix sort and one so small that it is sorted while its
    /// subgroup reads the cohort's order.
    #[test]
    fn a_match_read_off_its_subgroup_order_is_the_match_read_itself() {
        let cohort = cohort_with_gaps(6000, 7);
        let (mut left_out_seen, mut weights_seen, mut small_seen) = (false, false, false);
        let mut timefix_seen = false;
        for case in 0..10 {
            // The last two: distances all but unique (months of first line), a caliper that
            // few pairs meet.
            let covariates = match case {
                0..=7 => ["ecog", "albi_grade", "age"],
                _ => ["first_line_months", "nlr", "age"],
            };
            let ms = MatchSpec {
                covariates: covariates.map(String::from).to_vec(),
                caliper: if case >= 8 {
                    0.00002
                } else {
                    [0.2, 0.05][case % 2]
                },
                ratio: [1, 2][(case / 2) % 2],
                replace: case % 3 == 0,
                ..MatchSpec::default()
            };
            let spec = Spec {
                matching: Some(ms.clone()),
                show_in: (case / 4 == 1).then_some(TimeUnit::Days),
                subgroups: vec![Subgroup::Levels {
                    column: "ecog".to_string(),
                    values: vec!["0".to_string(), "1".to_string()],
                }],
                ..Spec::default()
            };
            let (subgroup, _) = subgroup_sample(&cohort, &spec).unwrap();
            let model =
                fit_propensity(&cohort, &ms.covariates, &spec.arm_labels(), &subgroup).unwrap();
            let core = match_core(&model, &ms, &subgroup).unwrap();
            let used = model.units().1;
            let slots = Slot::drawn(
                subgroup.rows.len(),
                &core.sample,
                core.subgroup_positions(used),
            );
            for ep in resolve_endpoints(&cohort, &spec).unwrap() {
                if case % 2 == 1 {
                    cohort.sorted_rows(&ep.time);
                }
                let order = TimeOrder::of(&cohort, &spec, &ep, &subgroup).unwrap();
                let read_off = order.prepared(&ep, &slots);
                let own = prepare_endpoint(&cohort, &spec, &ep, &core.sample).unwrap();
                assert_eq!(read_off, own, "case {case}, endpoint {}", ep.name);
                left_out_seen |= own.n_excluded > 0;
                weights_seen |= own.all.weight.iter().any(|&w| w != 1.0);
                small_seen |= own.all.len() * 8 < cohort.n_rows;
                timefix_seen |= own.raw_time.is_some();
            }
        }
        assert!(left_out_seen && weights_seen && small_seen && timefix_seen);
    }
}
