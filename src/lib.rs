//! Survival Explorer's core: load a cohort, run Kaplan–Meier, log-rank, Cox, propensity-score
//! matching and response statistics, and produce one [`analysis::Report`] that every front end
//! (window, CLI, export) draws from. No UI types and no I/O outside `cohort`.

// Errors are cold paths that carry file, column and row for the message; their size does not
// matter, and boxing every field would only add noise.
#![allow(clippy::result_large_err)]

pub mod analysis;
pub mod app;
pub mod balance;
pub mod cli;
pub mod cohort;
pub mod export;
pub mod format;
pub mod matching;
pub mod propensity;
pub mod rng;
pub mod sample;
pub mod simulate;
pub mod spec_file;
pub mod stats;
pub mod weighting;

/// Size of the bundled demo cohort (as the LEVIATHAN study: 125 lenvatinib, 105 sorafenib).
pub const DEMO_N: usize = 230;
/// Seed of the bundled demo cohort (`assets/demo_cohort.csv`).
pub const DEMO_SEED: u64 = 12665;
/// The bundled synthetic demo cohort.
pub const DEMO_COHORT_CSV: &str = include_str!("../assets/demo_cohort.csv");
/// How the demo cohort is named in the window and in figures.
pub const DEMO_LABEL: &str = "synthetic demo data";
