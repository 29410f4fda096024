//! The window's live path: `analyze_cached` reuses the propensity model between edits and
//! must give exactly the report `analyze` gives for every spec in a sequence of edits.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use survival_explorer::analysis::explore::{caliper_grid, subgroup_columns};
use survival_explorer::analysis::{
    analyze, analyze_cached, analyze_cancellable, analyze_parts, resolve_endpoints, AnalysisCache,
    AnalysisError, MatchOrder, MatchSpec, Parts, Spec, Subgroup,
};

fn without_timing(r: &survival_explorer::analysis::Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    v.as_object_mut().unwrap().remove("timing");
    v
}

#[test]
fn cached_analyses_equal_fresh_ones_through_a_session_of_edits() {
    let cohort = common::demo_cohort();
    let base = MatchSpec {
        covariates: vec![
            "ecog".into(),
            "albi_grade".into(),
            "prior_io_response".into(),
        ],
        ..MatchSpec::default()
    };
    let with = |f: &dyn Fn(&mut MatchSpec), sub: Vec<Subgroup>| {
        let mut m = base.clone();
        f(&mut m);
        Spec {
            matching: Some(m),
            subgroups: sub,
            caliper_sweep: true,
            ..Spec::default()
        }
    };
    let pd = vec![Subgroup::Levels {
        column: "prior_io_response".into(),
        values: vec!["PD".into()],
    }];
    // A session: drag the caliper, change the order, add a covariate, take a subgroup, go
    // back — each step after the first may reuse the model, or must refit it.
    let session = [
        with(&|_| {}, vec![]),
        with(&|m| m.caliper = 0.05, vec![]),
        with(&|m| m.caliper = 0.5, vec![]),
        with(&|m| m.order = MatchOrder::Smallest, vec![]),
        with(&|m| m.covariates.push("age".into()), vec![]),
        with(&|m| m.covariates.push("age".into()), pd.clone()),
        with(&|m| m.caliper = 0.1, pd.clone()),
        with(&|_| {}, vec![]),
        Spec::default(),
    ];
    let cache = AnalysisCache::default();
    for (k, spec) in session.iter().enumerate() {
        let cached = analyze_cached(&cohort, spec, &cache).unwrap();
        let fresh = analyze(&cohort, spec).unwrap();
        assert_eq!(
            without_timing(&cached),
            without_timing(&fresh),
            "step {k}: the cached analysis differs"
        );
        assert!(cache.has_propensity_model());
    }
}

/// The rule of keeping each endpoint's rows in time order, at a size a test affords (the
/// demo; the rule's size is 500,000 in the default cache, none in the window's): through edits
/// (caliper, subgroup, matching off) with the window's passes (PFS shown, then OS, then the
/// rest), the window's cache keeps the rows of every endpoint and a cache keeping rows only
/// below a tenth of the demo keeps none, and each report equals `analyze`'s.
#[test]
fn a_cache_keeps_endpoint_rows_below_its_size_and_the_live_one_at_any() {
    let cohort = common::demo_cohort();
    let matched = |caliper: f64, subgroups: Vec<Subgroup>| Spec {
        matching: Some(MatchSpec {
            covariates: vec!["ecog".into(), "albi_grade".into()],
            caliper,
            ..MatchSpec::default()
        }),
        subgroups,
        ..Spec::default()
    };
    let ecog01 = vec![Subgroup::Levels {
        column: "ecog".into(),
        values: vec!["0".into(), "1".into()],
    }];
    let session = [
        matched(0.2, vec![]),
        matched(0.1, vec![]),
        matched(0.1, ecog01.clone()),
        Spec {
            subgroups: ecog01,
            ..Spec::default()
        },
    ];
    let n_endpoints = resolve_endpoints(&cohort, &session[0]).unwrap().len();
    assert!(n_endpoints >= 2);
    let small = cohort.n_rows / 10;
    for (cache, keeps) in [
        (AnalysisCache::live(), true),
        (AnalysisCache::keeping_rows_below(small), false),
        (AnalysisCache::one_shot(), false),
    ] {
        for (k, spec) in session.iter().enumerate() {
            let run =
                |parts: &Parts| analyze_parts(&cohort, spec, &cache, parts, &|| false).unwrap();
            let mut report = run(&Parts::endpoint("pfs"));
            let os = Parts::endpoint("os");
            report.merge(run(&os));
            report.merge(run(&os.union(&Parts::endpoint("pfs")).rest()));
            assert_eq!(
                without_timing(&report),
                without_timing(&analyze(&cohort, spec).unwrap()),
                "step {k}, keeping rows: {keeps}"
            );
            let kept = if keeps { n_endpoints } else { 0 };
            assert_eq!(cache.kept_endpoint_rows(), kept, "step {k}");
        }
    }
}

/// The window's worker stops an analysis nobody waits for: `stop` is asked before every step
/// (the propensity fit, the matching, each caliper of the sweep, each part of the report; in
/// each forest plot each covariate, each Cox fit of its interaction test and each level), a
/// stop at any of them ends the analysis with `Cancelled` (never a report with parts missing),
/// and never stopped it gives `analyze`'s report.
#[test]
fn an_analysis_stops_at_whichever_step_it_is_asked_to() {
    let cohort = common::demo_cohort();
    let spec = |forest: bool| Spec {
        matching: Some(MatchSpec {
            covariates: vec!["ecog".into(), "albi_grade".into()],
            ..MatchSpec::default()
        }),
        caliper_sweep: true,
        forest,
        ..Spec::default()
    };
    // The steps an analysis asks about when never told to stop; its report is analyze's.
    let steps_of = |spec: &Spec| {
        let asked = AtomicUsize::new(0);
        let never = || {
            asked.fetch_add(1, Ordering::Relaxed);
            false
        };
        let full = analyze_cancellable(&cohort, spec, &AnalysisCache::default(), &never).unwrap();
        assert_eq!(
            without_timing(&full),
            without_timing(&analyze(&cohort, spec).unwrap())
        );
        asked.load(Ordering::Relaxed)
    };
    let (plain, with_forest) = (spec(false), spec(true));
    let endpoints = resolve_endpoints(&cohort, &plain).unwrap();
    let calipers = caliper_grid(50, plain.matching.as_ref().unwrap().caliper).len();
    // Start, after the fit, after the matching; the calipers; the parts (matching report,
    // each endpoint, response).
    let parts = 1 + endpoints.len() + 1;
    let steps = steps_of(&plain);
    assert_eq!(steps, 3 + calipers + parts, "steps asked");
    // A forest plot adds per endpoint and covariate at least four: the covariate, the
    // interaction test's two fits (every covariate offered here has two levels or more) and
    // at least one level.
    let covariates = subgroup_columns(&cohort, &with_forest, &endpoints).len();
    assert!(covariates > 0);
    let forest_steps = steps_of(&with_forest);
    assert!(
        forest_steps >= steps + 4 * endpoints.len() * covariates,
        "{forest_steps} steps with the forest plots, {steps} without"
    );
    for (spec, steps) in [(plain, steps), (with_forest, forest_steps)] {
        for k in 0..steps {
            let calls = AtomicUsize::new(0);
            let from_k = || calls.fetch_add(1, Ordering::Relaxed) >= k;
            let r = analyze_cancellable(&cohort, &spec, &AnalysisCache::default(), &from_k);
            assert!(
                matches!(r, Err(AnalysisError::Cancelled)),
                "forest {}: stopped at step {k} of {steps}: {:?}",
                spec.forest,
                r.map(|_| "a report")
            );
        }
    }
}
