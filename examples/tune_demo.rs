//! Tuning aid for the simulator, not a test:
//! `cargo run --release --example tune_demo -- figures|search|misses|tune`.
//! `figures` shows the model's figures at large n (SIM_N, MODEL_JSON, SEEDS); `search` scans
//! seeds (SEED_FROM..SEED_TO) for a 230-patient cohort that meets every target of the demo
//! test (tests/it/demo.rs); `misses` counts the targets missed over 400 seeds; `tune`
//! hill-climbs the model's parameters (TUNE_ROUNDS).

#[path = "../tests/it/support/demo_targets.rs"]
mod demo_targets;

use demo_targets::{check, figures};
use survival_explorer::simulate::simulate_csv;

fn print_figures() {
    let n: usize = std::env::var("SIM_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let m: survival_explorer::simulate::Model = std::env::var("MODEL_JSON")
        .ok()
        .map(|j| serde_json::from_str(&j).expect("MODEL_JSON is a partial Model"))
        .unwrap_or_default();
    let f = figures(&m.simulate_csv(n, 7));
    for (k, v) in &f.values {
        println!("{k:32} {v:.3}");
    }
    let seeds: u64 = std::env::var("SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if seeds > 0 {
        println!(
            "pass rate at n = 230 over {seeds} seeds: {:?}",
            pass_rate(&m, seeds)
        );
    }
}

fn search_seed() {
    let to: u64 = std::env::var("SEED_TO")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let from: u64 = std::env::var("SEED_FROM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    for seed in from..to {
        let f = figures(&simulate_csv(230, seed));
        let misses = check(&f);
        if misses.len() <= 1 {
            println!(
                "seed {seed}: {} misses {misses:?} (score {:.3})",
                misses.len(),
                f.score()
            );
        }
    }
}

fn miss_histogram() {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    let mut best = (usize::MAX, 0u64, Vec::new());
    for seed in 1..400u64 {
        let misses = check(&figures(&simulate_csv(230, seed)));
        for m in &misses {
            *counts
                .entry(m.split([':', '(']).next().unwrap().to_string())
                .or_default() += 1;
        }
        if misses.len() < best.0 {
            best = (misses.len(), seed, misses.clone());
        }
    }
    for (k, v) in counts {
        println!("{v:4} {k}");
    }
    println!("best seed {} misses {:?}", best.1, best.2);
}

fn pass_rate(m: &survival_explorer::simulate::Model, seeds: u64) -> (f64, f64) {
    let mut pass = 0;
    let mut misses_total = 0usize;
    for seed in 1..=seeds {
        let misses = check(&figures(&m.simulate_csv(230, seed)));
        misses_total += misses.len();
        if misses.is_empty() {
            pass += 1;
        }
    }
    (
        pass as f64 / seeds as f64,
        misses_total as f64 / seeds as f64,
    )
}

/// Hill-climbing over the model's parameters: maximise the share of seeds meeting every target.
fn tune_model() {
    use survival_explorer::rng::SplitMix64;
    use survival_explorer::simulate::Model;
    let rounds: usize = std::env::var("TUNE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let mut best = Model::default();
    let mut best_fit = pass_rate(&best, 40);
    println!("start {best_fit:?}");
    let mut rng = SplitMix64::new(99);
    for round in 0..rounds {
        let mut m = best.clone();
        for _ in 0..3 {
            let factor = 0.8 + 0.4 * rng.next_f64();
            let f = |x: &mut f64| *x *= factor;
            match rng.below(12) {
                0 => f(&mut m.key_ecog),
                1 => f(&mut m.key_albi),
                2 => f(&mut m.key_resistant),
                3 => f(&mut m.key_responder),
                4 => f(&mut m.hr_progression),
                5 => f(&mut m.hr_post_progression),
                6 => f(&mut m.pps_scale),
                7 => f(&mut m.prog_scale),
                8 => f(&mut m.prog_resistant),
                9 => f(&mut m.first_line_sdlog),
                10 => f(&mut m.pps_risk_weight),
                _ => f(&mut m.pps_resistant),
            }
        }
        let fit = pass_rate(&m, 40);
        if fit.0 > best_fit.0 || (fit.0 == best_fit.0 && fit.1 < best_fit.1) {
            best = m;
            best_fit = fit;
            println!("round {round}: {best_fit:?} {best:?}");
        }
    }
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("figures") => print_figures(),
        Some("search") => search_seed(),
        Some("misses") => miss_histogram(),
        Some("tune") => tune_model(),
        _ => eprintln!(
            "usage: cargo run --release --example tune_demo -- figures|search|misses|tune"
        ),
    }
}
