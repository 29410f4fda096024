//! The `analyze` command as a user runs it: JSON contract on stdout, warnings on stderr,
//! one-line errors naming file, column and row, never a panic.

#[path = "support/common.rs"]
mod common;

use std::process::Command;

use common::fixture;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_survival-explorer"))
}

fn tmp_csv(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("se-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = bin().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr)
}

#[test]
fn analyze_prints_the_contract_fields() {
    let f = fixture("aml.csv");
    let (code, j, _) = run(&[
        "analyze",
        f.to_str().unwrap(),
        "--treated",
        "Maintained",
        "--control",
        "Nonmaintained",
        "--endpoint",
        "os:time:event",
        "--time-unit",
        "weeks",
    ]);
    assert_eq!(code, 0);
    for k in ["file", "n_rows", "arms", "warnings"] {
        assert!(j["cohort"].get(k).is_some(), "cohort.{k}");
    }
    let ep = &j["endpoints"]["os"];
    for k in [
        "n_excluded",
        "arms",
        "rmst_difference",
        "median_follow_up",
        "logrank",
        "cox",
    ] {
        assert!(ep.get(k).is_some(), "endpoint.{k}");
    }
    let arm = &ep["arms"]["Maintained"];
    for k in [
        "n",
        "events",
        "median",
        "median_ci",
        "landmarks",
        "rmst",
        "curve",
    ] {
        assert!(arm.get(k).is_some(), "arm.{k}");
    }
    for k in [
        "time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper",
    ] {
        assert!(arm["curve"][k].is_array(), "curve.{k}");
    }
    for k in ["chi_square", "df", "p_value"] {
        assert!(ep["logrank"].get(k).is_some());
    }
    for k in ["hr", "ci", "p_value", "ties"] {
        assert!(ep["cox"].get(k).is_some());
    }
    assert!(j["response"].is_null(), "no best_response column -> null");
    assert!(j["timing"]["load_ms"].is_number() && j["timing"]["analysis_ms"].is_number());
    // R: median 31 weeks for Maintained (survfit, aml).
    assert_eq!(arm["median"], 31.0);
    assert_eq!(
        arm["median_ci"][1],
        serde_json::Value::Null,
        "not reached -> null"
    );
}

#[test]
fn summary_leaves_curves_out() {
    let f = fixture("aml.csv");
    let (code, j, _) = run(&[
        "analyze",
        f.to_str().unwrap(),
        "--treated",
        "Maintained",
        "--control",
        "Nonmaintained",
        "--endpoint",
        "os:time:event",
        "--summary",
    ]);
    assert_eq!(code, 0);
    assert!(j["endpoints"]["os"]["arms"]["Maintained"]
        .get("curve")
        .is_none());
}

#[test]
fn missing_arm_level_names_it_and_lists_levels() {
    let f = fixture("aml.csv");
    let (code, _, err) = run(&[
        "analyze",
        f.to_str().unwrap(),
        "--endpoint",
        "os:time:event",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("lenvatinib") && err.contains("Maintained, Nonmaintained"),
        "{err}"
    );
    assert!(err.contains("aml.csv"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn text_in_a_time_column_names_row_and_column() {
    let p = tmp_csv(
        "bad_time.csv",
        "arm,os_months,os_event\nlenvatinib,3,1\nsorafenib,abc,0\nsorafenib,4,1\nlenvatinib,5,0\n",
    );
    let (code, _, err) = run(&["analyze", p.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        err.contains("os_months") && err.contains("row 2") && err.contains("'abc'"),
        "{err}"
    );
    assert!(err.contains("bad_time.csv"), "{err}");
}

#[test]
fn bad_event_codes_are_listed() {
    let p = tmp_csv(
        "bad_event.csv",
        "arm,os_months,os_event\nlenvatinib,3,1\nsorafenib,2,2\nsorafenib,4,1\nlenvatinib,5,0\n",
    );
    let (code, _, err) = run(&["analyze", p.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("os_event") && err.contains("0, 1, 2"), "{err}");
}

#[test]
fn missing_values_are_left_out_and_counted() {
    let p = tmp_csv(
        "missing.csv",
        "arm,os_months,os_event\nlenvatinib,3,1\nsorafenib,NA,0\nsorafenib,4,1\nlenvatinib,5,0\nsorafenib,-1,1\nsorafenib,6,1\n",
    );
    let (code, j, err) = run(&["analyze", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(j["endpoints"]["os"]["n_excluded"], 2);
    assert!(
        err.contains("missing os_months") && err.contains("negative os_months"),
        "{err}"
    );
    assert_eq!(j["endpoints"]["os"]["arms"]["sorafenib"]["n"], 2.0);
}

#[test]
fn no_events_in_an_arm_is_not_estimable() {
    let p = tmp_csv(
        "no_events.csv",
        "arm,os_months,os_event\nlenvatinib,3,0\nlenvatinib,4,0\nsorafenib,4,1\nsorafenib,5,1\n",
    );
    let (code, j, _) = run(&["analyze", p.to_str().unwrap()]);
    assert_eq!(code, 0);
    let cox = &j["endpoints"]["os"]["cox"];
    assert!(cox["hr"].is_null());
    assert!(cox["not_estimable"]
        .as_str()
        .unwrap()
        .contains("no events in the lenvatinib arm"));
}

#[test]
fn unreadable_and_empty_files_are_one_line_errors() {
    let (code, _, err) = run(&["analyze", "/nonexistent/cohort.csv"]);
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/cohort.csv"), "{err}");
    let p = tmp_csv("empty.csv", "");
    let (code, _, err) = run(&["analyze", p.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        err.contains("empty.csv") && err.contains("no data"),
        "{err}"
    );
}

#[test]
fn subgroup_filter_comes_first() {
    let f = fixture("colon.csv");
    let (code, j, _) = run(&[
        "analyze",
        f.to_str().unwrap(),
        "--treated",
        "Lev+5FU",
        "--control",
        "Obs",
        "--endpoint",
        "os:time:event",
        "--subgroup",
        "sex=1",
        "--summary",
    ]);
    assert_eq!(code, 0);
    // R (colon_extras.json, subgroups$sex level 1): n_treated 141, n_control 166.
    assert_eq!(j["sample"]["n_subgroup"]["Lev+5FU"], 141);
    assert_eq!(j["sample"]["n_subgroup"]["Obs"], 166);
    let hr = j["endpoints"]["os"]["cox"]["hr"].as_f64().unwrap();
    assert!((hr / 0.5188852530129215 - 1.0).abs() < 1e-9, "{hr}");
}

#[test]
fn a_saved_spec_reproduces_the_analysis_and_options_override_it() {
    use survival_explorer::analysis::{MatchSpec, Spec, Subgroup};
    use survival_explorer::spec_file::SpecFile;
    let demo = common::demo_path();
    let spec = Spec {
        subgroups: vec![Subgroup::Levels {
            column: "prior_io_response".into(),
            values: vec!["PD".into(), "SD".into()],
        }],
        landmarks: Some(vec![3.0, 9.0]),
        matching: Some(MatchSpec {
            caliper: 0.1,
            ..MatchSpec::default()
        }),
        ..Spec::default()
    };
    let dir = std::env::temp_dir().join(format!("se-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("analysis.toml");
    let _ = std::fs::remove_file(&path);
    SpecFile::new(spec.clone(), Some(demo.clone()))
        .save(&path, false)
        .unwrap();
    assert!(
        SpecFile::new(spec.clone(), None)
            .save(&path, false)
            .is_err(),
        "no silent overwrite"
    );
    let loaded = SpecFile::load(&path).unwrap();
    assert_eq!(loaded.spec, spec);
    assert_eq!(loaded.app_version, env!("CARGO_PKG_VERSION"));

    let (code, from_spec, err) = run(&["analyze", "--spec", path.to_str().unwrap(), "--summary"]);
    assert_eq!(code, 0, "{err}");
    let (_, direct, _) = run(&[
        "analyze",
        demo.to_str().unwrap(),
        "--summary",
        "--subgroup",
        "prior_io_response=PD,SD",
        "--landmarks",
        "3,9",
        "--match",
        "ecog,albi_grade,prior_io_response",
        "--caliper",
        "0.1",
    ]);
    let strip = |mut v: serde_json::Value| {
        v["timing"] = serde_json::Value::Null;
        v["cohort"]["file"] = serde_json::Value::Null;
        v
    };
    assert_eq!(strip(from_spec.clone()), strip(direct));
    // A command-line option overrides the file.
    let (_, overridden, _) = run(&[
        "analyze",
        "--spec",
        path.to_str().unwrap(),
        "--summary",
        "--caliper",
        "0.3",
    ]);
    assert_eq!(overridden["matching"]["caliper"], 0.3);
    assert_eq!(from_spec["matching"]["caliper"], 0.1);
}
