//! Typing a column from its cells: numbers when every non-missing cell is one, else text
//! with sorted levels; what counts as missing; numbers as files write them.

use super::{CohortError, Column, ColumnData, MISSING, MISSING_CODES};

/// A number as a person would write it: integers without a decimal point.
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// True when the trimmed cell text means "missing".
pub fn is_missing_code(s: &str) -> bool {
    MISSING_CODES.contains(&s)
}

impl Column {
    pub fn new(name: String, data: ColumnData) -> Column {
        Column {
            name,
            data,
            levels: std::sync::OnceLock::new(),
            identifier_like: std::sync::OnceLock::new(),
        }
    }

    /// The value in `row` as text (numbers formatted), `None` when missing.
    pub fn text_at(&self, row: usize) -> Option<String> {
        match &self.data {
            ColumnData::Numeric(v) => {
                let x = *v.get(row)?;
                (!x.is_nan()).then(|| format_number(x))
            }
            ColumnData::Text { codes, levels } => {
                let c = *codes.get(row)?;
                levels.get(c as usize).cloned()
            }
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self.data, ColumnData::Numeric(_))
    }

    /// Distinct non-missing values, sorted (numbers numerically), as text.
    pub fn levels(&self) -> Vec<String> {
        self.distinct().to_vec()
    }

    /// [`Column::levels`] without a copy; computed once per column.
    pub fn distinct(&self) -> &[String] {
        match &self.data {
            ColumnData::Numeric(v) => self.levels.get_or_init(|| {
                let mut xs: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                xs.sort_by(f64::total_cmp);
                xs.dedup();
                xs.into_iter().map(format_number).collect()
            }),
            ColumnData::Text { levels, .. } => levels,
        }
    }

    /// Number of distinct non-missing values.
    pub fn n_distinct(&self) -> usize {
        self.distinct().len()
    }

    /// True for a column of identifiers: more than 10 values, whole numbers (or text), every
    /// one different. Computed on first use (the window's filters ask every frame).
    pub fn is_identifier_like(&self) -> bool {
        *self.identifier_like.get_or_init(|| {
            let (n_values, integers) = match &self.data {
                ColumnData::Numeric(v) => (
                    v.iter().filter(|x| !x.is_nan()).count(),
                    v.iter().all(|x| x.is_nan() || x.fract() == 0.0),
                ),
                ColumnData::Text { codes, .. } => {
                    (codes.iter().filter(|&&c| c != MISSING).count(), true)
                }
            };
            n_values > 10 && integers && self.n_distinct() == n_values
        })
    }
}

/// The header's names, checked: an empty name becomes `column_K` (with a warning), a name
/// that appears twice is an error.
pub(crate) fn column_names(
    file: &str,
    names: Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<String>, CohortError> {
    let mut seen = std::collections::HashSet::new();
    names
        .into_iter()
        .enumerate()
        .map(|(k, name)| {
            let mut name = name.trim().to_string();
            if name.is_empty() {
                name = format!("column_{}", k + 1);
                warnings.push(format!("column {} has no name; called it '{name}'", k + 1));
            }
            if !seen.insert(name.clone()) {
                return Err(CohortError::DuplicateColumn {
                    file: file.to_string(),
                    column: name,
                });
            }
            Ok(name)
        })
        .collect()
}

/// Builds a typed column from cell texts: numeric when every non-missing cell parses as a
/// number, text otherwise.
pub fn build_column(name: String, cells: &[Option<&str>]) -> Column {
    build_column_with(name, cells, false)
}

/// [`build_column`], reading "3,5" as 3.5 when `decimal_comma`.
pub fn build_column_with(name: String, cells: &[Option<&str>], decimal_comma: bool) -> Column {
    let mut numbers = Vec::with_capacity(cells.len());
    for cell in cells {
        match cell.map(str::trim) {
            None => numbers.push(f64::NAN),
            Some(s) if is_missing_code(s) => numbers.push(f64::NAN),
            Some(s) => match parse_cell(s, decimal_comma) {
                Some(v) => numbers.push(v),
                None => return text_column(name, cells),
            },
        }
    }
    Column::new(name, ColumnData::Numeric(numbers))
}

/// A trimmed cell that is not a missing code as a number; "3,5" is 3.5 when `decimal_comma`.
pub(crate) fn parse_cell(s: &str, decimal_comma: bool) -> Option<f64> {
    if !(decimal_comma && s.contains(',')) {
        return parse_trimmed_number(s);
    }
    // The first comma made a point, without allocating for the usual short number.
    let mut buf = [0u8; 32];
    let bytes = s.as_bytes();
    let comma = bytes.iter().position(|&b| b == b',')?;
    if bytes.len() > buf.len() {
        return parse_trimmed_number(&s.replacen(',', ".", 1));
    }
    let buf = &mut buf[..bytes.len()];
    buf.copy_from_slice(bytes);
    buf[comma] = b'.';
    parse_trimmed_number(std::str::from_utf8(buf).ok()?)
}

/// A text column: the cells (trimmed; missing codes missing) coded into their sorted levels.
fn text_column(name: String, cells: &[Option<&str>]) -> Column {
    // Distinct texts in order of first appearance (no copies), then sorted into levels. A
    // few levels (arms, grades, responses) are found by comparing with each; a hash map
    // takes over past 16.
    const FEW: usize = 16;
    let mut index: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    let mut seen: Vec<&str> = Vec::new();
    let first_codes: Vec<u32> = cells
        .iter()
        .map(|c| match c.map(str::trim) {
            Some(s) if !is_missing_code(s) => {
                if seen.len() <= FEW {
                    if let Some(k) = seen.iter().position(|&t| t == s) {
                        return k as u32;
                    }
                    if seen.len() == FEW {
                        index.extend(seen.iter().enumerate().map(|(k, &t)| (t, k as u32)));
                    }
                }
                if seen.len() < FEW {
                    seen.push(s);
                    return (seen.len() - 1) as u32;
                }
                *index.entry(s).or_insert_with(|| {
                    seen.push(s);
                    (seen.len() - 1) as u32
                })
            }
            _ => MISSING,
        })
        .collect();
    let mut by_text: Vec<u32> = (0..seen.len() as u32).collect();
    by_text.sort_unstable_by(|&a, &b| seen[a as usize].cmp(seen[b as usize]));
    let mut rank = vec![0u32; seen.len()];
    for (r, &k) in by_text.iter().enumerate() {
        rank[k as usize] = r as u32;
    }
    let levels: Vec<String> = by_text
        .iter()
        .map(|&k| seen[k as usize].to_string())
        .collect();
    let codes = first_codes
        .iter()
        .map(|&k| {
            if k == MISSING {
                MISSING
            } else {
                rank[k as usize]
            }
        })
        .collect();
    Column::new(name, ColumnData::Text { codes, levels })
}

/// Parses a number as written in a data file ("12", "-3.5", "1e3", "Inf"); `None` if not one.
pub fn parse_number(s: &str) -> Option<f64> {
    parse_trimmed_number(s.trim())
}

pub(super) fn parse_trimmed_number(s: &str) -> Option<f64> {
    if let Some(v) = short_decimal(s.as_bytes()) {
        return Some(v);
    }
    let first = s.as_bytes().first()?;
    // Rust's parser also takes "infinity" and "nan"; accept only what data files use.
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) && s != "Inf" {
        return None;
    }
    match s {
        "Inf" | "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => {
            let v: f64 = s.parse().ok()?;
            (!v.is_nan()).then_some(v)
        }
    }
}

/// A number written `[+-]digits[.digits]` with at most 15 digits, as Rust's parser reads it,
/// only faster: the digits make an integer below 2^53 and the point a power of ten up to
/// 10^15, both exact, so their quotient is the correctly rounded value (Clinger 1990's fast
/// path, which Rust's parser also takes first). `None` for anything else.
pub(crate) fn short_decimal(s: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mut mantissa, mut n_digits, mut point) = (0u64, 0usize, None);
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                n_digits += 1;
                if n_digits > 15 {
                    return None;
                }
            }
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    if n_digits == 0 {
        return None;
    }
    let scale = point.map_or(0, |p| digits.len() - p - 1);
    let v = mantissa as f64 / *POW10.get(scale)?;
    Some(if negative { -v } else { v })
}
