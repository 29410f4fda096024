//! Properties of the adjusted analyses that hold on any data: no covariate left is the
//! arm-only model; the order of the rows changes nothing; a constant covariate is dropped with
//! a warning; separation and collinearity are "not estimable" with the reason, never a panic;
//! rows with a missing covariate are excluded from the adjusted model only, and counted.

use survival_explorer::analysis::{analyze, EndpointReport, EndpointSpec, Spec};
use survival_explorer::cohort::read_csv_bytes;
use survival_explorer::rng::SplitMix64;

/// A random cohort: arm, time, event, age, ecog (0–2), grade (text A/B/C), a constant
/// column, with some missing ages.
fn cohort_csv(seed: u64, n: usize) -> Vec<String> {
    let mut rng = SplitMix64::new(seed);
    let mut rows = Vec::new();
    for i in 0..n {
        let treated = rng.next_f64() < 0.5;
        let age = 40.0 + (rng.next_f64() * 40.0).floor();
        let ecog = (rng.next_f64() * 3.0).floor();
        let grade = ["A", "B", "C"][(rng.next_f64() * 3.0) as usize];
        let hazard = 0.05 * (1.0 + ecog) * if treated { 0.6 } else { 1.0 };
        let t = (-(1.0 - rng.next_f64()).ln() / hazard).ceil().min(60.0);
        let event = u8::from(t < 60.0 && rng.next_f64() < 0.8);
        let age = if i % 17 == 3 {
            String::new()
        } else {
            format!("{age}")
        };
        rows.push(format!(
            "{},{},{t},{event},{age},{ecog},{grade},1",
            i + 1,
            if treated { "lenvatinib" } else { "sorafenib" }
        ));
    }
    rows
}

fn run(rows: &[String], adjust: &[&str]) -> EndpointReport {
    let text = format!(
        "id,arm,os_months,os_event,age,ecog,grade,site\n{}\n",
        rows.join("\n")
    );
    let cohort = read_csv_bytes("random.csv", text.into_bytes()).unwrap();
    let spec = Spec {
        endpoints: vec![EndpointSpec::new("os", &["os_months"], "os_event")],
        adjust: adjust.iter().map(|s| s.to_string()).collect(),
        univariable: true,
        ..Spec::default()
    };
    let mut report = analyze(&cohort, &spec).unwrap();
    report.endpoints.0.remove(0).1
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
}

#[test]
fn a_constant_covariate_leaves_the_arm_only_model() {
    for seed in 0..10 {
        let ep = run(&cohort_csv(seed, 150), &["site"]);
        let a = ep.cox_adjusted.as_ref().unwrap();
        assert_eq!(a.not_estimable, None);
        assert!(
            a.warnings.iter().any(|w| w.contains("'site' is constant")),
            "{:?}",
            a.warnings
        );
        assert_eq!(a.terms.len(), 1);
        assert_eq!(a.n_excluded, 0);
        let t = &a.terms[0];
        assert_eq!(t.term, "armlenvatinib");
        assert!(
            close(t.coef, ep.cox.coef) && close(t.se, ep.cox.se),
            "seed {seed}"
        );
        let (ph_a, ph) = (
            a.ph_test.as_ref().unwrap(),
            ep.cox.ph_test.as_ref().unwrap(),
        );
        assert!(close(ph_a.global.chi_square, ph.global.chi_square));
        assert_eq!(a.e_value, ep.cox.e_value);
        // The univariable row of the constant covariate says why it has no model.
        let uni = ep.cox_univariable.as_ref().unwrap();
        assert_eq!(uni[0].covariate, "arm");
        assert!(uni[1].not_estimable.is_some());
    }
}

#[test]
fn the_order_of_rows_changes_nothing() {
    for seed in 0..8 {
        let rows = cohort_csv(seed, 120);
        let mut shuffled = rows.clone();
        let mut rng = SplitMix64::new(seed + 100);
        for i in (1..shuffled.len()).rev() {
            let j = (rng.next_f64() * (i + 1) as f64) as usize;
            shuffled.swap(i, j);
        }
        let adjust = ["age", "ecog:factor", "grade"];
        let (a, b) = (run(&rows, &adjust), run(&shuffled, &adjust));
        let (a, b) = (a.cox_adjusted.unwrap(), b.cox_adjusted.unwrap());
        assert_eq!(a.n, b.n);
        assert_eq!(a.n_excluded, b.n_excluded);
        for (x, y) in a.terms.iter().zip(&b.terms) {
            assert_eq!(x.term, y.term);
            assert!(
                close(x.coef, y.coef) && close(x.se, y.se),
                "seed {seed} {}",
                x.term
            );
        }
        let (ca, cb) = (a.concordance.unwrap(), b.concordance.unwrap());
        assert!(close(ca.value, cb.value) && close(ca.se, cb.se));
        let (pa, pb) = (a.ph_test.unwrap(), b.ph_test.unwrap());
        for (x, y) in pa.terms.iter().zip(&pb.terms) {
            assert!(close(x.chi_square, y.chi_square), "seed {seed} {}", x.term);
        }
    }
}

#[test]
fn missing_covariates_are_excluded_from_the_adjusted_model_only() {
    let rows = cohort_csv(4, 170);
    let ep = run(&rows, &["age", "ecog"]);
    let a = ep.cox_adjusted.as_ref().unwrap();
    let missing_age = (0..170).filter(|i| i % 17 == 3).count();
    assert_eq!(a.n_excluded, missing_age);
    assert_eq!(a.n, 170 - missing_age);
    assert_eq!(a.excluded[0].reason, "missing model covariate: age (10)");
    // The curves and the arm-only model keep every row.
    let n_arms: f64 = ep.arms.0.iter().map(|(_, a)| a.n).sum();
    assert_eq!(n_arms, 170.0);
    let uni = ep.cox_univariable.as_ref().unwrap();
    assert_eq!(uni[1].covariate, "age");
    assert_eq!(uni[1].n, 170 - missing_age);
    assert_eq!(uni[2].n, 170);
    assert_eq!(a.terms[1].term, "age");
    assert_eq!(a.terms[2].term, "ecog");
}

#[test]
fn separation_and_collinearity_are_not_estimable_with_the_reason() {
    // Every death has ecog 2 before any patient with ecog 0/1 dies: monotone likelihood.
    let mut rows = Vec::new();
    for i in 0..60 {
        let treated = i % 2 == 0;
        let ecog = if i < 20 { 2 } else { i % 2 };
        let (t, e) = if i < 20 { (1 + i, 1) } else { (100 + i, 0) };
        rows.push(format!(
            "{},{},{t},{e},{},{ecog},A,1",
            i + 1,
            if treated { "lenvatinib" } else { "sorafenib" },
            50 + i % 7
        ));
    }
    let ep = run(&rows, &["ecog:factor"]);
    let a = ep.cox_adjusted.as_ref().unwrap();
    let reason = a.not_estimable.as_deref().expect("not estimable");
    assert!(reason.contains("0 or infinite"), "{reason}");
    assert!(reason.contains("ecog"), "{reason}");
    // age2 = age: collinear, dropped with a warning (R gives NA).
    let rows = cohort_csv(7, 100);
    let text = format!(
        "id,arm,os_months,os_event,age,age2,ecog\n{}\n",
        rows.iter()
            .map(|r| {
                let f: Vec<&str> = r.split(',').collect();
                format!(
                    "{},{},{},{},{},{},{}",
                    f[0], f[1], f[2], f[3], f[4], f[4], f[5]
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    );
    let cohort = read_csv_bytes("collinear.csv", text.into_bytes()).unwrap();
    let spec = Spec {
        endpoints: vec![EndpointSpec::new("os", &["os_months"], "os_event")],
        adjust: vec!["age".into(), "age2".into(), "ecog".into()],
        ..Spec::default()
    };
    let report = analyze(&cohort, &spec).unwrap();
    let a = report.endpoints.0[0].1.cox_adjusted.clone().unwrap();
    assert_eq!(a.not_estimable, None);
    assert!(
        a.warnings.iter().any(|w| w.contains("'age2' is collinear")),
        "{:?}",
        a.warnings
    );
    let terms: Vec<&str> = a.terms.iter().map(|t| t.term.as_str()).collect();
    assert_eq!(terms, ["armlenvatinib", "age", "ecog"]);
}

/// A covariate may be named by the file's header or its role's name, in any case: a file
/// whose header says "Response to A+B" (renamed by the aliases), and a file whose headers
/// are all capitals, give the same models and matching whichever name is used.
#[test]
fn covariates_are_named_by_the_file_header_or_the_role_in_any_case() {
    let bin = env!("CARGO_BIN_EXE_survival-explorer");
    let run = |file: &str, args: &[&str]| -> serde_json::Value {
        let out = std::process::Command::new(bin)
            .args(["analyze", file, "--summary"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object_mut().unwrap().remove("timing");
        v.as_object_mut().unwrap().remove("cohort");
        v
    };
    let eu = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats/demo_excel_eu.csv");
    let eu = eu.to_str().unwrap();
    let by_role = run(
        eu,
        &[
            "--match",
            "ecog,albi_grade,prior_io_response",
            "--adjust",
            "ecog,prior_io_response,afp_ge_400",
            "--subgroup",
            "prior_io_response=PD,SD",
        ],
    );
    let by_header = run(
        eu,
        &[
            "--match",
            "ECOG,ALBI_grade,Response to A+B",
            "--adjust",
            "Ecog,response to a+b,AFP_GE_400",
            "--subgroup",
            "Response to A+B=PD,SD",
        ],
    );
    assert!(by_role["endpoints"]["os"]["cox_adjusted"]["terms"].is_array());
    assert_eq!(by_role, by_header);

    // Every header in capitals.
    let text = std::fs::read_to_string(crate::common::demo_path()).unwrap();
    let (header, rest) = text.split_once('\n').unwrap();
    let caps = std::env::temp_dir().join(format!("se-caps-{}.csv", std::process::id()));
    std::fs::write(&caps, format!("{}\n{rest}", header.to_uppercase())).unwrap();
    let args = [
        "--match",
        "ecog,albi_grade,prior_io_response",
        "--adjust",
        "ECOG,nlr,PVT,afp_ge_400",
    ];
    let caps_report = run(caps.to_str().unwrap(), &args);
    let demo_report = run(crate::common::demo_path().to_str().unwrap(), &args);
    // The same model; its terms named by the file's own headers, as R names them.
    let terms = |r: &serde_json::Value| -> Vec<(String, f64)> {
        r["endpoints"]["os"]["cox_adjusted"]["terms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["term"].as_str().unwrap().to_string(),
                    t["coef"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let (ours, plain) = (terms(&caps_report), terms(&demo_report));
    assert_eq!(ours.len(), plain.len());
    for ((a, x), (b, y)) in ours.iter().zip(&plain) {
        assert_eq!(a.to_lowercase(), b.to_lowercase());
        assert_eq!(x, y, "{a}");
    }
    assert_eq!(ours[1].0, "ECOG");
    assert_eq!(
        caps_report["matching"]["n_matched"],
        demo_report["matching"]["n_matched"]
    );
    std::fs::remove_file(&caps).ok();
}

/// R's "coefficient may be infinite" also fires for a coefficient near 0 whose likelihood
/// converged at once; such a model is kept (a simulated cohort from the random cross-check,
/// benches/compare/random_adjusted.py seed 23 case 5). R 4.2.2 / survival 3.5-3 on the same
/// matched sample: coef(coxph(Surv(time, status) ~ ecog, ties = "breslow", cluster = set)) =
/// -0.00016406643609370123, likelihood-ratio p 0.9994869392339414.
#[test]
fn a_coefficient_near_zero_is_not_called_infinite() {
    let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/small_coefficient.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_survival-explorer"))
        .args(["analyze", file.to_str().unwrap(), "--summary"])
        .args([
            "--adjust",
            "age,bclc,ecog,etiology",
            "--univariable",
            "--ties",
            "breslow",
        ])
        .args(["--subgroup", "prior_io_response=PD"])
        .args(["--match", "ecog,albi_grade,prior_io_response", "--robust"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ecog = v["endpoints"]["seq_os"]["cox_univariable"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["covariate"] == "ecog")
        .unwrap()
        .clone();
    assert!(ecog.get("not_estimable").is_none(), "{ecog}");
    let coef = ecog["terms"][0]["coef"].as_f64().unwrap();
    let r = -0.000_164_066_436_093_701_23_f64;
    assert!((coef - r).abs() <= 1e-9 * r.abs(), "{coef} vs R {r}");
    let p = ecog["likelihood_ratio_p"].as_f64().unwrap();
    assert!((p - 0.999_486_939_233_941_4).abs() <= 1e-9, "{p}");
}
