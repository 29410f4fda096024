//! What the web build does differently, tested on the desktop (the same code, the browser's
//! parts aside): a file given as bytes (dropped on or picked in the page) opens as the same
//! file opened by path; a spec given as bytes applies to the open cohort; the window's report
//! JSON is the one `analyze` prints for the window's analysis. The page itself is tested in
//! Chromium by `packaging/web-test.sh`; `.ci/run` lints the wasm32 build.

use survival_explorer::analysis::analyze;
use survival_explorer::app::{App, Settings};

/// The report JSON with its timings and the file's folder set aside (the browser knows a
/// file's name only).
fn comparable(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).expect("report JSON");
    v.as_object_mut().unwrap().remove("timing");
    let file = v["cohort"]["file"].as_str().unwrap().to_string();
    let name = std::path::Path::new(&file).file_name().unwrap();
    v["cohort"]["file"] = name.to_string_lossy().to_string().into();
    v
}

#[test]
fn a_file_given_as_bytes_opens_as_the_same_file_by_path() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats/demo_excel_eu.csv");
    let mut by_path = App::with_settings(Settings::default());
    by_path.open_file(&path);
    assert!(by_path.error.is_none(), "{:?}", by_path.error);

    let bytes = std::fs::read(&path).unwrap();
    let mut by_bytes = App::with_settings(Settings::default());
    by_bytes.open_bytes("demo_excel_eu.csv", bytes);
    assert!(by_bytes.error.is_none(), "{:?}", by_bytes.error);
    assert!(!by_bytes.loaded.is_demo);
    assert_eq!(by_bytes.loaded.label, "demo_excel_eu.csv");
    assert_eq!(
        comparable(&by_path.report_json().unwrap()),
        comparable(&by_bytes.report_json().unwrap())
    );
}

#[test]
fn the_windows_report_json_is_analyze_of_the_windows_spec() {
    let app = App::with_settings(Settings::default());
    let reports = app.reports.as_ref().unwrap();
    let spec = reports
        .matched_spec
        .clone()
        .expect("matching is on by default");
    let report = analyze(&app.loaded.cohort, &spec).unwrap();
    let printed = survival_explorer::export::json::to_string(&report).unwrap();
    assert_eq!(
        comparable(&app.report_json().unwrap()),
        comparable(&printed)
    );
}

#[test]
fn a_spec_given_as_bytes_applies_to_the_open_cohort() {
    let mut app = App::with_settings(Settings::default());
    let mut spec = app.current_spec();
    spec.matching.as_mut().unwrap().caliper = 0.05;
    let toml = survival_explorer::spec_file::SpecFile::new(spec, None)
        .to_toml()
        .unwrap();
    app.open_bytes("analysis.toml", toml.into_bytes());
    assert!(app.error.is_none(), "{:?}", app.error);
    assert!(app.loaded.is_demo, "the cohort stays");
    assert_eq!(app.settings.matching().caliper, 0.05);
}

#[test]
fn a_bad_file_given_as_bytes_is_a_message_and_the_cohort_stays() {
    let mut app = App::with_settings(Settings::default());
    app.open_bytes("notes.csv", b"just one line of text\n".to_vec());
    let error = app.error.clone().expect("an error message");
    assert!(error.contains("notes.csv"), "{error}");
    assert!(app.loaded.is_demo, "the demo stays");
    app.error = None;
    app.open_bytes("analysis.toml", b"this is = not [a spec".to_vec());
    let error = app.error.clone().expect("an error message");
    assert!(error.contains("analysis.toml"), "{error}");
}

/// The File menu's tables are made once per report (the menu is drawn every frame it is
/// open), and anew for a new analysis.
#[test]
fn the_tables_are_made_once_per_report() {
    let mut app = App::with_settings(Settings::default());
    let first = app.tables();
    assert!(first.iter().any(|(name, _)| name == "summary.csv"));
    assert!(std::sync::Arc::ptr_eq(&first, &app.tables()));
    app.settings.matching_mut().caliper = 0.1;
    app.recompute_if_needed(None);
    let second = app.tables();
    assert!(!std::sync::Arc::ptr_eq(&first, &second));
    assert_ne!(
        first, second,
        "the matched cohort's table changes with the caliper"
    );
}
