//! Property tests of the estimators and the matching algorithm on random data.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;
use survival_explorer::cohort::ColumnData;
use survival_explorer::matching::{greedy_match, Order};
use survival_explorer::stats::km::{kaplan_meier, time_tables, ConfType};
use survival_explorer::stats::SurvSample;

fn surv_data() -> impl Strategy<Value = Vec<(f64, bool)>> {
    // Integer-valued times force ties between events and censorings.
    prop::collection::vec(
        ((0u32..40).prop_map(|t| t as f64 * 0.5), any::<bool>()),
        1..80,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn km_is_a_valid_survival_curve(data in surv_data(), ci in 0usize..3) {
        let ct = [ConfType::LogLog, ConfType::Log, ConfType::Plain][ci];
        let (t, e): (Vec<f64>, Vec<bool>) = data.iter().copied().unzip();
        let km = kaplan_meier(&SurvSample::new(t, e, None), ct, 0.95);
        let mut prev_s = 1.0;
        let mut prev_n = f64::INFINITY;
        for i in 0..km.time.len() {
            let s = km.surv[i];
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert!(s <= prev_s);
            prop_assert!(km.n_risk[i] <= prev_n);
            if !km.lower[i].is_nan() {
                prop_assert!(km.lower[i] <= s + 1e-12 && s <= km.upper[i] + 1e-12);
                prop_assert!(km.lower[i] >= 0.0 && km.upper[i] <= 1.0);
            }
            prev_s = s;
            prev_n = km.n_risk[i];
        }
        let total: f64 = km.n_event.iter().chain(&km.n_censor).sum();
        prop_assert_eq!(total, data.len() as f64);
        prop_assert_eq!(km.n_risk[0], data.len() as f64);
    }

    #[test]
    fn km_ignores_row_order(data in surv_data(), seed in any::<u64>()) {
        let (t, e): (Vec<f64>, Vec<bool>) = data.iter().copied().unzip();
        let a = kaplan_meier(&SurvSample::new(t, e, None), ConfType::LogLog, 0.95);
        let mut shuffled = data.clone();
        survival_explorer::rng::SplitMix64::new(seed).shuffle(&mut shuffled);
        let (t2, e2): (Vec<f64>, Vec<bool>) = shuffled.into_iter().unzip();
        let b = kaplan_meier(&SurvSample::new(t2, e2, None), ConfType::LogLog, 0.95);
        prop_assert_eq!(&a.time, &b.time);
        prop_assert_eq!(&a.surv, &b.surv);
        prop_assert_eq!(&a.std_err, &b.std_err);
        let (ma, mb) = (a.median(), b.median());
        prop_assert!(ma.estimate == mb.estimate || (ma.estimate.is_nan() && mb.estimate.is_nan()));
    }
}

fn units() -> impl Strategy<Value = Vec<(f64, bool)>> {
    prop::collection::vec(
        ((0u32..200).prop_map(|d| d as f64 / 37.0), any::<bool>()),
        2..120,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn matching_respects_caliper_and_availability(
        data in units(), width in 0.0f64..0.5, ratio in 1usize..4, replace in any::<bool>(),
        order in 0usize..4, seed in any::<i32>()
    ) {
        let (d, t): (Vec<f64>, Vec<bool>) = data.iter().copied().unzip();
        let ord = [Order::Largest, Order::Smallest, Order::Data, Order::Random(seed)][order];
        let m = greedy_match(&d, &t, width, ord, ratio, replace);
        let mut used: BTreeMap<usize, usize> = BTreeMap::new();
        for (tr, cs) in m.iter() {
            prop_assert!(t[tr]);
            prop_assert!(cs.len() <= ratio);
            let distinct: HashSet<_> = cs.iter().collect();
            prop_assert_eq!(distinct.len(), cs.len());
            for &c in cs {
                prop_assert!(!t[c]);
                prop_assert!((d[tr] - d[c]).abs() <= width, "pair outside the caliper");
                *used.entry(c).or_default() += 1;
            }
        }
        if !replace {
            prop_assert!(used.values().all(|&k| k == 1), "a control used twice");
            // Unmatched treated: every control within the caliper went to someone else.
            for (tr, cs) in m.iter() {
                if cs.is_empty() {
                    for c in (0..d.len()).filter(|&c| !t[c]) {
                        if (d[tr] - d[c]).abs() <= width {
                            prop_assert!(used.contains_key(&c), "unmatched treated with a free control in reach");
                        }
                    }
                }
            }
        } else {
            // With replacement every treated unit gets min(ratio, controls in reach).
            for (tr, cs) in m.iter() {
                let reach = (0..d.len()).filter(|&c| !t[c] && (d[tr] - d[c]).abs() <= width).count();
                prop_assert_eq!(cs.len(), reach.min(ratio));
            }
        }
        // Deterministic: the same input and seed give the same result.
        let again = greedy_match(&d, &t, width, ord, ratio, replace);
        prop_assert_eq!(&again, &m);
    }

    /// Nearest means nearest: with ratio 1, no replacement, the chosen control is at least as
    /// near as every control still available at that treated unit's turn — up to the tie
    /// tolerance (gaps within 1e-9 SD of the distance are a tie, which the left control wins).
    #[test]
    fn matched_control_is_nearest_available(data in units(), width in 0.0f64..1.0) {
        let (d, t): (Vec<f64>, Vec<bool>) = data.iter().copied().unzip();
        let m = greedy_match(&d, &t, width, Order::Data, 1, false);
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (d.len() as f64 - 1.0)).sqrt();
        let tie = survival_explorer::matching::greedy::TIE_TOLERANCE_SD * sd;
        let mut taken = vec![false; d.len()];
        for (tr, cs) in m.iter() {
            let best = (0..d.len())
                .filter(|&c| !t[c] && !taken[c])
                .map(|c| (d[tr] - d[c]).abs())
                .fold(f64::INFINITY, f64::min);
            match cs.first() {
                Some(&c) => {
                    let gap = (d[tr] - d[c]).abs();
                    prop_assert!(gap >= best && gap <= best + tie, "gap {gap}, nearest {best}");
                    taken[c] = true;
                }
                None => prop_assert!(best > width),
            }
        }
    }
}

/// Cells of a numeric column with ties, both zeros and missing values.
fn cell(code: u8) -> String {
    match code {
        0 => "-0".to_string(),
        1 => "0".to_string(),
        2 => String::new(),
        k => format!("{}", f64::from(k) / 4.0 - 1.0),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// "largest" visits treated units by decreasing distance, ties in input order (R's
    /// `order(distance, decreasing = TRUE)`, as MatchIt), whatever the matching settings.
    #[test]
    fn largest_first_visits_in_r_order(data in units(), replace in any::<bool>(), ratio in 1usize..3) {
        let (d, t): (Vec<f64>, Vec<bool>) = data.iter().copied().unzip();
        let m = greedy_match(&d, &t, 0.05, Order::Largest, ratio, replace);
        let mut want: Vec<usize> = (0..d.len()).filter(|&u| t[u]).collect();
        want.sort_by(|&a, &b| d[b].total_cmp(&d[a])); // stable: ties keep input order
        let got: Vec<usize> = m.iter().map(|(tr, _)| tr).collect();
        prop_assert_eq!(got, want);
    }

    /// A text column's levels are its distinct texts sorted, and each cell's code names its
    /// own text (missing codes aside), whether a column has a few levels (found by
    /// comparison) or more than 16 (a hash map takes over mid-column).
    #[test]
    fn text_levels_name_each_cell(cells in prop::collection::vec(0u8..40, 1..300), spread in 1u8..40) {
        let text = |c: u8| match c % spread {
            0 => "NA".to_string(),
            k => format!("level {k}"),
        };
        let mut csv = String::from("id,t\n");
        for (i, &c) in cells.iter().enumerate() {
            csv.push_str(&format!("{i},{}\n", text(c)));
        }
        let cohort = survival_explorer::cohort::read_csv_bytes("t.csv", csv.into_bytes()).unwrap();
        let ColumnData::Text { codes, levels } = &cohort.column("t").unwrap().data else {
            return Ok(());
        };
        let mut want: Vec<String> = cells.iter().map(|&c| text(c)).filter(|t| t != "NA").collect();
        want.sort();
        want.dedup();
        prop_assert_eq!(levels, &want);
        for (&c, &code) in cells.iter().zip(codes) {
            match levels.get(code as usize) {
                Some(level) => prop_assert_eq!(level, &text(c)),
                None => prop_assert_eq!(text(c), "NA"),
            }
        }
    }

    /// The cohort's cached row order, read for a subset of rows, is the order a sort of the
    /// subset's values gives (ties in subset order, -0 equal to 0, missing last), for one
    /// column and for a sum of two (an endpoint's time can be a sum).
    #[test]
    fn cached_row_order_equals_a_sort(
        rows in prop::collection::vec((0u8..12, 0u8..12, 0u8..4), 1..300)
    ) {
        let mut csv = String::from("id,a,b\n");
        for (i, (a, b, _)) in rows.iter().enumerate() {
            csv.push_str(&format!("{i},{},{}\n", cell(*a), cell(*b)));
        }
        let cohort = survival_explorer::cohort::read_csv_bytes("t.csv", csv.into_bytes()).unwrap();
        let subset: Vec<usize> = (0..rows.len()).filter(|&r| rows[r].2 != 0).collect();
        let numeric = |name: &str| match &cohort.column(name).unwrap().data {
            ColumnData::Numeric(v) => Some(v.clone()),
            ColumnData::Text { .. } => None,
        };
        // A column of missing cells only is read as text: nothing to order.
        let (Some(a), Some(b)) = (numeric("a"), numeric("b")) else {
            return Ok(());
        };
        let value = |name: &str, r: usize| if name == "a" { a[r] } else { b[r] };
        for columns in [vec!["a".to_string()], vec!["a".to_string(), "b".to_string()]] {
            let got = cohort.order_of_rows(&columns, subset.len(), |i| subset[i]);
            let sums: Vec<f64> = subset
                .iter()
                .map(|&r| columns.iter().map(|c| value(c, r)).sum())
                .collect();
            let want = survival_explorer::stats::sorted_order(&sums);
            match got {
                Some(got) => prop_assert_eq!(got, want),
                // Only a subset too small for the walk over the whole file is sorted instead.
                None => prop_assert!(subset.is_empty() || subset.len() * 8 < rows.len()),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// One pass over the pooled sample gives each arm's time table as a pass over that arm
    /// alone does, to the bit, with fractional weights: at risk summed from the last
    /// subject backwards, events and censorings forwards within a time, n forwards.
    #[test]
    fn time_tables_equal_each_group_alone(data in surv_data(), arms in prop::collection::vec(any::<bool>(), 80)) {
        let (t, e): (Vec<f64>, Vec<bool>) = data.iter().copied().unzip();
        let n = t.len();
        let w: Vec<f64> = (0..n).map(|i| 0.1 + i as f64 / 7.0).collect();
        let s = SurvSample::new(t, e, Some(w));
        let first = &arms[..s.len()];
        let tables = time_tables(&s, |i| first[i]);
        for (g, table) in tables.iter().enumerate() {
            let keep: Vec<usize> = (0..s.len())
                .filter(|&i| g == 2 || first[i] == (g == 0))
                .collect();
            let want_n = keep.iter().fold(0.0, |acc, &i| acc + s.weight[i]);
            prop_assert_eq!(table.n.to_bits(), want_n.to_bits());
            let mut rows = Vec::new();
            let mut k = 0;
            while k < keep.len() {
                let time = s.time[keep[k]];
                let at_risk = keep[k..].iter().rev().fold(0.0, |acc, &i| acc + s.weight[i]);
                let (mut d, mut c) = (0.0, 0.0);
                while k < keep.len() && s.time[keep[k]] == time {
                    let i = keep[k];
                    if s.status[i] { d += s.weight[i] } else { c += s.weight[i] }
                    k += 1;
                }
                rows.push([time + 0.0, at_risk, d, c].map(f64::to_bits));
            }
            let got: Vec<[u64; 4]> = (0..table.len())
                .map(|r| [table.time[r], table.n_risk[r], table.n_event[r], table.n_censor[r]].map(f64::to_bits))
                .collect();
            prop_assert_eq!(got, rows);
        }
    }
}

/// A cached order never outlives its column: after the column map gives the name to another
/// column, the order is that column's.
#[test]
fn cached_order_follows_a_renamed_column() {
    let csv = "id,a,b\n1,3,10\n2,1,30\n3,2,20\n";
    let mut cohort =
        survival_explorer::cohort::read_csv_bytes("t.csv", csv.as_bytes().to_vec()).unwrap();
    let a = vec!["a".to_string()];
    assert_eq!(&*cohort.sorted_rows(&a).unwrap(), &[1, 2, 0]);
    let map = std::collections::BTreeMap::from([("a".to_string(), "b".to_string())]);
    cohort.apply_column_map(&map).unwrap();
    assert_eq!(&*cohort.sorted_rows(&a).unwrap(), &[0, 2, 1]);
}
