//! The whole pipeline (file → Cohort → analyze → Report) against R on the reference datasets.
//! Expected values: tests/fixtures/reference/<name>.json and <name>_extras.json
//! (R 4.2.2, survival 3.5-3; see tests/fixtures/reference/README.md).

use crate::common;

use common::*;
use survival_explorer::analysis::{analyze, EndpointSpec, Report, Spec};
use survival_explorer::cohort::{read_csv_bytes, Cohort};
use survival_explorer::stats::cox::Ties;
use survival_explorer::stats::km::ConfType;

const DATASETS: [&str; 3] = ["aml", "colon", "ovarian"];

fn spec_for(r: &serde_json::Value, ci: ConfType, ties: Ties) -> Spec {
    Spec {
        treated: r["arm_treated"].as_str().unwrap().to_string(),
        control: r["arm_control"].as_str().unwrap().to_string(),
        endpoints: vec![EndpointSpec::new("os", &["time"], "event")],
        conf_type: ci,
        ties,
        ..Spec::default()
    }
}

fn run(ds: &str, ci: ConfType, ties: Ties) -> (serde_json::Value, Report) {
    let r = reference_json(&format!("{ds}.json"));
    let cohort = Cohort::load(&fixture(&format!("{ds}.csv"))).unwrap();
    let report = analyze(&cohort, &spec_for(&r, ci, ties)).unwrap();
    (r, report)
}

#[test]
fn km_tables_medians_and_rmst_through_the_pipeline() {
    for ds in DATASETS {
        for (name, ci) in [("log", ConfType::Log), ("log-log", ConfType::LogLog)] {
            let (r, report) = run(ds, ci, Ties::Efron);
            let ep = report.endpoints.get("os").unwrap();
            for (arm, ra) in r["km"][name]["arms"].as_object().unwrap() {
                let ours = ep.arms.get(arm).unwrap();
                let curve = ours.curve.as_ref().unwrap();
                let t = &ra["table"];
                let rows = t["time"].as_array().unwrap().len();
                assert_eq!(curve.time.len(), rows, "{ds} {arm}");
                for i in 0..rows {
                    let w = |f: &str| format!("{ds} {name} {arm} row {i} {f}");
                    assert_close_json(&w("time"), curve.time[i], &t["time"][i]);
                    assert_close_json(&w("n.risk"), curve.n_risk[i], &t["n_risk"][i]);
                    assert_close_json(&w("n.event"), curve.n_event[i], &t["n_event"][i]);
                    assert_close_json(&w("n.censor"), curve.n_censor[i], &t["n_censor"][i]);
                    assert_close_json(&w("surv"), curve.surv[i], &t["surv"][i]);
                    assert_close_json(&w("std.err"), curve.std_err[i], &t["std_err_logS"][i]);
                    assert_close_json(&w("lower"), curve.lower[i], &t["lower"][i]);
                    assert_close_json(&w("upper"), curve.upper[i], &t["upper"][i]);
                }
                assert_close_json(&format!("{ds} {name} {arm} n"), ours.n, &ra["n"]);
                assert_close_json(
                    &format!("{ds} {name} {arm} events"),
                    ours.events,
                    &ra["events"],
                );
                assert_close_json(
                    &format!("{ds} {name} {arm} median"),
                    ours.median,
                    &ra["median"],
                );
                assert_close_json(
                    &format!("{ds} {name} {arm} median lo"),
                    ours.median_ci[0],
                    &ra["median_lower"],
                );
                assert_close_json(
                    &format!("{ds} {name} {arm} median hi"),
                    ours.median_ci[1],
                    &ra["median_upper"],
                );
                // Default horizon = R's rmean = "common".
                assert_close_json(
                    &format!("{ds} {arm} tau"),
                    ours.rmst.horizon,
                    &r["km"][name]["rmean_common_tau"],
                );
                assert_close_json(
                    &format!("{ds} {arm} rmst"),
                    ours.rmst.value,
                    &ra["rmean_common"],
                );
                assert_close_json(
                    &format!("{ds} {arm} rmst se"),
                    ours.rmst.se,
                    &ra["rmean_common_se"],
                );
            }
        }
    }
}

#[test]
fn log_rank_and_cox_through_the_pipeline() {
    for ds in DATASETS {
        for (name, ties) in [("efron", Ties::Efron), ("breslow", Ties::Breslow)] {
            let (r, report) = run(ds, ConfType::LogLog, ties);
            let ep = report.endpoints.get("os").unwrap();
            assert_close_json(
                &format!("{ds} chisq"),
                ep.logrank.chi_square,
                &r["logrank"]["chisq"],
            );
            assert_close_json(
                &format!("{ds} lr p"),
                ep.logrank.p_value,
                &r["logrank"]["p"],
            );
            assert_eq!(ep.logrank.df, 1);
            let rc = &r["cox"][name];
            assert_eq!(ep.cox.ties, name);
            assert_close_json(&format!("{ds} {name} hr"), ep.cox.hr, &rc["hr"]);
            assert_close_json(&format!("{ds} {name} lo"), ep.cox.ci[0], &rc["hr_lower"]);
            assert_close_json(&format!("{ds} {name} hi"), ep.cox.ci[1], &rc["hr_upper"]);
            assert_close_json(&format!("{ds} {name} p"), ep.cox.p_value, &rc["wald_p"]);
            assert_close_json(&format!("{ds} {name} se"), ep.cox.se, &rc["se"]);
            assert_close_json(&format!("{ds} {name} z"), ep.cox.z, &rc["wald_z"]);
        }
    }
}

#[test]
fn landmarks_follow_up_and_rmst_difference_match_r_extras() {
    for ds in DATASETS {
        let x = reference_json(&format!("{ds}_extras.json"));
        let times: Vec<f64> = x["landmark_times"]
            .as_array()
            .unwrap()
            .iter()
            .map(r_value)
            .collect();
        for (name, ci) in [("log", ConfType::Log), ("log-log", ConfType::LogLog)] {
            let r = reference_json(&format!("{ds}.json"));
            let cohort = Cohort::load(&fixture(&format!("{ds}.csv"))).unwrap();
            let mut spec = spec_for(&r, ci, Ties::Efron);
            spec.landmarks = Some(times.clone());
            let report = analyze(&cohort, &spec).unwrap();
            let ep = report.endpoints.get("os").unwrap();
            for (arm, rl) in x["landmarks"][name].as_object().unwrap() {
                let ours = &ep.arms.get(arm).unwrap().landmarks;
                assert_eq!(ours.len(), times.len());
                for (i, l) in ours.iter().enumerate() {
                    let w = |f: &str| format!("{ds} {name} {arm} landmark {i} {f}");
                    assert_close_json(&w("surv"), l.surv, &rl["surv"][i]);
                    assert_close_json(&w("lower"), l.lower, &rl["lower"][i]);
                    assert_close_json(&w("upper"), l.upper, &rl["upper"][i]);
                    assert_close_json(&w("n.risk"), l.n_risk, &rl["n_risk"][i]);
                }
            }
            if name == "log-log" {
                // R: survfit(Surv(time, 1 - event) ~ 1 / ~ arm, conf.type = "log-log").
                let fu = &x["median_follow_up"];
                assert_close_json(
                    &format!("{ds} fu"),
                    ep.median_follow_up.median,
                    &fu["overall"]["median"],
                );
                assert_close_json(
                    &format!("{ds} fu lo"),
                    ep.median_follow_up.ci[0],
                    &fu["overall"]["lower"],
                );
                assert_close_json(
                    &format!("{ds} fu hi"),
                    ep.median_follow_up.ci[1],
                    &fu["overall"]["upper"],
                );
                for (arm, a) in ep.arms.iter() {
                    assert_close_json(
                        &format!("{ds} {arm} fu"),
                        a.median_follow_up.median,
                        &fu[arm]["median"],
                    );
                    assert_close_json(
                        &format!("{ds} {arm} fu lo"),
                        a.median_follow_up.ci[0],
                        &fu[arm]["lower"],
                    );
                    assert_close_json(
                        &format!("{ds} {arm} fu hi"),
                        a.median_follow_up.ci[1],
                        &fu[arm]["upper"],
                    );
                }
            }
            let d = &x["rmst_difference"];
            assert_close_json(
                &format!("{ds} rmst diff"),
                ep.rmst_difference.value,
                &d["value"],
            );
            assert_close_json(
                &format!("{ds} rmst diff se"),
                ep.rmst_difference.se,
                &d["se"],
            );
            assert_close_json(
                &format!("{ds} rmst diff lo"),
                ep.rmst_difference.ci[0],
                &d["lower"],
            );
            assert_close_json(
                &format!("{ds} rmst diff hi"),
                ep.rmst_difference.ci[1],
                &d["upper"],
            );
            assert_close_json(
                &format!("{ds} rmst tau"),
                ep.rmst_difference.horizon,
                &d["tau"],
            );
        }
    }
}

/// The reference's made-up binary outcome becomes a best_response column (1 → PR, 0 → PD), so
/// the DCR of each arm is R's proportion: Clopper–Pearson CI and Fisher's p must equal R's.
#[test]
fn clopper_pearson_and_fisher_match_r() {
    for ds in DATASETS {
        let r = reference_json(&format!("{ds}.json"));
        let cutoff = r_value(&r["response"]["time_cutoff"]);
        let text = std::fs::read_to_string(fixture(&format!("{ds}.csv"))).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let cols: Vec<&str> = header.split(',').collect();
        let it = cols.iter().position(|c| *c == "time").unwrap();
        let ie = cols.iter().position(|c| *c == "event").unwrap();
        let mut out = format!("{header},best_response\n");
        for l in lines.filter(|l| !l.is_empty()) {
            let f: Vec<&str> = l.split(',').collect();
            let t: f64 = f[it].parse().unwrap();
            let responded = f[ie] == "1" && t < cutoff;
            out.push_str(&format!("{l},{}\n", if responded { "PR" } else { "PD" }));
        }
        let cohort = read_csv_bytes(ds, out.into_bytes()).unwrap();
        let report = analyze(&cohort, &spec_for(&r, ConfType::LogLog, Ties::Efron)).unwrap();
        let resp = report.response.unwrap();
        for (arm, ra) in r["response"]["arms"].as_object().unwrap() {
            let ours = resp.arms.get(arm).unwrap();
            assert_close_json(&format!("{ds} {arm} n"), ours.n_evaluable, &ra["n"]);
            assert_close_json(&format!("{ds} {arm} p"), ours.dcr, &ra["p"]);
            assert_close_json(
                &format!("{ds} {arm} cp lo"),
                ours.dcr_ci[0],
                &ra["clopper_pearson_lower"],
            );
            assert_close_json(
                &format!("{ds} {arm} cp hi"),
                ours.dcr_ci[1],
                &ra["clopper_pearson_upper"],
            );
        }
        assert_close_json(
            &format!("{ds} fisher"),
            resp.dcr_p_value,
            &r["response"]["fisher_p"],
        );
    }
}
