//! Caliper sweep and subgroup forest plot: against R (colon_extras.json: coxph per level and
//! anova of arm × factor(cov), R 4.2.2 survival 3.5-3) and against the ordinary analysis.

use crate::common;

use common::*;
use survival_explorer::analysis::{analyze, EndpointSpec, MatchSpec, Spec, Subgroup};
use survival_explorer::cohort::Cohort;

#[test]
fn forest_matches_r_subgroup_cox_and_interaction_tests() {
    let x = reference_json("colon_extras.json");
    let cohort = Cohort::load(&fixture("colon.csv")).unwrap();
    let spec = Spec {
        treated: "Lev+5FU".into(),
        control: "Obs".into(),
        endpoints: vec![EndpointSpec::new("os", &["time"], "event")],
        forest: true,
        ..Spec::default()
    };
    let report = analyze(&cohort, &spec).unwrap();
    let rows = report.endpoints.get("os").unwrap().forest.as_ref().unwrap();
    for (cov, rs) in x["subgroups"].as_object().unwrap() {
        for rl in rs["levels"].as_array().unwrap() {
            let level = rl["level"].as_str().unwrap();
            let row = rows
                .iter()
                .find(|r| r.covariate == *cov && r.level == level)
                .unwrap_or_else(|| panic!("no forest row {cov} = {level}"));
            let w = |f: &str| format!("{cov}={level} {f}");
            assert_close_json(
                &w("n treated"),
                *row.n.get("Lev+5FU").unwrap(),
                &rl["n_treated"],
            );
            assert_close_json(
                &w("n control"),
                *row.n.get("Obs").unwrap(),
                &rl["n_control"],
            );
            assert_close_json(
                &w("events treated"),
                *row.events.get("Lev+5FU").unwrap(),
                &rl["events_treated"],
            );
            assert_close_json(&w("hr"), row.hr, &rl["hr"]);
            assert_close_json(&w("lower"), row.ci[0], &rl["lower"]);
            assert_close_json(&w("upper"), row.ci[1], &rl["upper"]);
            assert_close_json(&w("p"), row.p_value, &rl["p"]);
            // The LR statistic is a difference of two log-partial-likelihoods of ~1,700: it is
            // compared on their scale, to 1e-12 of the log-likelihood (each log-likelihood thus
            // agrees with R to better than 1e-12 relative; a statistic near 0, like 0.0023 for
            // obstruct, cannot carry 1e-9 relative through that subtraction).
            let scale = report.endpoints.get("os").unwrap().cox.loglik.abs();
            let chi_r = r_value(&rs["interaction_lr_chisq"]);
            assert!(
                (row.interaction_chi_square - chi_r).abs() <= 1e-12 * scale,
                "{}: ours {}, R {chi_r}",
                w("interaction chisq"),
                row.interaction_chi_square
            );
            assert_close_json(
                &w("interaction p"),
                row.interaction_p_value,
                &rs["interaction_p"],
            );
            assert_eq!(
                row.interaction_df as f64,
                r_value(&rs["interaction_df"]),
                "{cov} df"
            );
        }
    }
}

#[test]
fn forest_rows_equal_the_subgroup_analyses() {
    let demo = common::demo_cohort();
    let spec = Spec {
        forest: true,
        ..Spec::default()
    };
    let report = analyze(&demo, &spec).unwrap();
    let rows = report.endpoints.get("pfs").unwrap().forest.clone().unwrap();
    assert!(rows
        .iter()
        .any(|r| r.covariate == "prior_io_response" && r.level == "PD"));
    for row in rows {
        let sub = Spec {
            subgroups: vec![Subgroup::Levels {
                column: row.covariate.clone(),
                values: vec![row.level.clone()],
            }],
            ..Spec::default()
        };
        let r = match analyze(&demo, &sub) {
            Ok(r) => r,
            Err(e) => {
                // A level with one arm only: the forest says not estimable, analyze refuses.
                assert!(row.hr.is_nan(), "{}={}: {e}", row.covariate, row.level);
                continue;
            }
        };
        let cox = &r.endpoints.get("pfs").unwrap().cox;
        let what = format!("{}={}", row.covariate, row.level);
        if cox.hr.is_nan() {
            assert!(row.hr.is_nan(), "{what}");
            continue;
        }
        assert_close(&format!("{what} hr"), row.hr, cox.hr);
        assert_close(&format!("{what} lo"), row.ci[0], cox.ci[0]);
        assert_close(&format!("{what} p"), row.p_value, cox.p_value);
        let n: f64 = r
            .endpoints
            .get("pfs")
            .unwrap()
            .arms
            .iter()
            .map(|(_, a)| a.n)
            .sum();
        let row_n: f64 = row.n.iter().map(|(_, v)| v).sum();
        assert_eq!(row_n, n, "{what} n");
    }
}

#[test]
fn sweep_at_the_spec_caliper_equals_the_matched_analysis() {
    let demo = common::demo_cohort();
    for caliper in [0.2, 0.05, 0.137] {
        let spec = Spec {
            matching: Some(MatchSpec {
                caliper,
                ..MatchSpec::default()
            }),
            caliper_sweep: true,
            ..Spec::default()
        };
        let report = analyze(&demo, &spec).unwrap();
        let m = report.matching.as_ref().unwrap();
        for (name, ep) in report.endpoints.iter() {
            let sweep = ep.caliper_sweep.as_ref().unwrap();
            assert!(sweep.len() >= 50);
            assert!(sweep.windows(2).all(|w| w[0].caliper < w[1].caliper));
            let at = sweep
                .iter()
                .find(|p| p.caliper == caliper)
                .expect("the spec's caliper is on the grid");
            assert_close(&format!("{name} hr"), at.hr, ep.cox.hr);
            assert_close(&format!("{name} lo"), at.ci[0], ep.cox.ci[0]);
            assert_close(&format!("{name} p"), at.p_value, ep.cox.p_value);
            assert_eq!(Some(&at.n_pairs), m.n_matched.get("lenvatinib"));
            // Wider calipers never match fewer treated patients.
            assert!(sweep.windows(2).all(|w| w[0].n_pairs <= w[1].n_pairs));
        }
    }
}
