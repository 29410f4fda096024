//! Survival Explorer's core: load a cohort, run Kaplan–Meier, log-rank, Cox, propensity-score
//! matching and response statistics, and produce one [`analysis::Report`] that every front end
//! (window, CLI, export) draws from. No UI types and no I/O outside `cohort`.

// Errors are cold paths that carry file, column and row for the message; their size does not
// matter, and boxing every field would only add noise.
#![allow(clippy::result_large_err)]

pub mod analysis;
pub mod cli;
pub mod cohort;
pub mod matching;
pub mod rng;
pub mod stats;
