//! CSV bytes → [`Cohort`], in one pass over the text and one typing of each column.
//!
//! The text is decoded and sniffed first ([`sniff`]: encoding, title lines, separator); the
//! csv crate's tokenizer then reads the records ([`records`], stretches of the text side by
//! side), checking each against the header with its line number; and the columns are typed
//! once from the fields ([`typing`]: numbers or text, decimal commas). Every failure is a
//! one-line message naming the file, the line and what was expected.

mod plain;
mod records;
mod sniff;
mod typing;

use records::{read_records, unclosed_quote, Problem, Records};
use sniff::{decode, guess_separator, is_decimal_comma_number, sep_name, title_lines, Text};

use super::{column_names, Cohort, CohortError};

/// A header name as written: spaces trimmed, and the quotes of a quoted name written after a
/// space (` "Age"`) removed.
fn header_name(field: &[u8]) -> String {
    let name = String::from_utf8_lossy(field);
    let name = name.trim();
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\"").trim().to_string(),
        None => name.to_string(),
    }
}

/// The line (from 1) of byte `at` of the text.
fn line_of(text: &[u8], at: usize) -> usize {
    1 + text[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// What is wrong with the records, with the line it starts on.
fn problem_message(problem: Problem, text: &[u8], width: usize, separator: u8) -> String {
    match problem {
        Problem::Ragged { at, fields } => format!(
            "line {}: {fields} fields, but the header has {width} ({} separated); is a separator or a quote missing?",
            line_of(text, at),
            sep_name(separator)
        ),
        Problem::Unterminated { at } => format!(
            "line {}: a quoted field is never closed (unterminated quote)",
            line_of(text, at)
        ),
        Problem::TooLong { at } => format!("line {}: a record longer than 4 GiB", line_of(text, at)),
    }
}

/// Parses CSV bytes (header row; comma, semicolon or tab separated, detected) into a cohort.
/// `file` names the source in messages.
pub fn read_csv_bytes(file: &str, bytes: Vec<u8>) -> Result<Cohort, CohortError> {
    let fail = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    let empty = || CohortError::Empty {
        file: file.to_string(),
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(empty());
    }
    let mut warnings = Vec::new();
    let Text {
        text,
        start,
        latin1,
    } = decode(file, bytes, &mut warnings)?;
    // Classic Mac line ends (a lone '\r', as Excel for Mac's "CSV (Macintosh)" writes them).
    let text = if !text.contains('\n') && text.contains('\r') {
        text.replace('\r', "\n")
    } else {
        text
    };
    let n_title = title_lines(&text[start..]);
    let header_at = if n_title > 0 {
        warnings.push(format!(
            "{n_title} line(s) above the header skipped (a title)"
        ));
        text[start..]
            .match_indices('\n')
            .nth(n_title - 1)
            .map_or(text.len(), |(k, _)| start + k + 1)
    } else {
        start
    };
    let header_line = text[header_at..].lines().next().unwrap_or_default();
    let separator = guess_separator(header_line);
    let text = text.as_bytes();

    // The header: the first record.
    let (mut out, mut used) = (Vec::new(), 0);
    let mut header = Records::new(text, header_at, separator);
    let Some(n) = header.next(&mut out, &mut used) else {
        return Err(empty());
    };
    let fields: Vec<&[u8]> = header
        .ends(n)
        .iter()
        .scan(0, |from, &end| {
            let field = &out[*from..end];
            *from = end;
            Some(field)
        })
        .collect();
    if header.pos == text.len() {
        if let Some(q) = unclosed_quote(&text[header_at..], separator) {
            let line = line_of(text, header_at + q);
            return Err(fail(format!(
                "line {line}: a quoted field is never closed (unterminated quote)"
            )));
        }
    }
    let check_decimal_comma = separator != b',';
    let mut decimal_comma =
        check_decimal_comma && fields.iter().any(|f| is_decimal_comma_number(f));
    let raw_names: Vec<String> = fields.iter().map(|f| header_name(f)).collect();
    let width = raw_names.len();

    let stretches = read_records(text, header.pos, separator, width, check_decimal_comma);
    if let Some(problem) = stretches.last().and_then(|s| s.problem) {
        return Err(fail(problem_message(problem, text, width, separator)));
    }
    let n_rows: usize = stretches.iter().map(|s| s.n_records).sum();
    if n_rows == 0 {
        return Err(empty());
    }
    decimal_comma |= stretches.iter().any(|s| s.decimal_comma);
    if separator != b',' {
        warnings.push(format!(
            "read as {}-separated{}",
            sep_name(separator),
            if decimal_comma {
                ", with decimal commas"
            } else {
                ""
            }
        ));
    }
    let names = column_names(file, raw_names, &mut warnings)?;
    let columns = typing::type_columns(names, &stretches, decimal_comma);
    Ok(Cohort {
        source: file.to_string(),
        n_rows,
        columns,
        warnings,
        read_info: super::ReadInfo {
            separator,
            decimal_comma,
            latin1,
            skip: n_title,
            ..Default::default()
        },
        sheets: Vec::new(),
        sheet_rows: None,
        orders: Default::default(),
    })
}
