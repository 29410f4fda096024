//! The statistics core against R (survival 3.5-3) on the reference datasets, method by method.
//! Expected values: tests/fixtures/reference/<name>.json (R 4.2.2, survival 3.5-3).

use crate::common;

use common::*;
use survival_explorer::stats::cox::{cox_fit, CoxData, Ties};
use survival_explorer::stats::km::{kaplan_meier, ConfType};
use survival_explorer::stats::logrank::log_rank;
use survival_explorer::stats::{timefix, SurvSample};

struct Simple {
    arm: Vec<String>,
    time: Vec<f64>,
    event: Vec<bool>,
}

fn read_simple(name: &str) -> Simple {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (ia, it, ie) = (col("arm"), col("time"), col("event"));
    let mut s = Simple {
        arm: vec![],
        time: vec![],
        event: vec![],
    };
    for l in lines.filter(|l| !l.is_empty()) {
        let f: Vec<&str> = l.split(',').collect();
        s.arm.push(f[ia].to_string());
        s.time.push(f[it].parse().unwrap());
        s.event.push(f[ie] == "1");
    }
    timefix(&mut s.time);
    s
}

fn arm_sample(s: &Simple, arm: &str) -> SurvSample {
    let idx: Vec<usize> = (0..s.arm.len()).filter(|&i| s.arm[i] == arm).collect();
    SurvSample::new(
        idx.iter().map(|&i| s.time[i]).collect(),
        idx.iter().map(|&i| s.event[i]).collect(),
        None,
    )
}

const DATASETS: [&str; 3] = ["aml", "colon", "ovarian"];

#[test]
fn kaplan_meier_tables_medians_and_rmst_match_r() {
    for ds in DATASETS {
        let r = reference_json(&format!("{ds}.json"));
        let data = read_simple(&format!("{ds}.csv"));
        for (ct_name, ct) in [("log", ConfType::Log), ("log-log", ConfType::LogLog)] {
            let tau = r_value(&r["km"][ct_name]["rmean_common_tau"]);
            for (arm, ra) in r["km"][ct_name]["arms"].as_object().unwrap() {
                let km = kaplan_meier(&arm_sample(&data, arm), ct, 0.95);
                let t = &ra["table"];
                let rows = t["time"].as_array().unwrap().len();
                assert_eq!(km.time.len(), rows, "{ds} {arm} rows");
                for i in 0..rows {
                    let w = |f: &str| format!("{ds} {ct_name} {arm} row {i} {f}");
                    assert_close_json(&w("time"), km.time[i], &t["time"][i]);
                    assert_close_json(&w("n_risk"), km.n_risk[i], &t["n_risk"][i]);
                    assert_close_json(&w("n_event"), km.n_event[i], &t["n_event"][i]);
                    assert_close_json(&w("n_censor"), km.n_censor[i], &t["n_censor"][i]);
                    assert_close_json(&w("surv"), km.surv[i], &t["surv"][i]);
                    assert_close_json(&w("std_err"), km.std_err[i], &t["std_err_logS"][i]);
                    assert_close_json(&w("lower"), km.lower[i], &t["lower"][i]);
                    assert_close_json(&w("upper"), km.upper[i], &t["upper"][i]);
                }
                let m = km.median();
                assert_close_json(
                    &format!("{ds} {ct_name} {arm} median"),
                    m.estimate,
                    &ra["median"],
                );
                assert_close_json(
                    &format!("{ds} {ct_name} {arm} median lower"),
                    m.lower,
                    &ra["median_lower"],
                );
                assert_close_json(
                    &format!("{ds} {ct_name} {arm} median upper"),
                    m.upper,
                    &ra["median_upper"],
                );
                let rc = km.rmst(tau);
                assert_close_json(
                    &format!("{ds} {arm} rmean common"),
                    rc.value,
                    &ra["rmean_common"],
                );
                assert_close_json(
                    &format!("{ds} {arm} rmean common se"),
                    rc.se,
                    &ra["rmean_common_se"],
                );
                let ri = km.rmst(r_value(&ra["rmean_individual_tau"]));
                assert_close_json(
                    &format!("{ds} {arm} rmean ind"),
                    ri.value,
                    &ra["rmean_individual"],
                );
                assert_close_json(
                    &format!("{ds} {arm} rmean ind se"),
                    ri.se,
                    &ra["rmean_individual_se"],
                );
            }
        }
    }
}

#[test]
fn log_rank_matches_survdiff() {
    for ds in DATASETS {
        let r = reference_json(&format!("{ds}.json"));
        let data = read_simple(&format!("{ds}.csv"));
        let ctrl = r["arm_control"].as_str().unwrap();
        let trt = r["arm_treated"].as_str().unwrap();
        let lr = log_rank(&arm_sample(&data, trt), &arm_sample(&data, ctrl));
        assert_close_json(
            &format!("{ds} chisq"),
            lr.chi_square,
            &r["logrank"]["chisq"],
        );
        assert_close_json(&format!("{ds} p"), lr.p_value, &r["logrank"]["p"]);
        assert_close_json(
            &format!("{ds} var"),
            lr.variance,
            &r["logrank"]["variance_11"],
        );
    }
}

#[test]
fn cox_matches_coxph_both_ties() {
    for ds in DATASETS {
        let r = reference_json(&format!("{ds}.json"));
        let data = read_simple(&format!("{ds}.csv"));
        let trt = r["arm_treated"].as_str().unwrap();
        let all = SurvSample::new(
            data.time.clone(),
            data.event.clone(),
            Some(
                data.arm
                    .iter()
                    .map(|a| if a == trt { 1.0 } else { 0.0 })
                    .collect(),
            ),
        );
        // The weight slot carried x through the sort; use it as the covariate.
        let x = all.weight.clone();
        let w = vec![1.0; x.len()];
        for (name, ties) in [("efron", Ties::Efron), ("breslow", Ties::Breslow)] {
            let rc = &r["cox"][name];
            let d = CoxData {
                time: &all.time,
                status: &all.status,
                weight: &w,
                x: &x,
                p: 1,
            };
            let fit = cox_fit(&d, ties, false).unwrap();
            let what = |f: &str| format!("{ds} {name} {f}");
            assert_close_json(&what("coef"), fit.coef[0], &rc["coef"]);
            assert_close_json(&what("se"), fit.se(0), &rc["se"]);
            assert_close_json(&what("loglik"), fit.loglik, &rc["loglik"]);
            assert_close_json(&what("loglik0"), fit.loglik_null, &rc["loglik_null"]);
            assert_close_json(&what("score"), fit.score_test, &rc["score_test"]);
            assert_close_json(&what("lr"), fit.lr_test(), &rc["lr_test"]);
        }
    }
}
