//! A clinician's own file, first try (issue #19): exports of the demo cohort written as
//! clinicians write them — their own headers, "Lenvatinib" capitalised, arms coded 1/2,
//! "Deceased"/"Alive", times in days — run through the command line as a user runs it.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_survival-explorer"))
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("se-own-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_in(cwd: Option<&Path>, args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut cmd = bin();
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let out = cmd.args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr)
}

fn run(args: &[&str]) -> (i32, serde_json::Value, String) {
    run_in(None, args)
}

/// The demo cohort's rows as (header → cell) maps, in file order.
fn demo_rows() -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(common::demo_path()).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect()
}

/// Writes a CSV of the demo cohort with the given columns: (header, cell from the demo row).
#[allow(clippy::type_complexity)]
fn write_demo_as(
    path: &Path,
    columns: &[(
        &str,
        &dyn Fn(&std::collections::BTreeMap<String, String>) -> String,
    )],
) {
    let mut out = columns
        .iter()
        .map(|(h, _)| {
            if h.contains(',') {
                format!("\"{h}\"")
            } else {
                h.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in demo_rows() {
        let cells: Vec<String> = columns.iter().map(|(_, f)| f(&row)).collect();
        out += &cells.join(",");
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

fn col(name: &'static str) -> impl Fn(&std::collections::BTreeMap<String, String>) -> String {
    move |r| r[name].clone()
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// "Workbook"-style headers: Patient ID, Treatment (capitalised), ECOG PS, ALBI grade,
/// "Response to A+B", PFS_mo with its event column "PD flag" (no common name), "OS months",
/// "Dead (Y/N)";
/// no best-response column.
fn clinic_a(d: &Path) -> PathBuf {
    let p = d.join("clinic_a.csv");
    write_demo_as(
        &p,
        &[
            ("Patient ID", &col("patient_id")),
            ("Treatment", &|r| capitalised(&r["arm"])),
            ("ECOG PS", &col("ecog")),
            ("ALBI grade", &col("albi_grade")),
            ("Response to A+B", &col("prior_io_response")),
            ("Age", &col("age")),
            ("PFS_mo", &col("pfs_months")),
            ("PD flag", &col("pfs_event")),
            ("OS months", &col("os_months")),
            ("Dead (Y/N)", &|r| {
                if r["os_event"] == "1" { "Y" } else { "N" }.to_string()
            }),
        ],
    );
    p
}

/// Arms coded 1 (lenvatinib) / 2 (sorafenib), "vital_status" Deceased/Alive, OS in days.
fn clinic_b(d: &Path) -> PathBuf {
    let p = d.join("clinic_b.csv");
    write_demo_as(
        &p,
        &[
            ("id", &col("patient_id")),
            ("group", &|r| {
                if r["arm"] == "lenvatinib" { "1" } else { "2" }.to_string()
            }),
            ("ecog", &col("ecog")),
            ("albi_grade", &col("albi_grade")),
            ("prior_io_response", &col("prior_io_response")),
            ("os_days", &|r| {
                let m: f64 = r["os_months"].parse().unwrap();
                format!("{}", (m * 30.4375).round())
            }),
            ("vital_status", &|r| {
                if r["os_event"] == "1" {
                    "Deceased"
                } else {
                    "Alive"
                }
                .to_string()
            }),
            ("best_response", &col("best_response")),
        ],
    );
    p
}

/// The demo with every header in capitals (ARM, ECOG, OS_MONTHS, …).
fn clinic_caps(d: &Path) -> PathBuf {
    let text = std::fs::read_to_string(common::demo_path()).unwrap();
    let (header, rest) = text.split_once('\n').unwrap();
    let p = d.join("clinic_caps.csv");
    std::fs::write(&p, format!("{}\n{rest}", header.to_uppercase())).unwrap();
    p
}

/// Item 3: an endpoint whose event column was not found, and a file without a response
/// column, say so — in the JSON warnings and on stderr — with what to do.
#[test]
fn skipped_analyses_say_why_and_how_to_fix() {
    let d = dir("skips");
    let a = clinic_a(&d);
    let (code, j, err) = run(&["analyze", a.to_str().unwrap(), "--summary"]);
    assert_eq!(code, 0, "{err}");
    let warnings: Vec<&str> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let pfs = warnings
        .iter()
        .find(|w| w.starts_with("PFS not analysed"))
        .unwrap_or_else(|| panic!("{warnings:?}"));
    assert!(pfs.contains("'PFS_mo'") && pfs.contains("--map pfs_event=COLUMN"));
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("response not analysed") && w.contains("best_response")),
        "{warnings:?}"
    );
    for w in &warnings {
        assert!(err.contains(w), "stderr lacks {w}");
    }
    assert!(j["endpoints"]["os"].is_object());
}

/// Item 4: every column reference takes the file's own header or the role's name, in any
/// case: the arm column, endpoints, matching covariates and subgroups.
#[test]
fn column_references_take_the_files_names() {
    let d = dir("names");
    let a = clinic_a(&d);
    let a = a.to_str().unwrap();
    let (code, j, err) = run(&[
        "analyze",
        a,
        "--summary",
        "--arm-column",
        "Treatment",
        "--endpoint",
        "os:OS months:Dead (Y/N)",
        "--match",
        "ECOG PS,albi GRADE,Response to A+B",
        "--subgroup",
        "ecog ps=0,1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(j["sample"]["arm_column"], "arm");
    // Reported by the names the cohort has for them (a role's name once renamed to it).
    assert_eq!(
        j["matching"]["covariates"],
        serde_json::json!(["ECOG PS", "ALBI grade", "prior_io_response"])
    );
    assert!(j["endpoints"]["os"]["cox"]["hr"].as_f64().unwrap() > 0.0);
    // The same analysis named by the roles' names, or the headers spelled otherwise, gives
    // the same numbers.
    let (code, k, err) = run(&[
        "analyze",
        a,
        "--summary",
        "--endpoint",
        "os:os_months:dead (y/n)",
        "--match",
        "ecog ps,ALBI_GRADE,prior_io_response",
        "--subgroup",
        "ECOG_PS=0,1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(j["endpoints"], k["endpoints"]);
    // "group" was read as the arm column: its own name still works.
    let b = clinic_b(&d);
    let (code, _, err) = run(&[
        "analyze",
        b.to_str().unwrap(),
        "--summary",
        "--arm-column",
        "group",
        "--treated",
        "1",
        "--control",
        "2",
        "--endpoint",
        "os:os_days:vital_status",
        "--time-unit",
        "days",
    ]);
    assert_eq!(code, 0, "{err}");
    // Headers in capitals: the defaults find ARM, OS_MONTHS, …
    let caps = clinic_caps(&d);
    let (code, j, err) = run(&["analyze", caps.to_str().unwrap(), "--summary"]);
    assert_eq!(code, 0, "{err}");
    let (_, demo, _) = run(&[
        "analyze",
        common::demo_path().to_str().unwrap(),
        "--summary",
    ]);
    assert_eq!(j["endpoints"], demo["endpoints"]);
}

/// Item 5: "Deceased"/"Alive" are read; a word that is not is refused naming the file's own
/// column; declared event values and arm labels show in the JSON and in the figure; a level
/// shows as the file spells it.
#[test]
fn event_words_labels_and_spellings() {
    let d = dir("events");
    let b = clinic_b(&d);
    let b = b.to_str().unwrap();
    let base = [
        "analyze",
        b,
        "--summary",
        "--treated",
        "1",
        "--control",
        "2",
        "--endpoint",
        "os:os_days:vital_status",
        "--time-unit",
        "days",
    ];
    let (code, j, err) = run(&[
        &base[..],
        &["--label", "1=Lenvatinib", "--label", "2=Sorafenib"],
    ]
    .concat());
    assert_eq!(code, 0, "{err}");
    let arms: Vec<&String> = j["endpoints"]["os"]["arms"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(arms, ["Lenvatinib", "Sorafenib"]);
    assert_eq!(j["sample"]["treated"], "1");
    assert_eq!(j["sample"]["treated_label"], "Lenvatinib");
    assert!(j["response"]["arms"]["Sorafenib"].is_object());
    // The events equal the demo's OS events.
    let (_, demo, _) = run(&[
        "analyze",
        common::demo_path().to_str().unwrap(),
        "--summary",
    ]);
    assert_eq!(
        j["endpoints"]["os"]["arms"]["Lenvatinib"]["events"],
        demo["endpoints"]["os"]["arms"]["lenvatinib"]["events"]
    );
    // A word the reader does not know: the message names vital_status, not os_event.
    let text = std::fs::read_to_string(b)
        .unwrap()
        .replace("Deceased", "Expired");
    let c = d.join("clinic_c.csv");
    std::fs::write(&c, text).unwrap();
    let c = c.to_str().unwrap();
    let (code, _, err) = run(&[&["analyze", c], &base[2..]].concat());
    assert_ne!(code, 0);
    assert!(
        err.contains("'vital_status'") && err.contains("Expired") && err.contains("--event-values"),
        "{err}"
    );
    let (code, k, err) = run(&[
        &["analyze", c],
        &base[2..],
        &["--event-values", "vital_status=expired"],
    ]
    .concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        k["endpoints"]["os"]["arms"]["1"]["events"],
        j["endpoints"]["os"]["arms"]["Lenvatinib"]["events"]
    );
    // The file writes "Lenvatinib": shown so, though the default level is "lenvatinib".
    let a = clinic_a(&d);
    let (code, j, err) = run(&[
        "analyze",
        a.to_str().unwrap(),
        "--summary",
        "--map",
        "os_event=Dead (Y/N)",
    ]);
    assert_eq!(code, 0, "{err}");
    let arms: Vec<&String> = j["endpoints"]["os"]["arms"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(arms, ["Lenvatinib", "Sorafenib"]);
    // The labels reach the figure's legend.
    let out = d.join("rep");
    let (code, _, err) = run(&[
        "report",
        b,
        "--out",
        out.to_str().unwrap(),
        "--format",
        "svg",
        "--treated",
        "1",
        "--control",
        "2",
        "--endpoint",
        "os:os_days:vital_status",
        "--time-unit",
        "days",
        "--show-in",
        "months",
        "--label",
        "1=Lenvatinib",
        "--label",
        "2=Sorafenib",
    ]);
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(out.join("km_os.svg")).unwrap();
    assert!(
        svg.contains("Lenvatinib") && svg.contains("Sorafenib"),
        "legend"
    );
    assert!(
        !svg.contains(">1 ") && !svg.contains(">2 "),
        "levels, not labels"
    );
}

/// Item 6: subgroup values match as arm levels do (case, spaces), and a value no row has
/// says so, with the values there are.
#[test]
fn subgroup_values_ignore_case_and_say_when_nothing_matches() {
    let demo = common::demo_path();
    let demo = demo.to_str().unwrap();
    let (code, lower, err) = run(&[
        "analyze",
        demo,
        "--summary",
        "--subgroup",
        "prior_io_response= pd ",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, upper, _) = run(&[
        "analyze",
        demo,
        "--summary",
        "--subgroup",
        "prior_io_response=PD",
    ]);
    assert_eq!(lower["endpoints"], upper["endpoints"]);
    let (code, _, err) = run(&[
        "analyze",
        demo,
        "--summary",
        "--subgroup",
        "prior_io_response=pdd",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("no row has prior_io_response = 'pdd'; the values are CR, PD, PR, SD"),
        "{err}"
    );
    assert!(!err.contains("treated"), "{err}");
}

/// Item 7: a days file analysed in days, or shown in months; a days column read as months
/// is warned about.
#[test]
fn times_in_days_convert_and_a_mislabelled_unit_warns() {
    let d = dir("days");
    let b = clinic_b(&d);
    let b = b.to_str().unwrap();
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "analyze",
            b,
            "--summary",
            "--treated",
            "1",
            "--control",
            "2",
            "--endpoint",
            "os:os_days:vital_status",
        ]
        .map(String::from)
        .to_vec();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let call = |extra: &[&'static str]| {
        let a = args(extra);
        run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (code, _, err) = call(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("'os_days' looks like days but its times are read as months")
            && err.contains("--time-unit days"),
        "{err}"
    );
    let (_, days, err) = call(&["--time-unit", "days"]);
    assert!(!err.contains("looks like"), "{err}");
    assert_eq!(days["sample"]["time_unit"], "days");
    let (_, months, _) = call(&["--time-unit", "days", "--show-in", "months"]);
    assert_eq!(months["sample"]["time_unit"], "months");
    let md = days["endpoints"]["os"]["arms"]["1"]["median"]
        .as_f64()
        .unwrap();
    let mm = months["endpoints"]["os"]["arms"]["1"]["median"]
        .as_f64()
        .unwrap();
    assert!(
        (md / 30.4375 - mm).abs() < 1e-9 * mm,
        "{md} days vs {mm} months"
    );
    // A header without a unit ("OS", read as os_months) in days: no warning that it looks
    // like months (the role's name says nothing of the file's unit).
    let plain = d.join("plain.csv");
    std::fs::write(
        &plain,
        "arm,OS,os_event\nlenvatinib,300,1\nsorafenib,200,1\nlenvatinib,400,0\nsorafenib,90,1\n",
    )
    .unwrap();
    let (code, _, err) = run(&[
        "analyze",
        plain.to_str().unwrap(),
        "--summary",
        "--time-unit",
        "days",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("looks like"), "{err}");
    // The default landmarks are 6, 12, 24 months, now in months.
    let lm = &months["endpoints"]["os"]["arms"]["1"]["landmarks"];
    assert_eq!(lm.as_array().unwrap().len(), 3);
    assert!(lm[0]["surv"].as_f64().unwrap() < 1.0);
}

/// Item 8: the spec `report` writes finds its cohort from its own folder, wherever it is
/// run from; a spec moved away from its cohort falls back on the absolute path.
#[test]
fn a_spec_runs_from_its_own_folder() {
    let d = dir("spec");
    clinic_b(&d);
    let (code, _, err) = run_in(
        Some(&d),
        &[
            "report",
            "clinic_b.csv",
            "--out",
            "rep",
            "--format",
            "svg",
            "--treated",
            "1",
            "--control",
            "2",
            "--endpoint",
            "os:os_days:vital_status",
            "--time-unit",
            "days",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let toml = std::fs::read_to_string(d.join("rep/analysis.toml")).unwrap();
    assert!(toml.contains("file = \"../clinic_b.csv\""), "{toml}");
    let (code, j, err) = run_in(
        Some(&d.join("rep")),
        &["analyze", "--spec", "analysis.toml", "--summary"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(j["sample"]["n_analysed"]["1"], 125);
    // Moved elsewhere without its cohort: the absolute path still finds it.
    let moved = dir("spec-moved");
    std::fs::copy(d.join("rep/analysis.toml"), moved.join("a.toml")).unwrap();
    let (code, _, err) = run_in(Some(&moved), &["analyze", "--spec", "a.toml", "--summary"]);
    assert_eq!(code, 0, "{err}");
}
