//! Criterion benches of the pipeline on simulated cohorts (`simulate`), with the seven
//! matching covariates of the speed issue. Run: `cargo bench --bench pipeline`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use survival_explorer::analysis::{
    analyze, analyze_cached, analyze_parts, subgroup_sample, AnalysisCache, MatchSpec, Parts, Spec,
};
use survival_explorer::cohort::{read_csv_bytes, Cohort};
use survival_explorer::matching::{greedy_match, match_core, match_with_model, Order};
use survival_explorer::propensity::fit_propensity;
use survival_explorer::rng::SplitMix64;
use survival_explorer::simulate::simulate_csv;
use survival_explorer::stats::cox::{cox_fit, CoxData, Ties};
use survival_explorer::stats::km::{kaplan_meier, ConfType};
use survival_explorer::stats::SurvSample;

const COVARIATES: [&str; 7] = [
    "ecog",
    "albi_grade",
    "prior_io_response",
    "bclc",
    "etiology",
    "afp_ge_400",
    "age",
];

/// The Survival view's parts of the matched analysis (the window's first pass): the match
/// (propensity model and distance order from the cache) and the shown endpoint's curves,
/// medians, at-risk table, HR and log-rank.
fn live_analysis(
    data: &Cohort,
    spec: &Spec,
    cache: &AnalysisCache,
    endpoint: &str,
) -> survival_explorer::analysis::Report {
    analyze_parts(data, spec, cache, &Parts::endpoint(endpoint), &|| false).unwrap()
}

fn cohort(n: usize) -> Cohort {
    read_csv_bytes("bench", simulate_csv(n, 42).into_bytes()).expect("simulated cohort loads")
}

fn matched_spec() -> Spec {
    Spec {
        matching: Some(MatchSpec {
            covariates: COVARIATES.iter().map(|s| s.to_string()).collect(),
            ..MatchSpec::default()
        }),
        ..Spec::default()
    }
}

fn sizes() -> Vec<usize> {
    match std::env::var("BENCH_MAX_N")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(max) => [1_000, 10_000, 100_000, 1_000_000]
            .into_iter()
            .filter(|&n| n <= max)
            .collect(),
        None => vec![1_000, 10_000, 100_000, 1_000_000],
    }
}

/// The sizes of the live benches (`BENCH_LIVE_MAX_N` caps them).
fn live_sizes() -> Vec<usize> {
    let max = std::env::var("BENCH_LIVE_MAX_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    [10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|&n| n <= max)
        .collect()
}

/// One simulated cohort per size, loaded once for all the live benches.
fn shared_cohort(n: usize) -> std::sync::Arc<Cohort> {
    static COHORTS: std::sync::Mutex<Vec<(usize, std::sync::Arc<Cohort>)>> =
        std::sync::Mutex::new(Vec::new());
    let mut all = COHORTS.lock().unwrap();
    if let Some((_, c)) = all.iter().find(|(k, _)| *k == n) {
        return std::sync::Arc::clone(c);
    }
    let c = std::sync::Arc::new(cohort(n));
    all.push((n, std::sync::Arc::clone(&c)));
    c
}

/// What the window computes before the Survival view can draw `endpoint` for `spec`.
fn survival_view(data: &Cohort, spec: &Spec, cache: &AnalysisCache, endpoint: &str) {
    black_box(live_analysis(data, spec, cache, endpoint));
}

/// The window's live benches: what a user waits for after one edit, the Survival view shown.
/// `live/caliper`: the caliper moves (0.2 ↔ 0.1 SD); `live/endpoint`: PFS → OS on the
/// matched sample; `live/subgroup`: one level of a subgroup toggled (ECOG 0–1 ↔ 0–2), which
/// refits the propensity model.
fn bench_live(c: &mut Criterion) {
    let spec = matched_spec();
    let moved = |caliper: f64, subgroup: &[&str]| {
        let mut s = spec.clone();
        if let Some(m) = s.matching.as_mut() {
            m.caliper = caliper;
        }
        s.subgroups = vec![survival_explorer::analysis::Subgroup::Levels {
            column: "ecog".to_string(),
            values: subgroup.iter().map(|v| v.to_string()).collect(),
        }];
        s
    };
    let all_ecog = ["0", "1", "2"];
    for (group, which) in [
        ("live/caliper", 0),
        ("live/endpoint", 1),
        ("live/subgroup", 2),
    ] {
        let mut g = c.benchmark_group(group);
        g.sample_size(10).measurement_time(Duration::from_secs(4));
        for n in live_sizes() {
            let data = shared_cohort(n);
            // The window's cache.
            let cache = AnalysisCache::live();
            survival_view(&data, &moved(0.2, &all_ecog), &cache, "pfs");
            let mut flip = false;
            g.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| {
                    flip = !flip;
                    match which {
                        0 => {
                            let caliper = if flip { 0.1 } else { 0.2 };
                            survival_view(&data, &moved(caliper, &all_ecog), &cache, "pfs")
                        }
                        1 => {
                            let endpoint = if flip { "os" } else { "pfs" };
                            survival_view(&data, &moved(0.2, &all_ecog), &cache, endpoint)
                        }
                        _ => {
                            let levels: &[&str] = if flip { &["0", "1"] } else { &all_ecog };
                            survival_view(&data, &moved(0.2, levels), &cache, "pfs")
                        }
                    }
                })
            });
        }
        g.finish();
    }
}

fn bench_pipeline(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline/analyze");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    let spec = matched_spec();
    for n in sizes() {
        let data = cohort(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &data, |b, data| {
            b.iter(|| analyze(black_box(data), black_box(&spec)).unwrap())
        });
    }
    g.finish();
    // The first analysis of a freshly loaded cohort (the command line's one-shot case): a
    // clone starts with no cached time orders, so each iteration sorts them again.
    let mut g = c.benchmark_group("pipeline/analyze_first");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for n in sizes().into_iter().filter(|&n| n <= 100_000) {
        let data = cohort(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &data, |b, data| {
            b.iter_batched(
                || data.clone(),
                |fresh| analyze(black_box(&fresh), black_box(&spec)).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn bench_stages(c: &mut Criterion) {
    let n = 100_000;
    let csv = simulate_csv(n, 42);
    let mut g = c.benchmark_group("stage");
    g.sample_size(10).measurement_time(Duration::from_secs(6));
    g.bench_function("load_csv/100000", |b| {
        b.iter(|| read_csv_bytes("bench", black_box(csv.clone().into_bytes())).unwrap())
    });
    let data = cohort(n);
    let spec = matched_spec();
    let unmatched = Spec::default();
    g.bench_function("analyze_unmatched/100000", |b| {
        b.iter(|| analyze(black_box(&data), black_box(&unmatched)).unwrap())
    });
    // The stages of the matched analysis, each alone.
    let ms = spec.matching.clone().expect("matched spec");
    let (subgroup, _) = subgroup_sample(&data, &spec).expect("sample");
    let arms = spec.arm_labels();
    g.bench_function("ps_fit/100000", |b| {
        b.iter(|| fit_propensity(black_box(&data), &ms.covariates, &arms, &subgroup).unwrap())
    });
    let model = fit_propensity(&data, &ms.covariates, &arms, &subgroup).unwrap();
    g.bench_function("match/100000", |b| {
        b.iter(|| match_core(black_box(&model), &ms, &subgroup).unwrap())
    });
    g.bench_function("match_and_balance/100000", |b| {
        b.iter(|| match_with_model(&data, &arms, &ms, &subgroup, black_box(&model)).unwrap())
    });
    // The window's live path: the caliper moves, the propensity model is reused.
    let cache = AnalysisCache::default();
    analyze_cached(&data, &spec, &cache).unwrap();
    let mut caliper = 0.2;
    g.bench_function("caliper_move/100000", |b| {
        b.iter(|| {
            caliper = if caliper == 0.2 { 0.1 } else { 0.2 };
            let moved = Spec {
                matching: Some(MatchSpec {
                    caliper,
                    ..ms.clone()
                }),
                ..spec.clone()
            };
            analyze_cached(black_box(&data), &moved, &cache).unwrap()
        })
    });
    let sweep_spec = Spec {
        caliper_sweep: true,
        ..matched_spec()
    };
    g.bench_function("analyze_with_caliper_sweep/100000", |b| {
        b.iter(|| analyze(black_box(&data), black_box(&sweep_spec)).unwrap())
    });
    let window_sweep = Spec {
        caliper_sweep: true,
        sweep_endpoint: Some("pfs".to_string()),
        ..matched_spec()
    };
    g.bench_function("analyze_with_window_sweep/100000", |b| {
        b.iter(|| analyze(black_box(&data), black_box(&window_sweep)).unwrap())
    });
    g.bench_function("simulate/1000000", |b| {
        b.iter(|| simulate_csv(black_box(1_000_000), 42).len())
    });
    // Matching alone on 1,000,000 units.
    let m = 1_000_000;
    let mut rng = SplitMix64::new(7);
    let distance: Vec<f64> = (0..m).map(|_| rng.next_f64() * 4.0 - 2.0).collect();
    let treated: Vec<bool> = (0..m).map(|_| rng.next_f64() < 0.45).collect();
    g.bench_function("matching/1000000", |b| {
        b.iter(|| {
            greedy_match(
                black_box(&distance),
                &treated,
                0.02,
                Order::Largest,
                1,
                false,
            )
        })
    });
    // Kaplan–Meier and Cox on 100,000 subjects.
    let time: Vec<f64> = (0..n)
        .map(|_| (rng.next_f64() * 3000.0).round() / 100.0)
        .collect();
    let status: Vec<bool> = (0..n).map(|_| rng.next_f64() < 0.7).collect();
    let arm: Vec<f64> = (0..n)
        .map(|_| f64::from(u8::from(rng.next_f64() < 0.5)))
        .collect();
    let sample = SurvSample::new(time.clone(), status.clone(), None);
    g.bench_function("km/100000", |b| {
        b.iter(|| kaplan_meier(black_box(&sample), ConfType::LogLog, 0.95))
    });
    let sorted = SurvSample::new(time, status, Some(arm));
    let w = vec![1.0; n];
    g.bench_function("cox/100000", |b| {
        b.iter(|| {
            let d = CoxData {
                time: &sorted.time,
                status: &sorted.status,
                weight: &w,
                x: &sorted.weight,
                p: 1,
            };
            cox_fit(black_box(&d), Ties::Efron, false).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_live, bench_pipeline, bench_stages);
criterion_main!(benches);
