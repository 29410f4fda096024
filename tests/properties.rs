//! Property tests of the estimators and the matching algorithm on random data.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;
use survival_explorer::matching::{greedy_match, Order};
use survival_explorer::stats::km::{kaplan_meier, ConfType};
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
        order in 0usize..4, seed in any::<u64>()
    ) {
        let (d, t): (Vec<f64>, Vec<bool>) = data.iter().copied().unzip();
        let ord = [Order::Largest, Order::Smallest, Order::Data, Order::Random(seed)][order];
        let m = greedy_match(&d, &t, width, ord, ratio, replace);
        let mut used: BTreeMap<usize, usize> = BTreeMap::new();
        for (tr, cs) in &m.controls_of {
            prop_assert!(t[*tr]);
            prop_assert!(cs.len() <= ratio);
            let distinct: HashSet<_> = cs.iter().collect();
            prop_assert_eq!(distinct.len(), cs.len());
            for &c in cs {
                prop_assert!(!t[c]);
                prop_assert!((d[*tr] - d[c]).abs() <= width, "pair outside the caliper");
                *used.entry(c).or_default() += 1;
            }
        }
        if !replace {
            prop_assert!(used.values().all(|&k| k == 1), "a control used twice");
            // Unmatched treated: every control within the caliper went to someone else.
            for (tr, cs) in &m.controls_of {
                if cs.is_empty() {
                    for c in (0..d.len()).filter(|&c| !t[c]) {
                        if (d[*tr] - d[c]).abs() <= width {
                            prop_assert!(used.contains_key(&c), "unmatched treated with a free control in reach");
                        }
                    }
                }
            }
        } else {
            // With replacement every treated unit gets min(ratio, controls in reach).
            for (tr, cs) in &m.controls_of {
                let reach = (0..d.len()).filter(|&c| !t[c] && (d[*tr] - d[c]).abs() <= width).count();
                prop_assert_eq!(cs.len(), reach.min(ratio));
            }
        }
        // Deterministic: the same input and seed give the same result.
        let again = greedy_match(&d, &t, width, ord, ratio, replace);
        prop_assert_eq!(&again.controls_of, &m.controls_of);
    }

    /// Nearest means nearest: with ratio 1, no replacement, the chosen control is at least as
    /// near as every control still available at that treated unit's turn.
    #[test]
    fn matched_control_is_nearest_available(data in units(), width in 0.0f64..1.0) {
        let (d, t): (Vec<f64>, Vec<bool>) = data.iter().copied().unzip();
        let m = greedy_match(&d, &t, width, Order::Data, 1, false);
        let mut taken = vec![false; d.len()];
        for (tr, cs) in &m.controls_of {
            let best = (0..d.len())
                .filter(|&c| !t[c] && !taken[c])
                .map(|c| (d[*tr] - d[c]).abs())
                .fold(f64::INFINITY, f64::min);
            match cs.first() {
                Some(&c) => {
                    prop_assert_eq!((d[*tr] - d[c]).abs(), best);
                    taken[c] = true;
                }
                None => prop_assert!(best > width),
            }
        }
    }
}
