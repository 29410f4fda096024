//! The LEVIATHAN figures the demo cohort must land near (issue: "LEVIATHAN in a box"), and
//! the real pipeline's values for a cohort. Published: median PFS 5.5 vs 2.6 (HR 0.41), OS 11.9
//! vs 7.4 (HR 0.67), OS from start of A+B 22.4 vs 14.3 (HR 0.54), DCR in primary resistance
//! 58% vs 29%; after matching, OS from start of A+B 19.6 vs 13.9 (HR 0.67); in the
//! multivariable OS model, lenvatinib, AFP, NLR and portal vein thrombosis independent
//! predictors (p < 0.05).
#![allow(dead_code)]

use survival_explorer::analysis::{analyze, MatchSpec, Spec, Subgroup};
use survival_explorer::cohort::read_csv_bytes;

pub struct Figures {
    pub values: Vec<(String, f64)>,
    /// p-values of the multivariable OS model's terms that must be < 0.05.
    pub adjusted_p: Vec<(String, f64)>,
    pub smd_before_max: f64,
    pub smd_after_max: f64,
}

impl Figures {
    pub fn get(&self, k: &str) -> f64 {
        self.values
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| *v)
            .unwrap_or(f64::NAN)
    }

    /// Sum of relative distances to the published medians and HRs (smaller = closer).
    pub fn score(&self) -> f64 {
        TARGETS
            .iter()
            .map(|(k, want, _)| ((self.get(k) - want) / want).abs())
            .sum()
    }
}

/// (figure, published value, tolerance kind): 'm' = median ±15%, 'h' = HR ±0.08, 'd' = ±8 points.
pub const TARGETS: [(&str, f64, char); 14] = [
    ("pfs median lenvatinib", 5.5, 'm'),
    ("pfs median sorafenib", 2.6, 'm'),
    ("pfs hr", 0.41, 'h'),
    ("os median lenvatinib", 11.9, 'm'),
    ("os median sorafenib", 7.4, 'm'),
    ("os hr", 0.67, 'h'),
    ("seq_os median lenvatinib", 22.4, 'm'),
    ("seq_os median sorafenib", 14.3, 'm'),
    ("seq_os hr", 0.54, 'h'),
    ("pd dcr lenvatinib", 0.58, 'd'),
    ("pd dcr sorafenib", 0.29, 'd'),
    ("matched seq_os median lenvatinib", 19.6, 'm'),
    ("matched seq_os median sorafenib", 13.9, 'm'),
    ("matched seq_os hr", 0.67, 'h'),
];

/// The multivariable OS model of the study (issue #21).
pub const ADJUST: [&str; 6] = [
    "ecog",
    "albi_grade",
    "prior_io_response",
    "afp_ge_400",
    "nlr",
    "pvt",
];

/// Its terms that must be independent predictors (p < 0.05), as the study found.
pub const PREDICTORS: [&str; 4] = ["armlenvatinib", "afp_ge_400", "nlr", "pvt"];

/// The demo's figures through the real pipeline (`analyze`), as the CLI computes them.
pub fn figures(csv: &str) -> Figures {
    let c = read_csv_bytes("demo", csv.as_bytes().to_vec()).unwrap();
    let mut values = Vec::new();
    let base = analyze(&c, &Spec::default()).unwrap();
    for ep in ["pfs", "os", "seq_os"] {
        let e = base.endpoints.get(ep).unwrap();
        for arm in ["lenvatinib", "sorafenib"] {
            values.push((
                format!("{ep} median {arm}"),
                e.arms.get(arm).unwrap().median,
            ));
        }
        values.push((format!("{ep} hr"), e.cox.hr));
    }
    let pd_spec = Spec {
        subgroups: vec![Subgroup::Levels {
            column: "prior_io_response".into(),
            values: vec!["PD".into()],
        }],
        ..Spec::default()
    };
    let r = analyze(&c, &pd_spec).unwrap().response.unwrap();
    for arm in ["lenvatinib", "sorafenib"] {
        values.push((format!("pd dcr {arm}"), r.arms.get(arm).unwrap().dcr));
    }
    let matched = analyze(
        &c,
        &Spec {
            matching: Some(MatchSpec::default()),
            ..Spec::default()
        },
    )
    .unwrap();
    let e = matched.endpoints.get("seq_os").unwrap();
    for arm in ["lenvatinib", "sorafenib"] {
        values.push((
            format!("matched seq_os median {arm}"),
            e.arms.get(arm).unwrap().median,
        ));
    }
    values.push(("matched seq_os hr".into(), e.cox.hr));
    let m = matched.matching.unwrap();
    let covs = m.balance.iter().filter(|b| b.covariate != "distance");
    let (mut before, mut after) = (0.0f64, 0.0f64);
    for b in covs {
        before = before.max(b.smd_before.abs());
        after = after.max(b.smd_after.abs());
        values.push((format!("smd {} before", b.covariate), b.smd_before));
        values.push((format!("smd {} after", b.covariate), b.smd_after));
    }
    let adjusted = analyze(
        &c,
        &Spec {
            adjust: ADJUST.iter().map(|s| s.to_string()).collect(),
            ..Spec::default()
        },
    )
    .unwrap();
    let model = adjusted
        .endpoints
        .get("os")
        .unwrap()
        .cox_adjusted
        .clone()
        .unwrap();
    let adjusted_p = PREDICTORS
        .iter()
        .map(|term| {
            let p = model
                .terms
                .iter()
                .find(|t| t.term == *term)
                .map_or(f64::NAN, |t| t.p_value);
            (term.to_string(), p)
        })
        .collect();
    Figures {
        values,
        adjusted_p,
        smd_before_max: before,
        smd_after_max: after,
    }
}

/// The targets a cohort misses (empty = all met).
pub fn check(f: &Figures) -> Vec<String> {
    let mut misses = Vec::new();
    for (k, want, kind) in TARGETS {
        let got = f.get(k);
        let ok = match kind {
            'm' => (got - want).abs() <= 0.15 * want,
            'h' => (got - want).abs() <= 0.08,
            _ => (got - want).abs() <= 0.08,
        };
        if !ok {
            misses.push(format!("{k}: {got:.3} (published {want})"));
        }
    }
    if f.smd_before_max <= 0.1 {
        misses.push(format!(
            "no covariate has |SMD| > 0.1 before matching ({:.3})",
            f.smd_before_max
        ));
    }
    for (term, p) in &f.adjusted_p {
        if p.is_nan() || *p >= 0.05 {
            misses.push(format!(
                "multivariable OS model: {term} p = {p:.3} (want < 0.05)"
            ));
        }
    }
    if f.smd_after_max >= 0.1 {
        misses.push(format!(
            "a covariate has |SMD| ≥ 0.1 after matching ({:.3})",
            f.smd_after_max
        ));
    }
    misses
}
