//! Shared helpers for the reference tests: fixture paths and the one tolerance.
#![allow(dead_code)]

use std::path::PathBuf;

/// Relative tolerance for values computed by the same method as R (survival 3.5-3).
pub const REL_TOL: f64 = 1e-9;

/// The bundled demo cohort's file.
pub fn demo_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo_cohort.csv")
}

/// The bundled demo cohort, loaded.
pub fn demo_cohort() -> survival_explorer::cohort::Cohort {
    survival_explorer::cohort::Cohort::load(&demo_path()).expect("the demo cohort loads")
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reference")
        .join(name)
}

pub fn reference_json(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(name)).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// R's value as f64: JSON null (R's NA) -> NaN, "Inf" -> infinity.
pub fn r_value(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::Null => f64::NAN,
        serde_json::Value::String(s) if s == "Inf" => f64::INFINITY,
        serde_json::Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
        other => other
            .as_f64()
            .unwrap_or_else(|| panic!("not a number: {other}")),
    }
}

/// Asserts `ours` equals R's `theirs` to REL_TOL (NaN matches NA, infinities match).
#[track_caller]
pub fn assert_close(what: &str, ours: f64, theirs: f64) {
    if theirs.is_nan() || ours.is_nan() {
        assert!(
            theirs.is_nan() && ours.is_nan(),
            "{what}: ours {ours}, R {theirs}"
        );
        return;
    }
    if theirs.is_infinite() || ours.is_infinite() {
        assert_eq!(ours, theirs, "{what}");
        return;
    }
    let scale = theirs.abs().max(1e-300);
    let rel = (ours - theirs).abs() / scale;
    assert!(
        rel <= REL_TOL || (ours - theirs).abs() <= 1e-300,
        "{what}: ours {ours:.17e}, R {theirs:.17e}, relative difference {rel:.3e}"
    );
}

/// Asserts against an optional JSON value.
#[track_caller]
pub fn assert_close_json(what: &str, ours: f64, theirs: &serde_json::Value) {
    assert_close(what, ours, r_value(theirs));
}
