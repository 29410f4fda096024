//! The columns typed once, from the records' fields: each stretch of records tries every
//! column as numbers, side by side (rayon), writing straight into the column; a column some
//! stretch cannot read as numbers is text, coded by each stretch side by side and merged
//! (the text columns side by side).
//! The rules are [`crate::cohort::build_column_with`]'s (numbers, missing codes, decimal
//! commas, sorted levels), so a CSV cell means what the same cell means in a workbook.

use std::collections::HashMap;

use rayon::prelude::*;

use super::records::Fields;
use crate::cohort::column::{parse_cell, short_decimal};
use crate::cohort::{is_missing_code, Column, ColumnData, MISSING, MISSING_CODES};

/// What a stretch made of a column.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Numbers,
    /// Numbers, some only when read with a decimal comma ("3,5").
    NumbersWithCommas,
    Text,
}

/// A field's text; the text is UTF-8 and fields are cut at ASCII bytes, so this never fails
/// (an empty cell if it ever did).
fn cell(field: &[u8]) -> &str {
    std::str::from_utf8(field).unwrap_or_default()
}

/// Records typed a block at a time: the block's field ends and text stay in the core's cache
/// while each column reads them (a column at a time over a whole stretch read the stretch's
/// field ends and text, 13 MB at 100,000 rows, once per column).
const BLOCK: usize = 2048;

/// The blocks of `n` records.
fn blocks(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n).step_by(BLOCK).map(move |lo| lo..(lo + BLOCK).min(n))
}

/// Reads column `column` of a stretch's `records` as numbers into `out` (one slot per
/// record), missing cells as NaN.
fn numbers_of(
    fields: &Fields,
    column: usize,
    width: usize,
    records: std::ops::Range<usize>,
    out: &mut [f64],
) -> Outcome {
    let mut outcome = Outcome::Numbers;
    for (record, slot) in records.zip(out.iter_mut()) {
        let field = fields.field(record, column, width);
        // Most cells: a plain decimal, read off the bytes (what the rules below give it).
        if let Some(v) = short_decimal(field.trim_ascii()) {
            *slot = v;
            continue;
        }
        let s = cell(field).trim();
        *slot = if is_missing_code(s) {
            f64::NAN
        } else if let Some(v) = parse_cell(s, false) {
            v
        } else if let Some(v) = s.contains(',').then(|| parse_cell(s, true)).flatten() {
            outcome = Outcome::NumbersWithCommas;
            v
        } else {
            return Outcome::Text;
        };
    }
    outcome
}

/// Every column of a stretch read as numbers into `part` (one slice per column), block by
/// block; a column stops being read at its first cell that is not a number.
fn numbers_of_stretch(fields: &Fields, width: usize, mut part: Vec<&mut [f64]>) -> Vec<Outcome> {
    let mut outcomes = vec![Outcome::Numbers; width];
    for records in blocks(fields.n_records) {
        for (c, out) in part.iter_mut().enumerate() {
            if outcomes[c] == Outcome::Text {
                continue;
            }
            let block = &mut out[records.clone()];
            match numbers_of(fields, c, width, records.clone(), block) {
                Outcome::Numbers => {}
                // Text, or numbers with decimal commas (which later numbers do not undo).
                seen => outcomes[c] = seen,
            }
        }
    }
    outcomes
}

/// One stretch's cells of a text column: its distinct texts (trimmed) in order of first
/// appearance, and each row's index among them ([`MISSING`] when missing).
struct Local<'a> {
    seen: Vec<&'a [u8]>,
    codes: Vec<u32>,
}

/// A cell's text without the spaces around it (as `str::trim`).
fn trimmed(field: &[u8]) -> &[u8] {
    let t = field.trim_ascii();
    // Vertical tab and Unicode spaces are spaces to `str::trim`, not to `trim_ascii`.
    match (t.first(), t.last()) {
        (Some(&a), Some(&z)) if a >= 0x80 || z >= 0x80 || a == 0x0B || z == 0x0B => {
            cell(field).trim().as_bytes()
        }
        _ => t,
    }
}

fn code_columns<'a>(fields: &'a Fields, columns: &[usize], width: usize) -> Vec<Local<'a>> {
    let mut coders: Vec<Coder> = columns.iter().map(|_| Coder::default()).collect();
    let mut codes: Vec<Vec<u32>> = columns
        .iter()
        .map(|_| Vec::with_capacity(fields.n_records))
        .collect();
    for records in blocks(fields.n_records) {
        for ((coder, out), &c) in coders.iter_mut().zip(&mut codes).zip(columns) {
            out.extend(
                records
                    .clone()
                    .map(|r| coder.code(trimmed(fields.field(r, c, width)))),
            );
        }
    }
    coders
        .into_iter()
        .zip(codes)
        .map(|(coder, codes)| Local {
            seen: coder.seen,
            codes,
        })
        .collect()
}

/// A text's first 8 bytes as a number (zeros past its end): texts of equal length up to 8
/// bytes are equal when their prefixes are, with no call to compare memory.
#[inline]
fn prefix(s: &[u8]) -> u64 {
    match s.first_chunk::<8>() {
        Some(b) => u64::from_le_bytes(*b),
        None => s.iter().rev().fold(0, |v, &b| v << 8 | u64::from(b)),
    }
}

/// Codes a stretch's cells of one text column by their first appearance.
#[derive(Default)]
struct Coder<'a> {
    index: HashMap<&'a [u8], u32>,
    seen: Vec<&'a [u8]>,
    prefixes: Vec<u64>,
}

impl<'a> Coder<'a> {
    /// A few texts (arms, grades, responses) are found by comparing with each (prefix and
    /// length first); a hash map takes over past this many.
    const FEW: usize = 16;

    /// The code of trimmed text `s`: its index among the texts seen, or [`MISSING`].
    #[inline]
    fn code(&mut self, s: &'a [u8]) -> u32 {
        // The texts seen never include a missing code, so most cells are found among them
        // before the missing codes are compared.
        let missing = |s: &[u8]| MISSING_CODES.iter().any(|m| m.as_bytes() == s);
        let seen = &mut self.seen;
        if seen.len() <= Self::FEW {
            let p = prefix(s);
            // Every text seen is compared and the first equal in prefix and length kept,
            // without stopping there: which of a few texts a cell holds (an arm, a
            // response) is as good as random, so a search that stops where it finds it
            // mispredicts where that is (five text columns of 100,000 rows coded on one
            // core: 6.9 → 5.0 ms). Texts equal so far but longer than 8 bytes are compared
            // whole, by the search below when they differ.
            let mut found = usize::MAX;
            for (k, (&t, &q)) in seen.iter().zip(&self.prefixes).enumerate().rev() {
                let hit = (q == p) & (t.len() == s.len());
                found = if hit { k } else { found };
            }
            if found != usize::MAX && (s.len() <= 8 || seen[found][8..] == s[8..]) {
                return found as u32;
            }
            let same = |(&t, &q): (&&[u8], &u64)| {
                q == p && t.len() == s.len() && (s.len() <= 8 || t[8..] == s[8..])
            };
            if let Some(k) = seen.iter().zip(&self.prefixes).position(same) {
                return k as u32;
            }
            if missing(s) {
                return MISSING;
            }
            if seen.len() == Self::FEW {
                self.index
                    .extend(seen.iter().enumerate().map(|(k, &t)| (t, k as u32)));
            }
        } else if let Some(&k) = self.index.get(s) {
            return k;
        } else if missing(s) {
            return MISSING;
        }
        if seen.len() < Self::FEW {
            seen.push(s);
            self.prefixes.push(prefix(s));
            return (seen.len() - 1) as u32;
        }
        *self.index.entry(s).or_insert_with(|| {
            seen.push(s);
            (seen.len() - 1) as u32
        })
    }
}

/// A text column from its stretches' codes: the distinct texts sorted into levels (byte
/// order, which is `str` order), each row coded by its text's level.
fn merge_text(name: String, parts: &[&Local], n_rows: usize) -> Column {
    let mut index: HashMap<&[u8], u32> = HashMap::new();
    let mut distinct: Vec<&[u8]> = Vec::new();
    let to_distinct: Vec<Vec<u32>> = parts
        .iter()
        .map(|part| {
            part.seen
                .iter()
                .map(|&s| {
                    *index.entry(s).or_insert_with(|| {
                        distinct.push(s);
                        (distinct.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();
    let mut by_text: Vec<u32> = (0..distinct.len() as u32).collect();
    by_text.sort_unstable_by(|&a, &b| distinct[a as usize].cmp(distinct[b as usize]));
    let mut rank = vec![0u32; distinct.len()];
    for (r, &k) in by_text.iter().enumerate() {
        rank[k as usize] = r as u32;
    }
    let levels: Vec<String> = by_text
        .iter()
        .map(|&k| String::from_utf8_lossy(distinct[k as usize]).into_owned())
        .collect();
    let mut codes = Vec::with_capacity(n_rows);
    for (part, to_distinct) in parts.iter().zip(&to_distinct) {
        let level: Vec<u32> = to_distinct.iter().map(|&d| rank[d as usize]).collect();
        codes.extend(part.codes.iter().map(|&k| {
            if k == MISSING {
                MISSING
            } else {
                level[k as usize]
            }
        }));
    }
    Column::new(name, ColumnData::Text { codes, levels })
}

/// Types the columns of the records in `stretches` (in text order, `width` fields each).
pub(super) fn type_columns(
    names: Vec<String>,
    stretches: &[Fields],
    decimal_comma: bool,
) -> Vec<Column> {
    let width = names.len();
    let n_rows: usize = stretches.iter().map(|s| s.n_records).sum();
    let mut numbers: Vec<Vec<f64>> = (0..width).map(|_| vec![0.0; n_rows]).collect();
    // Each stretch's rows of every column, to be written by that stretch's task.
    let mut parts: Vec<Vec<&mut [f64]>> = stretches
        .iter()
        .map(|_| Vec::with_capacity(width))
        .collect();
    for column in numbers.iter_mut() {
        let mut rest = column.as_mut_slice();
        for (part, stretch) in parts.iter_mut().zip(stretches) {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(stretch.n_records);
            part.push(head);
            rest = tail;
        }
    }
    let type_stretch =
        |(stretch, part): (&Fields, Vec<&mut [f64]>)| numbers_of_stretch(stretch, width, part);
    let outcomes: Vec<Vec<Outcome>> = if stretches.len() > 1 {
        stretches.par_iter().zip(parts).map(type_stretch).collect()
    } else {
        stretches.iter().zip(parts).map(type_stretch).collect()
    };
    let numeric: Vec<bool> = (0..width)
        .map(|c| {
            outcomes.iter().all(|o| match o[c] {
                Outcome::Numbers => true,
                Outcome::NumbersWithCommas => decimal_comma,
                Outcome::Text => false,
            })
        })
        .collect();
    let mut columns: Vec<Option<Column>> = (0..width).map(|_| None).collect();
    let mut text = Vec::new();
    for ((c, name), values) in names.into_iter().enumerate().zip(numbers) {
        if numeric[c] {
            columns[c] = Some(Column::new(name, ColumnData::Numeric(values)));
        } else {
            text.push((c, name));
        }
    }
    // Text columns: each stretch codes its cells by their first appearance in it (side by
    // side), then the stretches' texts are merged and sorted into the levels.
    let text_columns: Vec<usize> = text.iter().map(|&(c, _)| c).collect();
    let code_stretch = |stretch| code_columns(stretch, &text_columns, width);
    let locals: Vec<Vec<Local>> = if stretches.len() > 1 {
        stretches.par_iter().map(code_stretch).collect()
    } else {
        stretches.iter().map(code_stretch).collect()
    };
    let merge = |(k, (c, name)): (usize, (usize, String))| {
        let parts: Vec<&Local> = locals.iter().map(|l| &l[k]).collect();
        (c, merge_text(name, &parts, n_rows))
    };
    let merged: Vec<(usize, Column)> = if stretches.len() > 1 {
        text.into_par_iter().enumerate().map(merge).collect()
    } else {
        text.into_iter().enumerate().map(merge).collect()
    };
    for (c, column) in merged {
        columns[c] = Some(column);
    }
    columns.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A coder's codes are each text's index in order of first appearance, missing codes
    /// excepted: texts alike in their first 8 bytes and length, short texts, and more texts
    /// than it compares one by one.
    #[test]
    fn coder_codes_texts_by_first_appearance() {
        let pool: Vec<String> = [
            "treatment_a",
            "treatment_b",
            "treatment_ab",
            "treatmen",
            "lenvatinib",
            "sorafenib",
            "PR",
            "SD",
            "P",
            "",
            "NA",
            ".",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain((0..30).map(|k| format!("level{k:02}")))
        .collect();
        let mut rng = crate::rng::SplitMix64::new(17);
        for case in 0..200 {
            // Few texts (compared one by one) or many (the hash map takes over).
            let kinds = if case % 2 == 0 { 12 } else { pool.len() };
            let cells: Vec<&[u8]> = (0..300)
                .map(|_| pool[rng.below(kinds)].as_bytes())
                .collect();
            let mut coder = Coder::default();
            let got: Vec<u32> = cells.iter().map(|s| coder.code(s)).collect();
            let mut first: Vec<&[u8]> = Vec::new();
            for (cell, code) in cells.iter().zip(&got) {
                if MISSING_CODES.iter().any(|m| m.as_bytes() == *cell) {
                    assert_eq!(*code, MISSING, "case {case}");
                    continue;
                }
                let k = first.iter().position(|t| t == cell).unwrap_or_else(|| {
                    first.push(cell);
                    first.len() - 1
                });
                assert_eq!(
                    *code as usize,
                    k,
                    "case {case}: {:?}",
                    String::from_utf8_lossy(cell)
                );
            }
            assert_eq!(coder.seen, first);
        }
    }
}
