//! Criterion bench of loading a CSV cohort file as the command line and the window do
//! (`Cohort::load`: read, sniff, tokenize, type the columns, give them their roles), on
//! `simulate` cohorts. Run: `cargo bench --bench load`; one core: `taskset -c 1 cargo bench
//! --bench load`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use survival_explorer::cohort::Cohort;
use survival_explorer::simulate::simulate_csv;

fn bench_load(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("se-bench-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let mut g = c.benchmark_group("load/csv");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for n in [100_000, 1_000_000] {
        let path = dir.join(format!("cohort_{n}.csv"));
        std::fs::write(&path, simulate_csv(n, 42)).expect("cohort written");
        g.bench_with_input(BenchmarkId::from_parameter(n), &path, |b, path| {
            b.iter(|| Cohort::load(black_box(path)).expect("cohort loads"))
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
