//! Properties of inverse probability of treatment weighting that hold on any data: weights
//! positive and finite, the treated's ATT weights 1; equal propensity scores leave the
//! analysis as it was; row order changes nothing; separation is a clear error, never an
//! enormous weight; trimming is counted; weighting and matching together are refused.

use survival_explorer::analysis::{analyze, EndpointSpec, MatchSpec, Report, Spec};
use survival_explorer::cohort::{read_csv_bytes, Cohort};
use survival_explorer::rng::SplitMix64;
use survival_explorer::simulate::simulate_csv;
use survival_explorer::weighting::{Estimand, WeightSpec};

fn iptw(covs: &[&str], estimand: Estimand, stabilized: bool, trim: Option<f64>) -> Spec {
    Spec {
        weighting: Some(WeightSpec {
            covariates: covs.iter().map(|s| s.to_string()).collect(),
            estimand,
            stabilized,
            trim,
        }),
        ..Spec::default()
    }
}

fn cohort(n: usize, seed: u64) -> Cohort {
    read_csv_bytes("sim.csv", simulate_csv(n, seed).into_bytes()).unwrap()
}

#[test]
fn weights_are_positive_and_finite_and_att_treated_weigh_one() {
    for seed in 1..6 {
        let c = cohort(300, seed);
        for (estimand, stabilized) in [
            (Estimand::Ate, false),
            (Estimand::Ate, true),
            (Estimand::Att, false),
        ] {
            let r = analyze(
                &c,
                &iptw(
                    &["ecog", "albi_grade", "prior_io_response", "age"],
                    estimand,
                    stabilized,
                    None,
                ),
            )
            .unwrap();
            let w = r.weighting.as_ref().unwrap();
            assert_eq!(w.n, 300);
            assert!(w
                .units
                .iter()
                .all(|u| u.weight.is_finite() && u.weight > 0.0));
            if estimand == Estimand::Att {
                assert!(w
                    .units
                    .iter()
                    .filter(|u| u.treated)
                    .all(|u| u.weight == 1.0));
            }
            assert!(r.sample.weighted);
            for (_, ep) in r.endpoints.iter() {
                assert!(ep.cox.robust);
                assert!(ep.logrank.not_available.is_some());
            }
        }
    }
}

/// A covariate with the same distribution in both arms: the propensity model has a slope of
/// 0, every score is the share treated, the stabilized weights are 1 (to rounding), and the
/// weighted curves and hazard ratio are the unweighted ones.
#[test]
fn equal_scores_leave_the_analysis_as_it_was() {
    let mut rng = SplitMix64::new(9);
    let mut csv = String::from("id,arm,os_months,os_event,x\n");
    for i in 0..200 {
        let treated = i % 2 == 0;
        let x = (i / 2) % 2;
        let t = 1.0 + (rng.next_f64() * 30.0 * if treated { 1.5 } else { 1.0 }).round();
        let e = u8::from(rng.next_f64() < 0.8);
        csv += &format!(
            "{},{},{t},{e},{x}\n",
            i + 1,
            if treated { "lenvatinib" } else { "sorafenib" }
        );
    }
    let c = read_csv_bytes("flat.csv", csv.into_bytes()).unwrap();
    let endpoints = vec![EndpointSpec::new("os", &["os_months"], "os_event")];
    let plain = analyze(
        &c,
        &Spec {
            endpoints: endpoints.clone(),
            ..Spec::default()
        },
    )
    .unwrap();
    let weighted = analyze(
        &c,
        &Spec {
            endpoints,
            ..iptw(&["x"], Estimand::Ate, true, None)
        },
    )
    .unwrap();
    let w = weighted.weighting.as_ref().unwrap();
    assert!(
        w.units.iter().all(|u| (u.weight - 1.0).abs() < 1e-12),
        "{:?}",
        w.weights
    );
    let (a, b) = (
        plain.endpoints.get("os").unwrap(),
        weighted.endpoints.get("os").unwrap(),
    );
    for ((_, x), (_, y)) in a.arms.iter().zip(b.arms.iter()) {
        assert_eq!(x.median, y.median);
        let (cx, cy) = (x.curve.as_ref().unwrap(), y.curve.as_ref().unwrap());
        for (s, t) in cx.surv.iter().zip(&cy.surv) {
            assert!((s - t).abs() < 1e-12);
        }
    }
    assert!((a.cox.coef - b.cox.coef).abs() < 1e-9 * a.cox.coef.abs());
}

fn key_numbers(r: &Report) -> Vec<f64> {
    let mut v = vec![r.weighting.as_ref().unwrap().weights.max];
    for (_, ep) in r.endpoints.iter() {
        v.push(ep.cox.hr);
        v.push(ep.cox.se);
        for (_, a) in ep.arms.iter() {
            v.extend([a.median, a.median_ci[0], a.median_ci[1], a.rmst.value]);
        }
    }
    v
}

#[test]
fn the_order_of_rows_changes_nothing() {
    let text = simulate_csv(250, 4);
    let (header, rest) = text.split_once('\n').unwrap();
    let mut lines: Vec<&str> = rest.lines().collect();
    let mut rng = SplitMix64::new(77);
    for i in (1..lines.len()).rev() {
        let j = (rng.next_f64() * (i + 1) as f64) as usize;
        lines.swap(i, j);
    }
    let shuffled = format!("{header}\n{}\n", lines.join("\n"));
    let spec = iptw(
        &["ecog", "albi_grade:factor", "age"],
        Estimand::Ate,
        false,
        Some(0.02),
    );
    let a = analyze(&read_csv_bytes("a.csv", text.into_bytes()).unwrap(), &spec).unwrap();
    let b = analyze(
        &read_csv_bytes("b.csv", shuffled.into_bytes()).unwrap(),
        &spec,
    )
    .unwrap();
    for (x, y) in key_numbers(&a).iter().zip(key_numbers(&b)) {
        assert!(
            (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * x.abs().max(1e-12),
            "{x} vs {y}"
        );
    }
}

#[test]
fn separation_is_an_error_that_names_the_covariates() {
    // Every treated patient has marker 1, every control 0.
    let mut csv = String::from("id,arm,os_months,os_event,marker,age\n");
    for i in 0..80 {
        let treated = i % 2 == 0;
        csv += &format!(
            "{},{},{},1,{},{}\n",
            i + 1,
            if treated { "lenvatinib" } else { "sorafenib" },
            5 + i % 13,
            u8::from(treated),
            50 + i % 9
        );
    }
    let c = read_csv_bytes("sep.csv", csv.into_bytes()).unwrap();
    let spec = Spec {
        endpoints: vec![EndpointSpec::new("os", &["os_months"], "os_event")],
        ..iptw(&["marker", "age"], Estimand::Ate, false, None)
    };
    let e = analyze(&c, &spec).unwrap_err().to_string();
    assert!(e.contains("sep.csv") && e.contains("marker, age"), "{e}");
    assert!(e.contains("separates"), "{e}");
}

#[test]
fn trimming_is_counted_and_weighting_excludes_matching() {
    let c = cohort(400, 2);
    let all = analyze(
        &c,
        &iptw(
            &["ecog", "albi_grade", "prior_io_response"],
            Estimand::Ate,
            false,
            None,
        ),
    )
    .unwrap();
    let ps: Vec<f64> = all
        .weighting
        .as_ref()
        .unwrap()
        .units
        .iter()
        .map(|u| u.ps)
        .collect();
    let q = 0.3;
    let out = ps.iter().filter(|&&p| !(q..=1.0 - q).contains(&p)).count();
    assert!(out > 0, "the trim leaves someone out");
    let trimmed = analyze(
        &c,
        &iptw(
            &["ecog", "albi_grade", "prior_io_response"],
            Estimand::Ate,
            false,
            Some(q),
        ),
    )
    .unwrap();
    let w = trimmed.weighting.as_ref().unwrap();
    assert_eq!(w.n, 400 - out);
    assert_eq!(w.n_excluded, out);
    assert!(w
        .excluded
        .iter()
        .any(|e| e.reason.contains("trimmed") && e.n == out));
    let both = Spec {
        matching: Some(MatchSpec::default()),
        ..iptw(&["ecog"], Estimand::Ate, false, None)
    };
    let e = analyze(&c, &both).unwrap_err().to_string();
    assert!(e.contains("matching or weighting"), "{e}");
}

/// The window: "weighting (IPTW)" under Adjustment runs the weighted analysis, the curves'
/// title says so, and the Balance view shows the core's weighted SMDs and effective sizes.
#[test]
fn the_window_weights_and_shows_the_weighted_balance() {
    use egui_kittest::kittest::Queryable;
    use survival_explorer::app::{demo_cohort, App, Settings, View};
    let mut h = egui_kittest::Harness::builder()
        .with_size([1500.0, 1100.0])
        .build_ui_state(
            |ui, app: &mut App| app.ui_all(ui),
            App::with_settings(Settings::default()),
        );
    h.run();
    h.get_by_label("weighting (IPTW)").click();
    h.run();
    let settings = h.state().settings.clone();
    assert!(settings.weighting_on && !settings.matching_on);
    let spec = settings.matched_spec().unwrap();
    assert!(spec.weighting.is_some() && spec.matching.is_none());
    let report = analyze(&demo_cohort().cohort, &spec).unwrap();
    let w = report.weighting.as_ref().unwrap();
    let shows = |h: &egui_kittest::Harness<'_, App>, t: &str| {
        assert!(
            h.query_all_by_label_contains(t).next().is_some(),
            "the window does not show '{t}'"
        );
    };
    shows(&h, "IPTW (ATE) sample, n = 230");
    let ep = report.endpoints.get(&settings.endpoint).unwrap();
    shows(
        &h,
        &format!(
            "HR {:.2} (95% CI {:.2}–{:.2}), robust SE",
            ep.cox.hr, ep.cox.ci[0], ep.cox.ci[1]
        ),
    );
    h.state_mut().settings.view = View::Balance;
    h.run();
    for b in &w.balance {
        shows(&h, &format!("{:.3}", b.smd_after));
    }
    for (arm, ess) in w.weights.ess.iter() {
        shows(&h, &format!("{arm} {ess:.1}"));
    }
    // Back to no adjustment: one unadjusted analysis, no adjusted spec.
    h.get_by_label("none").click();
    h.run();
    assert!(h.state().settings.matched_spec().is_none());
}

/// The sensitivity summary: its rows are the HRs of the four analyses run on their own, in
/// the JSON (`--sensitivity`), the window's view and `report`'s figure.
#[test]
fn the_sensitivity_summary_is_the_four_analyses() {
    use survival_explorer::app::{demo_cohort, App, Settings, View};
    let c = demo_cohort().cohort;
    let covs = ["ecog", "albi_grade", "prior_io_response"]
        .map(String::from)
        .to_vec();
    let adjust = ["ecog", "afp_ge_400", "nlr", "pvt"]
        .map(String::from)
        .to_vec();
    let spec = Spec {
        matching: Some(MatchSpec {
            covariates: covs.clone(),
            ..MatchSpec::default()
        }),
        adjust: adjust.clone(),
        sensitivity: true,
        ..Spec::default()
    };
    let r = analyze(&c, &spec).unwrap();
    let alone = |s: Spec| analyze(&c, &s).unwrap();
    let unadjusted = alone(Spec::default());
    let matched = alone(Spec {
        matching: spec.matching.clone(),
        ..Spec::default()
    });
    let weighted = alone(iptw(
        &["ecog", "albi_grade", "prior_io_response"],
        Estimand::Ate,
        false,
        None,
    ));
    let model = alone(Spec {
        adjust,
        ..Spec::default()
    });
    for (name, ep) in r.endpoints.iter() {
        let rows = ep.sensitivity.as_ref().unwrap();
        let hr = |rep: &Report| rep.endpoints.get(name).unwrap().cox.hr;
        assert_eq!(rows[0].hr, hr(&unadjusted));
        assert_eq!(rows[1].hr, hr(&matched));
        assert_eq!(rows[2].hr, hr(&weighted));
        assert!(rows[2].robust);
        let m = model
            .endpoints
            .get(name)
            .unwrap()
            .cox_adjusted
            .as_ref()
            .unwrap();
        assert_eq!(rows[3].hr, m.terms[0].hr);
        assert_eq!(rows[3].n, m.n);
    }
    // The window's view shows them.
    let settings = Settings {
        view: View::Summary,
        ..Settings::default()
    };
    let mut h = egui_kittest::Harness::builder()
        .with_size([1500.0, 1000.0])
        .build_ui_state(
            |ui, app: &mut App| app.ui_all(ui),
            App::with_settings(settings),
        );
    h.step();
    for _ in 0..600 {
        if !h.state().is_busy() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.step();
    }
    h.run();
    let s = h.state().settings.clone();
    let shown = analyze(&c, &s.matched_spec().unwrap()).unwrap();
    for row in shown
        .endpoints
        .get(&s.endpoint)
        .unwrap()
        .sensitivity
        .as_ref()
        .unwrap()
    {
        let text = format!("{:.2} ({:.2}–{:.2})", row.hr, row.ci[0], row.ci[1]);
        use egui_kittest::kittest::Queryable;
        assert!(
            h.query_all_by_label_contains(&text).next().is_some(),
            "the window does not show {text}"
        );
    }
}
