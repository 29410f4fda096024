//! The window's live path: `analyze_cached` reuses the propensity model between edits and
//! must give exactly the report `analyze` gives for every spec in a sequence of edits.

#[path = "support/common.rs"]
mod common;

use survival_explorer::analysis::{
    analyze, analyze_cached, AnalysisCache, MatchOrder, MatchSpec, Spec, Subgroup,
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
