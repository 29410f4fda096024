//! The adjusted analyses through the whole pipeline against R (survival 3.5-3): the
//! multivariable Cox model (terms, tests, concordance), `cox.zph` of it and of the arm-only
//! model, the univariable screen and E-values, and the scaled Schoenfeld residuals with the
//! smooth of `plot(cox.zph(fit))`. Expected values: tests/fixtures/reference/adjusted/
//! (`make_adjusted_refs.R`, `make_zph_plot_refs.R`).

use crate::common;

use common::*;
use survival_explorer::analysis::{
    analyze, EndpointSpec, ModelTerm, PhResiduals, PhTest, Report, Spec,
};
use survival_explorer::cohort::Cohort;

const DATASETS: [&str; 2] = ["colon", "ovarian"];

fn spec_for(ds: &str) -> (serde_json::Value, Spec) {
    let base = reference_json(&format!("{ds}.json"));
    let r = reference_json(&format!("adjusted/{ds}.json"));
    let spec = Spec {
        treated: base["arm_treated"].as_str().unwrap().to_string(),
        control: base["arm_control"].as_str().unwrap().to_string(),
        endpoints: vec![EndpointSpec::new("os", &["time"], "event")],
        adjust: r["covariates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect(),
        univariable: true,
        ..Spec::default()
    };
    (r, spec)
}

fn run(ds: &str) -> (serde_json::Value, Report) {
    let (r, spec) = spec_for(ds);
    let cohort = Cohort::load(&fixture(&format!("{ds}.csv"))).unwrap();
    (r, analyze(&cohort, &spec).unwrap())
}

fn check_terms(what: &str, ours: &[ModelTerm], theirs: &serde_json::Value) {
    let theirs = theirs.as_array().unwrap();
    assert_eq!(ours.len(), theirs.len(), "{what}: number of terms");
    for (o, t) in ours.iter().zip(theirs) {
        let name = t["term"].as_str().unwrap();
        assert_eq!(o.term, name, "{what}");
        let w = format!("{what} {name}");
        assert_close_json(&format!("{w} coef"), o.coef, &t["coef"]);
        assert_close_json(&format!("{w} se"), o.se, &t["se"]);
        assert_close_json(&format!("{w} hr"), o.hr, &t["hr"]);
        assert_close_json(&format!("{w} ci lo"), o.ci[0], &t["ci"][0]);
        assert_close_json(&format!("{w} ci hi"), o.ci[1], &t["ci"][1]);
        assert_close_json(&format!("{w} p"), o.p_value, &t["p_value"]);
    }
}

fn check_ph(what: &str, ours: &PhTest, theirs: &serde_json::Value) {
    let rows = theirs["terms"].as_array().unwrap();
    assert_eq!(ours.terms.len(), rows.len(), "{what}: rows");
    for (o, t) in ours.terms.iter().zip(rows) {
        assert_eq!(o.term, t["term"].as_str().unwrap(), "{what}");
        let w = format!("{what} {}", o.term);
        assert_close_json(&format!("{w} chi-square"), o.chi_square, &t["chi_square"]);
        assert_eq!(o.df as u64, t["df"].as_u64().unwrap(), "{w} df");
        assert_close_json(&format!("{w} p"), o.p_value, &t["p_value"]);
    }
    let g = &theirs["global"];
    assert_close_json(
        &format!("{what} global"),
        ours.global.chi_square,
        &g["chi_square"],
    );
    assert_eq!(ours.global.df as u64, g["df"].as_u64().unwrap());
    assert_close_json(
        &format!("{what} global p"),
        ours.global.p_value,
        &g["p_value"],
    );
}

#[test]
fn multivariable_cox_matches_r() {
    for ds in DATASETS {
        let (r, report) = run(ds);
        let ep = report.endpoints.get("os").unwrap();
        let a = ep.cox_adjusted.as_ref().expect("adjusted model");
        let ra = &r["adjusted"];
        assert_eq!(a.not_estimable, None, "{ds}");
        assert_eq!(a.n as u64, ra["n"].as_u64().unwrap(), "{ds} n");
        assert_eq!(
            a.events as u64,
            ra["events"].as_u64().unwrap(),
            "{ds} events"
        );
        let total = report.cohort.n_rows;
        assert_eq!(
            a.n + a.n_excluded,
            total,
            "{ds}: every row used or excluded"
        );
        check_terms(&format!("{ds} adjusted"), &a.terms, &ra["terms"]);
        assert_close_json(&format!("{ds} loglik"), a.loglik, &ra["loglik"]);
        let tests = a.tests.as_ref().unwrap();
        for (name, t) in [
            ("likelihood_ratio", &tests.likelihood_ratio),
            ("score", &tests.score),
        ] {
            let rt = &ra["tests"][name];
            assert_close_json(&format!("{ds} {name}"), t.chi_square, &rt["chi_square"]);
            assert_eq!(t.df as u64, rt["df"].as_u64().unwrap());
            assert_close_json(&format!("{ds} {name} p"), t.p_value, &rt["p_value"]);
        }
        // summary.coxph() rounds the Wald statistic to 2 decimals (its p-value is of the
        // unrounded one): ours is the unrounded `fit$wald.test`.
        let rw = &ra["tests"]["wald"];
        assert_eq!(
            (tests.wald.chi_square * 100.0).round() / 100.0,
            r_value(&rw["chi_square"]),
            "{ds} wald, rounded as summary() prints it"
        );
        assert_close_json(&format!("{ds} wald p"), tests.wald.p_value, &rw["p_value"]);
        let c = a.concordance.as_ref().unwrap();
        assert_close_json(
            &format!("{ds} concordance"),
            c.value,
            &ra["concordance"]["value"],
        );
        assert_close_json(
            &format!("{ds} concordance se"),
            c.se,
            &ra["concordance"]["se"],
        );
        check_ph(
            &format!("{ds} adjusted zph"),
            a.ph_test.as_ref().unwrap(),
            &ra["ph_test"],
        );
        let e = a.e_value.unwrap();
        assert_close_json(&format!("{ds} E"), e.point, &ra["e_value_arm"]["point"]);
        assert_close_json(
            &format!("{ds} E ci"),
            e.ci_limit,
            &ra["e_value_arm"]["ci_limit"],
        );
    }
}

#[test]
fn arm_only_ph_test_and_e_value_match_r() {
    for ds in DATASETS {
        let (r, report) = run(ds);
        let cox = &report.endpoints.get("os").unwrap().cox;
        let ra = &r["arm_only"];
        check_ph(
            &format!("{ds} arm-only zph"),
            cox.ph_test.as_ref().unwrap(),
            &ra["ph_test"],
        );
        let e = cox.e_value.unwrap();
        assert_close_json(&format!("{ds} E"), e.point, &ra["e_value"]["point"]);
        assert_close_json(
            &format!("{ds} E ci"),
            e.ci_limit,
            &ra["e_value"]["ci_limit"],
        );
    }
}

#[test]
fn univariable_screen_matches_r() {
    for ds in DATASETS {
        let (r, report) = run(ds);
        let rows = report
            .endpoints
            .get("os")
            .unwrap()
            .cox_univariable
            .as_ref()
            .unwrap();
        let theirs = r["univariable"].as_array().unwrap();
        assert_eq!(rows.len(), theirs.len(), "{ds}");
        for (o, t) in rows.iter().zip(theirs) {
            assert_eq!(o.covariate, t["covariate"].as_str().unwrap());
            assert_eq!(
                o.n as u64,
                t["n"].as_u64().unwrap(),
                "{ds} {} n",
                o.covariate
            );
            assert_eq!(o.events as u64, t["events"].as_u64().unwrap());
            check_terms(&format!("{ds} univariable"), &o.terms, &t["terms"]);
            assert_close_json(
                &format!("{ds} {} LR p", o.covariate),
                o.likelihood_ratio_p,
                &t["likelihood_ratio_p"],
            );
        }
    }
}

fn check_residuals(what: &str, ours: &PhResiduals, theirs: &serde_json::Value) {
    for (name, v) in [
        ("x", &ours.x),
        ("time", &ours.time),
        ("beta_t", &ours.beta_t),
        ("smooth_x", &ours.smooth_x),
        ("smooth", &ours.smooth),
        ("lower", &ours.lower),
        ("upper", &ours.upper),
    ] {
        let t = theirs[name].as_array().unwrap();
        assert_eq!(v.len(), t.len(), "{what} {name}: length");
        for (i, (o, t)) in v.iter().zip(t).enumerate() {
            // Values that are 0 in exact arithmetic (the first transformed time) compare
            // absolutely.
            let r = r_value(t);
            if r.abs() < 1e-12 {
                assert!((o - r).abs() < 1e-12, "{what} {name}[{i}]: {o} vs {r}");
            } else {
                assert_close(&format!("{what} {name}[{i}]"), *o, r);
            }
        }
    }
}

#[test]
fn schoenfeld_residuals_and_smooth_match_plot_cox_zph() {
    let r = reference_json("adjusted/zph_plot.json");
    for ds in DATASETS {
        let (_, report) = run(ds);
        let ep = report.endpoints.get("os").unwrap();
        // The arm-only model keeps its test, not its residuals (no view draws them).
        assert!(ep.cox.arm_residuals.is_none() && ep.cox.ph_test.is_some());
        check_residuals(
            &format!("{ds} adjusted"),
            ep.cox_adjusted
                .as_ref()
                .unwrap()
                .arm_residuals
                .as_ref()
                .unwrap(),
            &r[ds]["adjusted"],
        );
        // The arm-only model's residuals: the adjusted model whose one covariate is constant
        // (left out) is the arm-only model.
        let text = std::fs::read_to_string(fixture(&format!("{ds}.csv"))).unwrap();
        let mut lines = text.lines();
        let mut csv = format!("{},one\n", lines.next().unwrap());
        for l in lines.filter(|l| !l.is_empty()) {
            csv += &format!("{l},1\n");
        }
        let cohort = survival_explorer::cohort::read_csv_bytes("c.csv", csv.into_bytes()).unwrap();
        let (_, spec) = spec_for(ds);
        let spec = Spec {
            adjust: vec!["one".into()],
            univariable: false,
            ..spec
        };
        let report = analyze(&cohort, &spec).unwrap();
        let m = report
            .endpoints
            .get("os")
            .unwrap()
            .cox_adjusted
            .clone()
            .unwrap();
        assert_eq!(m.terms.len(), 1);
        check_residuals(
            &format!("{ds} arm-only"),
            m.arm_residuals.as_ref().unwrap(),
            &r[ds]["arm_only"],
        );
    }
}

/// IPTW against R (`make_adjusted_refs.R`): for ATE, stabilized ATE and ATT on colon and
/// ovarian, the weights (range, sums, ESS, the first ten), the weighted SMDs, the weighted
/// Kaplan–Meier medians with their CIs, the weighted Cox model with robust SE and its E-value.
#[test]
fn iptw_matches_r() {
    use survival_explorer::weighting::{Estimand, WeightSpec};
    for ds in DATASETS {
        let (r, base) = spec_for(ds);
        let cohort = Cohort::load(&fixture(&format!("{ds}.csv"))).unwrap();
        let covariates: Vec<String> = base.adjust.clone();
        for (name, estimand, stabilized) in [
            ("ate", Estimand::Ate, false),
            ("ate_stabilized", Estimand::Ate, true),
            ("att", Estimand::Att, false),
        ] {
            let spec = Spec {
                adjust: Vec::new(),
                univariable: false,
                weighting: Some(WeightSpec {
                    covariates: covariates.clone(),
                    estimand,
                    stabilized,
                    trim: None,
                }),
                ..base.clone()
            };
            let report = analyze(&cohort, &spec).unwrap();
            let re = &r["iptw"]["estimands"][name];
            let what = format!("{ds} {name}");
            let w = report.weighting.as_ref().expect("weighting report");
            assert_eq!(w.n as u64, re["n"].as_u64().unwrap(), "{what} n");
            let (t, c) = (&report.sample.treated_label, &report.sample.control_label);
            let rw = &re["weights"];
            assert_close_json(&format!("{what} min"), w.weights.min, &rw["min"]);
            assert_close_json(&format!("{what} max"), w.weights.max, &rw["max"]);
            for (arm, key) in [(t, "treated"), (c, "control")] {
                assert_close_json(
                    &format!("{what} sum {arm}"),
                    *w.weights.sum.get(arm).unwrap(),
                    &rw[format!("sum_{key}")],
                );
                assert_close_json(
                    &format!("{what} ess {arm}"),
                    *w.weights.ess.get(arm).unwrap(),
                    &rw[format!("ess_{key}")],
                );
            }
            for (i, (u, rv)) in w
                .units
                .iter()
                .zip(re["first_weights"].as_array().unwrap())
                .enumerate()
            {
                assert_close_json(&format!("{what} weight {i}"), u.weight, rv);
            }
            for (i, (u, rv)) in w
                .units
                .iter()
                .zip(r["iptw"]["ps_first"].as_array().unwrap())
                .enumerate()
            {
                assert_close_json(&format!("{what} ps {i}"), u.ps, rv);
            }
            let rb = re["balance"].as_array().unwrap();
            assert_eq!(w.balance.len(), rb.len(), "{what} balance rows");
            for (b, rr) in w.balance.iter().zip(rb) {
                assert_eq!(b.covariate, rr["covariate"].as_str().unwrap());
                assert_close_json(
                    &format!("{what} smd before {}", b.covariate),
                    b.smd_before,
                    &rr["smd_before"],
                );
                assert_close_json(
                    &format!("{what} smd after {}", b.covariate),
                    b.smd_after,
                    &rr["smd_after"],
                );
            }
            let ep = report.endpoints.get("os").unwrap();
            for (arm, ra) in re["arms"].as_object().unwrap() {
                let a = ep.arms.get(arm).unwrap();
                assert_close_json(&format!("{what} {arm} median"), a.median, &ra["median"]);
                assert_close_json(
                    &format!("{what} {arm} lower"),
                    a.median_ci[0],
                    &ra["median_ci"][0],
                );
                assert_close_json(
                    &format!("{what} {arm} upper"),
                    a.median_ci[1],
                    &ra["median_ci"][1],
                );
            }
            let cox = &ep.cox;
            let rc = &re["cox"];
            assert!(cox.robust, "{what}: robust SE");
            assert_close_json(&format!("{what} coef"), cox.coef, &rc["coef"]);
            assert_close_json(&format!("{what} robust se"), cox.se, &rc["se"]);
            assert_close_json(&format!("{what} hr"), cox.hr, &rc["hr"]);
            assert_close_json(&format!("{what} ci lo"), cox.ci[0], &rc["ci"][0]);
            assert_close_json(&format!("{what} ci hi"), cox.ci[1], &rc["ci"][1]);
            assert_close_json(&format!("{what} p"), cox.p_value, &rc["p_value"]);
            let e = cox.e_value.unwrap();
            assert_close_json(&format!("{what} E"), e.point, &re["e_value"]["point"]);
            assert_close_json(
                &format!("{what} E ci"),
                e.ci_limit,
                &re["e_value"]["ci_limit"],
            );
            assert!(ep.logrank.p_value.is_nan() && ep.logrank.not_available.is_some());
        }
    }
}
