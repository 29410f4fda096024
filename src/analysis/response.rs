//! Best response to the second-line drug: disease control and objective response rates.

use crate::cohort::{Cohort, ColumnData, MISSING};
use crate::stats::proportion::{clopper_pearson, fisher_exact_two_sided};

use super::{AnalysisError, ArmResponse, OrderedMap, ResponseReport, Sample, Spec};

/// The column read for best response.
pub const RESPONSE_COLUMN: &str = "best_response";

/// RECIST/mRECIST categories in report order.
pub const CATEGORIES: [&str; 5] = ["CR", "PR", "SD", "PD", "NE"];

/// Maps a response text (case-insensitive, short or long form) to its category index.
pub fn response_category(s: &str) -> Option<usize> {
    let norm: String = s
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let k = match norm.as_str() {
        "cr" | "completeresponse" => 0,
        "pr" | "partialresponse" => 1,
        "sd" | "stabledisease" | "stable" => 2,
        "pd" | "progressivedisease" | "progression" => 3,
        "ne" | "notevaluable" | "nonevaluable" | "notassessable" | "unknown" => 4,
        _ => return None,
    };
    Some(k)
}

pub(crate) fn analyze_response(
    cohort: &Cohort,
    spec: &Spec,
    sample: &Sample,
) -> Result<Option<ResponseReport>, AnalysisError> {
    let Some(col) = cohort.column(RESPONSE_COLUMN) else {
        return Ok(None);
    };
    // Category per row: Some(k), or None when missing.
    let category: Box<dyn Fn(usize) -> Option<usize>> = match &col.data {
        ColumnData::Text { codes, levels } => {
            let mapped: Vec<Option<usize>> = levels.iter().map(|l| response_category(l)).collect();
            if let Some(bad) = levels.iter().zip(&mapped).find(|(_, m)| m.is_none()) {
                let row = codes
                    .iter()
                    .position(|&c| c != MISSING && levels[c as usize] == *bad.0)
                    .map_or(0, |r| r + 1);
                return Err(AnalysisError::BadValue {
                    file: cohort.source.clone(),
                    column: col.name.clone(),
                    row,
                    value: bad.0.clone(),
                    expected: format!("a response category ({})", CATEGORIES.join("/")),
                });
            }
            Box::new(move |r| {
                codes
                    .get(r)
                    .and_then(|&c| mapped.get(c as usize).copied().flatten())
            })
        }
        ColumnData::Numeric(v) => {
            if let Some(r) = v.iter().position(|x| !x.is_nan()) {
                return Err(AnalysisError::BadValue {
                    file: cohort.source.clone(),
                    column: col.name.clone(),
                    row: cohort.row_number(r),
                    value: crate::cohort::format_number(v[r]),
                    expected: format!("a response category ({})", CATEGORIES.join("/")),
                });
            }
            Box::new(|_| None)
        }
    };
    let mut counts = [[0.0f64; 5]; 2];
    let mut missing = [0.0f64; 2];
    let mut total = [0.0f64; 2];
    for (k, &r) in sample.rows.iter().enumerate() {
        let a = if sample.treated[k] { 0 } else { 1 };
        let w = sample.weight[k];
        total[a] += w;
        match category(r) {
            Some(c) => counts[a][c] += w,
            None => missing[a] += w,
        }
    }
    let weighted = sample.weighted;
    let arm = |a: usize| -> ArmResponse {
        let c = counts[a];
        let evaluable = c[0] + c[1] + c[2] + c[3];
        let dc = c[0] + c[1] + c[2];
        let or = c[0] + c[1];
        let ci = |x: f64| -> [f64; 2] {
            if weighted {
                return [f64::NAN, f64::NAN];
            }
            let p = clopper_pearson(x as u64, evaluable as u64, spec.conf_level);
            [p.lower, p.upper]
        };
        let mut cm = OrderedMap::default();
        for (name, v) in CATEGORIES.iter().zip(c) {
            cm.insert(name.to_string(), v);
        }
        ArmResponse {
            n: total[a],
            n_evaluable: evaluable,
            n_not_evaluable: c[4],
            n_missing: missing[a],
            counts: cm,
            dcr: if evaluable > 0.0 {
                dc / evaluable
            } else {
                f64::NAN
            },
            dcr_ci: ci(dc),
            orr: if evaluable > 0.0 {
                or / evaluable
            } else {
                f64::NAN
            },
            orr_ci: ci(or),
        }
    };
    let (t, c) = (arm(0), arm(1));
    let fisher = |num_t: f64, num_c: f64| -> f64 {
        if weighted {
            return f64::NAN;
        }
        let (et, ec) = (t.n_evaluable as u64, c.n_evaluable as u64);
        let (xt, xc) = (num_t as u64, num_c as u64);
        fisher_exact_two_sided(xt, et - xt, xc, ec - xc)
    };
    let cc = counts;
    let dcr_p = fisher(
        cc[0][0] + cc[0][1] + cc[0][2],
        cc[1][0] + cc[1][1] + cc[1][2],
    );
    let orr_p = fisher(cc[0][0] + cc[0][1], cc[1][0] + cc[1][1]);
    let mut arms = OrderedMap::default();
    arms.insert(spec.treated_label(), t);
    arms.insert(spec.control_label(), c);
    Ok(Some(ResponseReport {
        column: col.name.clone(),
        arms,
        dcr_p_value: dcr_p,
        orr_p_value: orr_p,
        test: "Fisher's exact test, two-sided",
        not_available: weighted.then(|| {
            "Fisher's test and exact CIs are not defined for weighted samples (matching weights with ratio > 1 or replacement, or IPTW weights): the weighted rates are shown without them"
                .to_string()
        }),
    }))
}
