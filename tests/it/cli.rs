//! The `analyze` command as a user runs it: JSON contract on stdout, warnings on stderr,
//! one-line errors naming file, column and row, never a panic.

use crate::common;

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

/// The random order's seed is R's: outside `set.seed`'s range it is refused on the command
/// line and in a spec file with a message saying so; a random-order spec saved by a version
/// whose order was its own is loaded with a warning that the pairs now differ; and the R
/// script seeds R right before MatchIt draws its order.
#[test]
fn random_order_seeds_are_rs() {
    use survival_explorer::analysis::{MatchOrder, MatchSpec, Spec};
    use survival_explorer::spec_file::SpecFile;
    let demo = common::demo_path();
    let demo = demo.to_str().unwrap();
    let matched = ["--match", "ecog,albi_grade", "--order", "random"];
    for bad in ["-2147483648", "2147483648"] {
        let (code, _, err) = run(&[&["analyze", demo][..], &matched, &["--seed", bad]].concat());
        assert_ne!(code, 0, "seed {bad} accepted");
        assert!(err.contains("--seed"), "{err}");
    }
    let (code, j, err) = run(&[
        &["analyze", demo, "--summary"][..],
        &matched,
        &["--seed", "-2147483647"],
    ]
    .concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(j["matching"]["seed"], -2147483647);

    let dir = std::env::temp_dir().join(format!("se-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = Spec {
        matching: Some(MatchSpec {
            covariates: vec!["ecog".into(), "albi_grade".into()],
            order: MatchOrder::Random,
            seed: 7,
            ..MatchSpec::default()
        }),
        ..Spec::default()
    };
    let toml = SpecFile::new(spec, Some(common::demo_path()))
        .to_toml()
        .unwrap();
    assert!(toml.contains("seed = 7"), "{toml}");
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // Larger than R takes (a file from before the seed was R's could hold one).
    let big = write("big.toml", toml.replace("seed = 7", "seed = 3000000000"));
    let (code, _, err) = run(&["analyze", "--spec", big.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        err.contains("big.toml") && err.contains("outside R's set.seed range"),
        "{err}"
    );
    // Saved by 0.1.0: loaded, with the warning; by this version: no warning.
    let saved_by_0_1 = |t: &str| {
        t.replace(
            &format!("app_version = \"{}\"", env!("CARGO_PKG_VERSION")),
            "app_version = \"0.1.0\"",
        )
    };
    let old = write("old.toml", saved_by_0_1(&toml));
    assert!(std::fs::read_to_string(&old).unwrap().contains("\"0.1.0\""));
    let (code, _, err) = run(&["analyze", "--spec", old.to_str().unwrap(), "--summary"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("old.toml") && err.contains("other matched pairs"),
        "{err}"
    );
    let current = write("current.toml", toml.clone());
    let (code, _, err) = run(&["analyze", "--spec", current.to_str().unwrap(), "--summary"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("other matched pairs"), "{err}");
    let not_random_old = write(
        "largest_old.toml",
        saved_by_0_1(&toml.replace("order = \"random\"", "order = \"largest\"")),
    );
    let (code, _, err) = run(&[
        "analyze",
        "--spec",
        not_random_old.to_str().unwrap(),
        "--summary",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("other matched pairs"), "{err}");

    // The R script: set.seed(seed) just before MatchIt's call (which draws the order), as
    // well as in the plain-R matcher.
    let out = bin()
        .args(
            [
                &["analyze", demo][..],
                &matched,
                &["--seed", "-5", "--emit-r"],
            ]
            .concat(),
        )
        .output()
        .unwrap();
    let script = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = script.lines().map(str::trim).collect();
    let call = lines
        .iter()
        .position(|l| l.starts_with("mm <- MatchIt::matchit("))
        .expect("a MatchIt call");
    assert_eq!(lines[call - 1], "set.seed(-5)");
    assert!(
        lines[call + 1].contains("m.order = \"random\""),
        "{}",
        lines[call + 1]
    );
}

/// Output that cannot be written (a full disk: Linux's /dev/full) is a one-line error and a
/// failing exit code, for the report and for the R script — not a panic.
#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_is_an_error() {
    let demo = common::demo_path();
    let demo = demo.to_str().unwrap();
    for (args, what) in [
        (
            vec!["analyze", demo, "--summary"],
            "cannot write the report as JSON",
        ),
        (
            vec!["analyze", demo, "--emit-r"],
            "cannot write the R script",
        ),
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = bin().args(&args).stdout(full).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(what), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// A file of many columns names the first 40 of them when a column is missing, and how many
/// more there are: one readable line, not thousands of names.
#[test]
fn a_missing_column_in_a_wide_file_lists_forty_names() {
    let header: Vec<String> = (0..100).map(|i| format!("c{i}")).collect();
    let row = vec!["1"; 100].join(",");
    let path = tmp_csv("wide.csv", &format!("{}\n{row}\n{row}\n", header.join(",")));
    let (code, _, stderr) = run(&["analyze", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no column 'arm'"), "{stderr}");
    assert!(stderr.contains("c38, c39 … and 60 more"), "{stderr}");
    assert!(!stderr.contains("c40"), "{stderr}");
}
