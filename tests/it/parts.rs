//! Visible first: an analysis of some parts (what a view of the window shows) gives exactly
//! the numbers of the full report for those parts, and the rest joined to it gives the full
//! report, for every view and sample choice of the window.

use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use survival_explorer::analysis::{
    analyze, analyze_parts, AnalysisCache, EndpointChoice, MatchSpec, Parts, Report, Spec,
};
use survival_explorer::app::{SampleView, Settings, View};
use survival_explorer::cohort::{read_csv_bytes, Cohort};

const VIEWS: [View; 7] = [
    View::Survival,
    View::Response,
    View::Balance,
    View::Sensitivity,
    View::Subgroups,
    View::Predictors,
    View::Summary,
];

fn cohort() -> Cohort {
    let csv = survival_explorer::simulate::simulate_csv(800, 7);
    read_csv_bytes("sim.csv", csv.into_bytes()).unwrap()
}

fn json(r: &Report) -> Value {
    let mut v = serde_json::to_value(r).unwrap();
    v.as_object_mut().unwrap().remove("timing");
    v
}

/// The parts of `full` that `parts` names, as JSON (and the per-unit list, not in the JSON).
fn parts_of(r: &Report, parts: &Parts) -> (Value, Vec<String>) {
    let v = json(r);
    let mut out = serde_json::Map::new();
    for key in [
        "cohort",
        "sample",
        "weighting",
        "warnings",
        "derived_from_dates",
    ] {
        out.insert(key.to_string(), v.get(key).cloned().unwrap_or(Value::Null));
    }
    let endpoints: serde_json::Map<String, Value> = r
        .endpoint_order
        .iter()
        .filter(|n| parts.endpoints.includes(n))
        .map(|n| {
            let mut ep = v["endpoints"].get(n).cloned().unwrap_or(Value::Null);
            if !parts.checks.includes(n) {
                drop_checks(&mut ep);
            }
            (n.clone(), ep)
        })
        .collect();
    out.insert("endpoints".into(), Value::Object(endpoints));
    if parts.response {
        out.insert("response".into(), v["response"].clone());
    }
    let mut units = Vec::new();
    if let Some(Value::Object(m)) = v.get("matching") {
        let mut m = m.clone();
        let drop = |m: &mut serde_json::Map<String, Value>, on: bool, keys: &[&str]| {
            if !on {
                for k in keys {
                    m.remove(*k);
                }
            }
        };
        drop(&mut m, parts.balance, &["balance", "ps_histogram"]);
        drop(&mut m, parts.table1, &["baseline_table"]);
        drop(&mut m, parts.pairs, &["pairs"]);
        out.insert("matching".into(), Value::Object(m));
        if parts.units {
            units = r
                .matching
                .as_ref()
                .unwrap()
                .units
                .iter()
                .map(|u| format!("{u:?}"))
                .collect();
        }
    }
    (Value::Object(out), units)
}

/// An endpoint's JSON without its checks: the median follow-up (overall and per arm) and the
/// arm model's test of proportional hazards.
fn drop_checks(ep: &mut Value) {
    let Value::Object(ep) = ep else { return };
    ep.remove("median_follow_up");
    if let Some(Value::Object(arms)) = ep.get_mut("arms") {
        for arm in arms.values_mut() {
            arm.as_object_mut().unwrap().remove("median_follow_up");
        }
    }
    if let Some(Value::Object(cox)) = ep.get_mut("cox") {
        cox.remove("ph_test");
    }
}

/// The window's settings for `view` and `sample_view`, with the seven covariates.
fn settings(view: View, sample_view: SampleView, adjustment: usize) -> Settings {
    let mut s = Settings {
        view,
        sample_view,
        endpoint: "os".to_string(),
        matching_on: adjustment == 1,
        weighting_on: adjustment == 2,
        ..Settings::default()
    };
    let covariates: Vec<String> = [
        "ecog",
        "albi_grade",
        "prior_io_response",
        "bclc",
        "etiology",
        "afp_ge_400",
        "age",
    ]
    .map(String::from)
    .to_vec();
    s.spec.matching = Some(MatchSpec {
        covariates: covariates.clone(),
        caliper: 0.1,
        ..MatchSpec::default()
    });
    s.weighting_mut().covariates = covariates;
    s
}

/// For every view, sample choice and adjustment (none, matching, weighting): the view's
/// parts, computed first with a cache warmed by other settings, hold exactly the full
/// report's numbers for those parts, and the rest joined to them gives the full report.
#[test]
fn visible_parts_are_the_full_reports_parts_for_every_view() {
    let cohort = cohort();
    let cache = AnalysisCache::default();
    let mut checked = 0;
    for adjustment in 0..3 {
        for view in VIEWS {
            for sample_view in [
                SampleView::Matched,
                SampleView::Unmatched,
                SampleView::SideBySide,
            ] {
                let s = settings(view, sample_view, adjustment);
                let (unmatched_spec, matched_spec) = s.analysed_specs();
                let (unmatched_parts, matched_parts) = s.visible_parts();
                let pairs: Vec<(Spec, Parts)> = std::iter::once((unmatched_spec, unmatched_parts))
                    .chain(matched_spec.map(|m| (m, matched_parts)))
                    .collect();
                for (spec, parts) in pairs {
                    let full = analyze(&cohort, &spec).unwrap();
                    // A warm cache (another caliper, the same model) as in the window.
                    let first = analyze_parts(&cohort, &spec, &cache, &parts, &|| false).unwrap();
                    assert!(first.holds(&parts));
                    assert_eq!(
                        parts_of(&first, &parts),
                        parts_of(&full, &parts),
                        "{view:?} {sample_view:?} adjustment {adjustment}: {parts:?}"
                    );
                    let rest =
                        analyze_parts(&cohort, &spec, &cache, &parts.rest(), &|| false).unwrap();
                    let mut joined = first;
                    joined.merge(rest);
                    assert!(joined.holds(&Parts::all()));
                    assert_eq!(json(&joined), json(&full), "{view:?} {sample_view:?}");
                    assert_eq!(
                        parts_of(&joined, &Parts::all()).1,
                        parts_of(&full, &Parts::all()).1
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 3 * 7 * 3, "{checked} analyses checked");
}

/// A part left out is absent, not empty-but-present: a report of one endpoint holds no other
/// endpoint, no response, no checks of its endpoint, and its matching report no balance,
/// Table 1 or pairs.
#[test]
fn a_part_not_asked_for_is_not_there() {
    let cohort = cohort();
    let s = settings(View::Survival, SampleView::Matched, 1);
    let spec = s.analysed_specs().1.unwrap();
    let r = analyze_parts(
        &cohort,
        &spec,
        &AnalysisCache::default(),
        &Parts::endpoint("pfs"),
        &|| false,
    )
    .unwrap();
    assert_eq!(
        r.endpoints
            .0
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>(),
        ["pfs"]
    );
    assert!(r.response.is_none());
    let pfs = r.endpoints.get("pfs").unwrap();
    assert!(pfs.median_follow_up.is_pending() && pfs.cox.ph_test.is_none());
    assert!(pfs
        .arms
        .iter()
        .all(|(_, a)| a.median_follow_up.is_pending()));
    assert!(pfs.cox.hr.is_finite() && pfs.arms.iter().all(|(_, a)| a.curve.is_some()));
    let m = r.matching.as_ref().unwrap();
    assert!(m.balance.is_empty() && m.baseline_table.is_empty() && m.pairs.is_empty());
    assert!(m.units.is_empty() && m.n_matched.0.iter().all(|(_, n)| *n > 0));
    assert!(!r.holds(&Parts::all()) && !r.holds(&Parts::endpoint("os")));
}

/// The pairs and the per-unit list are parts of their own: either alone is the full
/// report's, without the other. The command line's JSON, which has no per-unit list, is
/// computed without it and is the full report's JSON.
#[test]
fn pairs_and_units_come_apart() {
    let cohort = cohort();
    let s = settings(View::Balance, SampleView::Matched, 1);
    let spec = s.analysed_specs().1.unwrap();
    let full = analyze(&cohort, &spec).unwrap();
    assert!(!full.matching.as_ref().unwrap().units.is_empty());
    let pairs = Parts {
        pairs: true,
        ..Parts::none()
    };
    let units = Parts {
        units: true,
        ..Parts::none()
    };
    for parts in [pairs, units] {
        let r =
            analyze_parts(&cohort, &spec, &AnalysisCache::default(), &parts, &|| false).unwrap();
        assert_eq!(parts_of(&r, &parts), parts_of(&full, &parts), "{parts:?}");
        let m = r.matching.as_ref().unwrap();
        assert_eq!(m.pairs.is_empty(), !parts.pairs, "{parts:?}");
        assert_eq!(m.units.is_empty(), !parts.units, "{parts:?}");
        // The rest joined to either gives the full report, the per-unit list included.
        let rest = analyze_parts(
            &cohort,
            &spec,
            &AnalysisCache::default(),
            &parts.rest(),
            &|| false,
        )
        .unwrap();
        let mut joined = r;
        joined.merge(rest);
        assert!(joined.holds(&Parts::all()), "{parts:?}");
        assert_eq!(
            parts_of(&joined, &Parts::all()),
            parts_of(&full, &Parts::all()),
            "{parts:?}"
        );
    }

    let dir = std::env::temp_dir().join(format!("se-parts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sim.csv");
    std::fs::write(&file, survival_explorer::simulate::simulate_csv(800, 7)).unwrap();
    let args = survival_explorer::cli::AnalyzeArgs {
        file: Some(file.clone()),
        match_covariates: Some(vec!["ecog".into(), "albi_grade".into(), "age".into()]),
        ..Default::default()
    };
    let cli = survival_explorer::cli::run_analysis(&args).unwrap();
    let m = cli.matching.as_ref().unwrap();
    assert!(m.units.is_empty() && !m.pairs.is_empty());
    let spec = args.resolve().unwrap().spec;
    let loaded = survival_explorer::cli::load_for(&file, &spec).unwrap();
    let mut expected = json(&analyze(&loaded, &spec).unwrap());
    let mut got = json(&cli);
    for v in [&mut expected, &mut got] {
        v.as_object_mut().unwrap().remove("cohort");
    }
    assert_eq!(got, expected);
    std::fs::remove_dir_all(&dir).ok();
}

/// An endpoint's checks (follow-up, test of proportional hazards) come in a pass of their
/// own, before or after the endpoint: joined either way, with the spec's extras (adjusted
/// model, forest plot, caliper sweep, sensitivity summary) asked, the report is the full
/// one, and a pass of the checks alone computes none of the extras.
#[test]
fn checks_join_the_endpoint_in_either_order() {
    let cohort = cohort();
    let s = settings(View::Survival, SampleView::Matched, 1);
    let spec = Spec {
        adjust: vec!["ecog".to_string(), "age".to_string()],
        univariable: true,
        forest: true,
        caliper_sweep: true,
        sensitivity: true,
        ..s.analysed_specs().1.unwrap()
    };
    let full = analyze(&cohort, &spec).unwrap();
    let cache = AnalysisCache::default();
    let run = |parts: &Parts| analyze_parts(&cohort, &spec, &cache, parts, &|| false).unwrap();
    let os = Parts::endpoint("os");
    let os_checks = Parts {
        checks: EndpointChoice::Only(vec!["os".to_string()]),
        ..Parts::none()
    };
    let checks_only = run(&os_checks);
    assert!(!checks_only.holds(&os) && checks_only.holds(&os_checks));
    let ep = checks_only.endpoints.get("os").unwrap();
    assert!(!ep.median_follow_up.is_pending() && ep.cox.ph_test.is_some());
    assert!(ep.cox_adjusted.is_none() && ep.cox_univariable.is_none() && ep.forest.is_none());
    assert!(ep.caliper_sweep.is_none() && ep.sensitivity.is_none());
    // Not computed either (a forest plot, a sweep and the sensitivity summary ask `stop` at
    // each of their steps): the pass asks it as often as for a spec without them.
    let plain = Spec {
        adjust: Vec::new(),
        univariable: false,
        forest: false,
        caliper_sweep: false,
        sensitivity: false,
        ..spec.clone()
    };
    let asks = |spec: &Spec, parts: &Parts| {
        let n = AtomicUsize::new(0);
        let stop = || {
            n.fetch_add(1, Ordering::Relaxed);
            false
        };
        analyze_parts(&cohort, spec, &AnalysisCache::default(), parts, &stop).unwrap();
        n.into_inner()
    };
    assert_eq!(asks(&spec, &os_checks), asks(&plain, &os_checks));
    assert!(
        asks(&spec, &os) > asks(&plain, &os),
        "the extras ask `stop`"
    );
    let both = os.union(&os_checks);
    for order in [[&os, &os_checks], [&os_checks, &os]] {
        let mut joined = run(order[0]);
        joined.merge(run(order[1]));
        assert!(joined.holds(&both) && !joined.holds(&Parts::endpoint("pfs")));
        assert_eq!(
            parts_of(&joined, &both),
            parts_of(&full, &both),
            "{order:?}"
        );
        joined.merge(run(&both.rest()));
        assert_eq!(json(&joined), json(&full), "{order:?}");
    }
    // Parts a report holds already change nothing.
    let mut whole = run(&Parts::all());
    whole.merge(run(&os));
    whole.merge(run(&os_checks));
    assert_eq!(json(&whole), json(&full));
}
