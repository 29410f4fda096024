//! Selecting the sample: the two arms (levels matched ignoring case and spaces, shown as the
//! file spells them) and the subgroup filter, with the rows left out and why.

use super::{require, AnalysisError, Arm, Exclusion, OrderedMap, Sample, Spec, Subgroup};
use crate::cohort::{format_number, parse_number, Cohort, Column, ColumnData, MISSING};

/// Does the cell in `row` equal `level`? Numbers compare numerically ("1" = "1.0"), texts
/// ignoring case and surrounding spaces ("pd" = "PD"), as arm levels do. `None` when no
/// cell of the column can match.
pub(super) fn value_matcher<'a>(
    col: &'a Column,
    level: &str,
) -> Option<Box<dyn Fn(usize) -> bool + 'a>> {
    match &col.data {
        ColumnData::Numeric(v) => {
            let x = parse_number(level)?;
            v.contains(&x)
                .then(|| Box::new(move |r: usize| v[r] == x) as Box<dyn Fn(usize) -> bool>)
        }
        ColumnData::Text { codes, levels } => {
            let spellings = spellings(levels, level);
            (!spellings.is_empty()).then(|| {
                Box::new(move |r: usize| spellings.contains(&codes[r]))
                    as Box<dyn Fn(usize) -> bool>
            })
        }
    }
}

pub(super) fn subgroup_mask(
    cohort: &Cohort,
    spec: &Spec,
    warnings: &mut Vec<String>,
) -> Result<Vec<bool>, AnalysisError> {
    let mut mask = vec![true; cohort.n_rows];
    for sg in &spec.subgroups {
        let col = require(cohort, sg.column(), "subgroup")?;
        match sg {
            Subgroup::Levels { values, column } => {
                let (matchers, unmatched): (Vec<_>, Vec<_>) = values
                    .iter()
                    .map(|v| (v, value_matcher(col, v)))
                    .partition(|(_, m)| m.is_some());
                let unmatched: Vec<String> =
                    unmatched.iter().map(|(v, _)| format!("'{v}'")).collect();
                if !unmatched.is_empty() {
                    let text = format!(
                        "no row has {} = {}; the values are {}",
                        cohort.name_as_read(column),
                        unmatched.join(" or "),
                        col.distinct().join(", ")
                    );
                    if matchers.is_empty() {
                        return Err(AnalysisError::Subgroup {
                            file: cohort.source.clone(),
                            message: text,
                        });
                    }
                    warnings.push(text);
                }
                let matchers: Vec<_> = matchers.into_iter().filter_map(|(_, m)| m).collect();
                for (r, m) in mask.iter_mut().enumerate() {
                    *m = *m && matchers.iter().any(|f| f(r));
                }
            }
            Subgroup::Range { min, max, column } => {
                let ColumnData::Numeric(v) = &col.data else {
                    return Err(AnalysisError::Spec(format!(
                        "subgroup range on '{column}', which is not a numeric column"
                    )));
                };
                for (r, m) in mask.iter_mut().enumerate() {
                    let x = v[r];
                    let inside =
                        !x.is_nan() && min.is_none_or(|lo| x >= lo) && max.is_none_or(|hi| x <= hi);
                    *m = *m && inside;
                }
            }
        }
    }
    Ok(mask)
}

/// Rows per level of the arm column (every level of the file).
pub(super) fn arm_counts(col: &Column) -> OrderedMap<usize> {
    let mut out = OrderedMap::default();
    match &col.data {
        ColumnData::Text { codes, levels } => {
            let mut n = vec![0usize; levels.len()];
            for &c in codes.iter().filter(|&&c| c != MISSING) {
                n[c as usize] += 1;
            }
            for (l, k) in levels.iter().zip(n) {
                out.insert(l.clone(), k);
            }
        }
        ColumnData::Numeric(v) => {
            let mut xs: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
            xs.sort_by(f64::total_cmp);
            let mut i = 0;
            while i < xs.len() {
                let j = xs[i..].iter().take_while(|&&x| x == xs[i]).count();
                out.insert(format_number(xs[i]), j);
                i += j;
            }
        }
    }
    out
}

/// The codes of a text column's levels that spell `level`, case and spaces ignored.
fn spellings(levels: &[String], level: &str) -> Vec<u32> {
    let want = normalize_level(level);
    levels
        .iter()
        .enumerate()
        .filter(|(_, l)| normalize_level(l) == want)
        .map(|(k, _)| k as u32)
        .collect()
}

/// Case and surrounding spaces ignored ("Lenvatinib " = "lenvatinib").
pub(super) fn normalize_level(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Matches an arm level exactly, or — when no cell matches exactly, or several spellings of
/// the level exist — ignoring case and spaces, with a warning naming the spellings taken.
pub(super) fn arm_matcher<'a>(
    col: &'a Column,
    level: &str,
    warnings: &mut Vec<String>,
) -> Box<dyn Fn(usize) -> bool + 'a> {
    let ColumnData::Text { codes, levels } = &col.data else {
        return value_matcher(col, level).unwrap_or_else(|| Box::new(|_| false));
    };
    let spellings = spellings(levels, level);
    let exact = levels.iter().any(|l| l == level);
    if spellings.len() > 1 || (!exact && !spellings.is_empty()) {
        let names: Vec<String> = spellings
            .iter()
            .map(|&k| format!("'{}'", levels[k as usize]))
            .collect();
        warnings.push(format!(
            "arm levels {} are taken as '{level}' (they differ only in case or spaces)",
            names.join(", ")
        ));
    }
    Box::new(move |r| spellings.contains(&codes[r]))
}

/// The sample inside the subgroup: rows of the treated and control arms, unweighted.
pub fn subgroup_sample(
    cohort: &Cohort,
    spec: &Spec,
) -> Result<(Sample, Vec<Exclusion>), AnalysisError> {
    let (sample, excluded, _) = subgroup_sample_with_warnings(cohort, spec)?;
    Ok((sample, excluded))
}

pub(super) fn subgroup_sample_with_warnings(
    cohort: &Cohort,
    spec: &Spec,
) -> Result<(Sample, Vec<Exclusion>, Vec<String>), AnalysisError> {
    let arm_col = require(cohort, &spec.arm_column, "arm")?;
    let same_number = matches!(
        (parse_number(&spec.treated), parse_number(&spec.control)),
        (Some(a), Some(b)) if a == b
    );
    if normalize_level(&spec.treated) == normalize_level(&spec.control) || same_number {
        return Err(AnalysisError::Spec(format!(
            "treated '{}' and control '{}' are the same arm level",
            spec.treated, spec.control
        )));
    }
    let mut warnings = Vec::new();
    let is_treated = arm_matcher(arm_col, &spec.treated, &mut warnings);
    let is_control = arm_matcher(arm_col, &spec.control, &mut warnings);
    let mask = subgroup_mask(cohort, spec, &mut warnings)?;
    let mut sample = Sample::default();
    let (mut other_arm, mut missing_arm, mut outside) = (0usize, 0usize, 0usize);
    let (mut n_t_all, mut n_c_all) = (0usize, 0usize);
    for (r, &inside) in mask.iter().enumerate() {
        let arm = if is_treated(r) {
            n_t_all += 1;
            Some(Arm::Treated)
        } else if is_control(r) {
            n_c_all += 1;
            Some(Arm::Control)
        } else {
            None
        };
        match (arm, inside) {
            (None, _) => {
                if arm_col.text_at(r).is_none() {
                    missing_arm += 1;
                } else {
                    other_arm += 1;
                }
            }
            (Some(_), false) => outside += 1,
            (Some(a), true) => {
                sample.rows.push(r);
                sample.treated.push(a == Arm::Treated);
            }
        }
    }
    let n = sample.rows.len();
    sample.weight = vec![1.0; n];
    sample.set_id = (0..n as u32).collect();
    let found = arm_col.levels().join(", ");
    let subgroup_text = if spec.subgroups.is_empty() {
        String::new()
    } else {
        format!(
            " inside the subgroup {}",
            spec.subgroups
                .iter()
                .map(Subgroup::describe)
                .collect::<Vec<_>>()
                .join(" and ")
        )
    };
    for (role, level, n_all, is_t) in [
        ("treated", &spec.treated, n_t_all, true),
        ("control", &spec.control, n_c_all, false),
    ] {
        let n_in = sample.treated.iter().filter(|&&t| t == is_t).count();
        if n_all == 0 || n_in == 0 {
            return Err(AnalysisError::ArmLevelMissing {
                file: cohort.source.clone(),
                column: spec.arm_column.clone(),
                role,
                level: level.clone(),
                context: if n_all == 0 {
                    String::new()
                } else {
                    subgroup_text.clone()
                },
                found: if found.is_empty() {
                    "none".to_string()
                } else {
                    found.clone()
                },
            });
        }
    }
    let mut excluded = Vec::new();
    if missing_arm > 0 {
        excluded.push(Exclusion {
            reason: format!("missing value in '{}'", spec.arm_column),
            n: missing_arm,
        });
    }
    if other_arm > 0 {
        excluded.push(Exclusion {
            reason: format!("arm is neither '{}' nor '{}'", spec.treated, spec.control),
            n: other_arm,
        });
    }
    if outside > 0 {
        excluded.push(Exclusion {
            reason: "outside the subgroup".to_string(),
            n: outside,
        });
    }
    Ok((sample, excluded, warnings))
}

pub(super) fn counts_by_arm(spec: &Spec, sample: &Sample) -> OrderedMap<usize> {
    let n_t = sample.treated.iter().filter(|&&t| t).count();
    let mut m = OrderedMap::default();
    m.insert(spec.treated_label(), n_t);
    m.insert(spec.control_label(), sample.rows.len() - n_t);
    m
}
