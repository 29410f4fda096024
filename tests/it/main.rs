//! The integration tests, one binary (each test file a module: one link of eframe and
//! polars instead of one per file). Reference values from R, the command line as a user runs
//! it, the window through egui_kittest, the emitted R script run by R.

// Helpers shared by the modules; not every module uses every one.
#[path = "support/common.rs"]
mod common;
#[path = "support/demo_targets.rs"]
mod demo_targets;

mod adjusted_properties;
mod adjusted_reference;
mod analyze_reference;
mod architecture;
mod cache;
mod cli;
mod demo;
mod edge_cases;
mod explore;
mod export;
mod formats;
mod hostile_files;
mod journal;
mod kmunicate;
mod loading;
mod matching_reference;
mod own_file;
mod packaging;
#[cfg(feature = "parquet")]
mod parquet_pages;
mod parts;
mod predictors;
mod properties;
mod r_script;
mod screenshot;
mod stats_reference;
mod ui;
mod web;
mod weighting;
