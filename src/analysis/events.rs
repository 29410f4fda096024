//! Event columns read as 1 (event) / 0 (censored) / missing: 1/0, R's 2/1 when asked, the
//! usual words, or the values the user declared for the column.

use std::borrow::Cow;

use super::{AnalysisError, EventCoding, Spec};
use crate::cohort::{format_number, Cohort, Column, ColumnData};

/// Words read as an event in a text event column (case and surrounding spaces ignored).
pub const EVENT_WORDS: [&str; 15] = [
    "1",
    "true",
    "yes",
    "y",
    "dead",
    "died",
    "death",
    "deceased",
    "event",
    "progressed",
    "progression",
    "relapse",
    "relapsed",
    "recurrence",
    "recurred",
];

/// Words read as censored in a text event column (case and surrounding spaces ignored).
pub const CENSOR_WORDS: [&str; 14] = [
    "0",
    "false",
    "no",
    "n",
    "alive",
    "living",
    "censored",
    "censor",
    "no event",
    "not progressed",
    "no progression",
    "progression-free",
    "lost to follow-up",
    "lost to follow up",
];

/// The event column as 1 (event) / 0 (censored) / NaN (missing). With words declared for
/// the column (`--event-values COLUMN=WORD,…`), those values are events and every other
/// value is censored; otherwise the accepted codes (1/0 or R's 2/1, [`EVENT_WORDS`],
/// [`CENSOR_WORDS`]) and anything else is an error that names the file's column and lists
/// the values found.
pub(super) fn event_values<'a>(
    cohort: &'a Cohort,
    col: &'a Column,
    spec: &Spec,
) -> Result<Cow<'a, [f64]>, AnalysisError> {
    let coding_err = |found: Vec<String>| AnalysisError::EventCoding {
        file: cohort.source.clone(),
        column: described_column(cohort, &col.name),
        found: found.into_iter().take(20).collect::<Vec<_>>().join(", "),
    };
    if let Some(words) = spec.declared_event_values(&col.name) {
        return Ok(Cow::Owned(declared_events(col, words)));
    }
    match &col.data {
        ColumnData::Numeric(v) => {
            let (event, censor) = match spec.event_coding {
                EventCoding::Standard => (1.0, 0.0),
                EventCoding::OneTwo => (2.0, 1.0),
            };
            // A fold, not `any`: without early exit the scan vectorizes.
            let valid = |x: f64| x.is_nan() || x == event || x == censor;
            if !v.iter().fold(true, |ok, &x| ok & valid(x)) {
                let mut found: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                found.sort_by(f64::total_cmp);
                found.dedup();
                return Err(coding_err(found.into_iter().map(format_number).collect()));
            }
            if spec.event_coding == EventCoding::Standard {
                return Ok(Cow::Borrowed(v));
            }
            Ok(Cow::Owned(
                v.iter()
                    .map(|&x| {
                        if x.is_nan() {
                            x
                        } else {
                            f64::from(u8::from(x == event))
                        }
                    })
                    .collect(),
            ))
        }
        ColumnData::Text { codes, levels } => {
            let mapped: Vec<Option<f64>> = levels
                .iter()
                .map(|l| {
                    let l = l.trim().to_lowercase();
                    if EVENT_WORDS.contains(&l.as_str()) {
                        Some(1.0)
                    } else if CENSOR_WORDS.contains(&l.as_str()) {
                        Some(0.0)
                    } else {
                        None
                    }
                })
                .collect();
            if mapped.iter().any(|m| m.is_none()) {
                return Err(coding_err(levels.clone()));
            }
            Ok(Cow::Owned(
                codes
                    .iter()
                    .map(|&c| {
                        mapped
                            .get(c as usize)
                            .copied()
                            .flatten()
                            .unwrap_or(f64::NAN)
                    })
                    .collect(),
            ))
        }
    }
}

/// An event column read with the user's words: a value equal to one of `words` (case and
/// spaces ignored; numbers numerically) is an event, any other value censored.
pub(super) fn declared_events(col: &Column, words: &[String]) -> Vec<f64> {
    let lower: Vec<String> = words.iter().map(|w| w.trim().to_lowercase()).collect();
    match &col.data {
        ColumnData::Numeric(v) => {
            let numbers: Vec<f64> = words
                .iter()
                .filter_map(|w| crate::cohort::parse_number(w))
                .collect();
            v.iter()
                .map(|&x| {
                    if x.is_nan() {
                        x
                    } else {
                        f64::from(u8::from(numbers.contains(&x)))
                    }
                })
                .collect()
        }
        ColumnData::Text { codes, levels } => {
            let is_event: Vec<f64> = levels
                .iter()
                .map(|l| f64::from(u8::from(lower.contains(&l.trim().to_lowercase()))))
                .collect();
            codes
                .iter()
                .map(|&c| is_event.get(c as usize).copied().unwrap_or(f64::NAN))
                .collect()
        }
    }
}

/// A column as the user knows it, quoted: "'vital_status' (read as os_event)", or "'name'".
pub(crate) fn described_column(cohort: &Cohort, name: &str) -> String {
    match cohort.name_as_read(name) {
        read if read != name => format!("'{read}' (read as {name})"),
        _ => format!("'{name}'"),
    }
}
