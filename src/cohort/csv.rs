//! CSV bytes → [`Cohort`]. The bytes are checked and sniffed here (encoding, binary or
//! archive content, separator, decimal comma, record structure with line numbers); polars'
//! CSV reader then splits the fields, every column read as text, and [`build_column`] types
//! them. Every failure is a one-line message naming the file, the line and what was expected.

use std::io::Cursor;

use polars::prelude::*;

use super::{build_column_with, column_names, guard_reader, Cohort, CohortError};

/// How the text is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvFormat {
    pub separator: u8,
    pub decimal_comma: bool,
}

fn sep_name(b: u8) -> &'static str {
    match b {
        b';' => "semicolon",
        b'\t' => "tab",
        _ => "comma",
    }
}

/// Decodes the bytes as UTF-8 (BOM dropped), or as Latin-1 with a warning; refuses binary
/// data, archives and UTF-16 with a message that says what the file is.
fn decode(
    file: &str,
    bytes: Vec<u8>,
    warnings: &mut Vec<String>,
    latin1: &mut bool,
) -> Result<String, CohortError> {
    let fail = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Err(fail(
            "this is a ZIP archive that holds no .xlsx or .ods workbook, not CSV text: unzip it first".to_string(),
        ));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(fail(
            "the file is UTF-16 text: save it as CSV in UTF-8 (\"CSV UTF-8\" in Excel)".to_string(),
        ));
    }
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        let line = bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(fail(format!(
            "line {line}: binary data (a NUL byte), not CSV text"
        )));
    }
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let bytes = e.into_bytes();
            // Control characters other than tab/CR/LF mean binary content, not old Excel text.
            let controls = bytes
                .iter()
                .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n'))
                .count();
            if controls > 0 {
                return Err(fail("binary data, not CSV text".to_string()));
            }
            warnings.push(
                "the file is not UTF-8; it was read as Latin-1 (Windows-1252), as old Excel writes it"
                    .to_string(),
            );
            *latin1 = true;
            Ok(bytes.iter().map(|&b| cp1252(b)).collect())
        }
    }
}

/// A Windows-1252 byte as a character (Latin-1 but for 0x80–0x9F: €, ‚, „, …, –, —, ’ …).
fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// The header's field names (quotes removed, spaces trimmed).
fn header_names(header: &str, separator: u8) -> Vec<String> {
    let mut names = Vec::new();
    let mut cur = String::new();
    let mut inside = false;
    let mut chars = header.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        if inside {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    inside = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' && cur.trim().is_empty() {
            inside = true;
        } else if c as u32 == separator as u32 {
            names.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    names.push(cur.trim().to_string());
    names
}

/// One pass over the records (quotes respected): field counts per line, the separator from the
/// header, and whether numbers use a decimal comma.
/// `first_line` is the file's line number of the text's first line (title lines skipped).
fn sniff(file: &str, text: &str, first_line: usize) -> Result<(CsvFormat, usize), CohortError> {
    let fail = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    let header_end = text.find('\n').unwrap_or(text.len());
    let header = &text[..header_end];
    let (separator, best) = guess_separator(header);
    let expected = best + 1;
    let ragged = |line: usize, fields: usize| {
        fail(format!(
            "line {line}: {fields} fields, but the header has {expected} ({} separated); is a separator or a quote missing?",
            sep_name(separator)
        ))
    };
    let bytes = text.as_bytes();
    let (mut i, mut line, mut record_line) = (0usize, first_line, first_line);
    let (mut fields, mut inside, mut at_field_start) = (1usize, false, true);
    let mut quote_line = 0usize;
    let mut records = 0usize;
    let mut decimal_comma = false;
    let mut field_start = 0usize;
    // The current physical line: where it starts, and whether it has an ASCII byte that is
    // neither whitespace nor control (then it is not blank without looking again).
    let (mut line_begin, mut has_text) = (0usize, false);
    let mut check_field = |start: usize, end: usize| {
        if separator != b',' && is_decimal_comma_number(&text[start..end]) {
            decimal_comma = true;
        }
    };
    while i < bytes.len() {
        // A comma-separated line without quotes (nearly every line of most files) is
        // counted whole: its fields are its commas + 1, no state to follow byte by byte.
        if separator == b',' && !inside && fields == 1 && i == field_start {
            let rest = &bytes[i..];
            if let Some(len) = rest.iter().position(|&b| b == b'\n') {
                let line_bytes = &rest[..len];
                if !line_bytes.contains(&b'"') {
                    let here = 1 + line_bytes.iter().filter(|&&b| b == b',').count();
                    let blank = here == 1 && text[i..i + len].trim().is_empty();
                    if !blank {
                        if here != expected {
                            return Err(ragged(record_line, here));
                        }
                        records += 1;
                    }
                    i += len + 1;
                    line += 1;
                    record_line = line;
                    (line_begin, has_text, field_start) = (i, false, i);
                    continue;
                }
            }
        }
        let b = bytes[i];
        has_text |= b > b' ' && b < 0x80;
        if inside {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    inside = false;
                }
            } else if b == b'\n' {
                line += 1;
                (line_begin, has_text) = (i + 1, false);
            }
        } else if b == b'"' && at_field_start {
            inside = true;
            quote_line = line;
        } else if b == separator {
            check_field(field_start, i);
            fields += 1;
            at_field_start = true;
            field_start = i + 1;
            i += 1;
            continue;
        } else if b == b'\n' {
            check_field(field_start, i);
            let blank = !has_text && text[line_begin..i].trim().is_empty();
            if !blank {
                if fields != expected {
                    return Err(ragged(record_line, fields));
                }
                records += 1;
            }
            line += 1;
            record_line = line;
            (line_begin, has_text) = (i + 1, false);
            fields = 1;
            at_field_start = true;
            field_start = i + 1;
            i += 1;
            continue;
        }
        if !matches!(b, b' ' | b'\r') {
            at_field_start = false;
        }
        i += 1;
    }
    if inside {
        return Err(fail(format!(
            "line {quote_line}: a quoted field is never closed (unterminated quote)"
        )));
    }
    if !text[line_start(bytes, bytes.len())..].trim().is_empty() {
        check_field(field_start, bytes.len());
        if fields != expected {
            return Err(fail(format!(
                "line {record_line}: {fields} fields, but the header has {expected} ({} separated)",
                sep_name(separator)
            )));
        }
        records += 1;
    }
    // The header itself was counted as a record.
    Ok((
        CsvFormat {
            separator,
            decimal_comma,
        },
        records.saturating_sub(1),
    ))
}

/// The header's separator: the one of comma, semicolon and tab with the most fields outside
/// quotes (comma on a tie), and how many separators it has.
fn guess_separator(header: &str) -> (u8, usize) {
    let count_outside_quotes = |sep: u8| {
        let mut inside = false;
        header
            .bytes()
            .filter(|&b| {
                if b == b'"' {
                    inside = !inside;
                }
                !inside && b == sep
            })
            .count()
    };
    let (mut separator, mut best) = (b',', count_outside_quotes(b','));
    for sep in [b';', b'\t'] {
        let c = count_outside_quotes(sep);
        if c > best {
            separator = sep;
            best = c;
        }
    }
    (separator, best)
}

/// A field written with a decimal comma ("3,5", "-12,25"): digits, one comma, digits.
fn is_decimal_comma_number(field: &str) -> bool {
    let Some((a, b)) = field.trim().split_once(',') else {
        return false;
    };
    let a = a.strip_prefix('-').unwrap_or(a);
    !a.is_empty()
        && !b.is_empty()
        && a.bytes().all(|c| c.is_ascii_digit())
        && b.bytes().all(|c| c.is_ascii_digit())
}

/// How many lines at the top are a title, not the header: blank lines and lines with at most
/// one non-empty field whichever separator is used ("Cohort March 2026;;;;"), when a line with
/// several fields follows within the first 30 lines.
fn title_lines(text: &str) -> usize {
    let fields = |line: &str| {
        [',', ';', '\t']
            .iter()
            .map(|&sep| {
                line.split(sep)
                    .filter(|f| !f.trim().trim_matches('"').trim().is_empty())
                    .count()
            })
            .max()
            .unwrap_or(0)
    };
    // The header names at least half as many fields as the widest of these lines (a title
    // with a date beside it, "Cohort;26/11/2026;;;", is still a title).
    let counts: Vec<usize> = text.lines().take(30).map(fields).collect();
    let widest = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .position(|&c| c >= 2 && 2 * c >= widest)
        .unwrap_or(0)
}

fn text_header_end(text: &str) -> usize {
    text.find('\n').unwrap_or(text.len())
}

fn line_start(bytes: &[u8], end: usize) -> usize {
    bytes[..end]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1)
}

/// Parses CSV bytes (header row; comma, semicolon or tab separated, detected) into a cohort.
/// `file` names the source in messages.
pub fn read_csv_bytes(file: &str, bytes: Vec<u8>) -> Result<Cohort, CohortError> {
    let format_err = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(CohortError::Empty {
            file: file.to_string(),
        });
    }
    let mut warnings = Vec::new();
    let mut latin1 = false;
    let text = decode(file, bytes, &mut warnings, &mut latin1)?;
    let n_title = title_lines(&text);
    let text = if n_title > 0 {
        let start = text
            .match_indices('\n')
            .nth(n_title - 1)
            .map_or(text.len(), |(k, _)| k + 1);
        warnings.push(format!(
            "{} line(s) above the header skipped (a title)",
            n_title
        ));
        text[start..].to_string()
    } else {
        text
    };
    let (format, n_records) = sniff(file, &text, n_title + 1)?;
    let header_line = text[..text_header_end(&text)].to_string();
    if n_records == 0 {
        return Err(CohortError::Empty {
            file: file.to_string(),
        });
    }
    if format.separator != b',' {
        warnings.push(format!(
            "read as {}-separated{}",
            sep_name(format.separator),
            if format.decimal_comma {
                ", with decimal commas"
            } else {
                ""
            }
        ));
    }
    let parse = CsvParseOptions::default()
        .with_separator(format.separator)
        .with_missing_is_null(true);
    let reader = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .with_parse_options(parse)
        .into_reader_with_file_handle(Cursor::new(text.into_bytes()));
    let frame = guard_reader(file, "CSV", || {
        reader
            .finish()
            .map_err(|e| format_err(format!("not a readable CSV file: {e}")))
    })?;
    let n_rows = frame.height();
    if n_rows == 0 {
        return Err(CohortError::Empty {
            file: file.to_string(),
        });
    }
    // Names from the header as written (polars would rename duplicates silently).
    let header_end = text_header_end(&header_line);
    let names = header_names(&header_line[..header_end], format.separator);
    let raw_names = frame
        .columns()
        .iter()
        .enumerate()
        .map(|(k, col)| {
            names
                .get(k)
                .cloned()
                .unwrap_or_else(|| col.name().trim().to_string())
        })
        .collect();
    let names = column_names(file, raw_names, &mut warnings)?;
    let columns = type_columns(file, frame, names, format.decimal_comma)?;
    Ok(Cohort {
        source: file.to_string(),
        n_rows,
        columns,
        warnings,
        read_info: super::ReadInfo {
            separator: format.separator,
            decimal_comma: format.decimal_comma,
            latin1,
            skip: n_title,
            ..Default::default()
        },
        sheets: Vec::new(),
        sheet_rows: None,
        orders: Default::default(),
    })
}

/// Types the columns polars split (number parsing, text levels) from their cells.
fn type_columns(
    file: &str,
    frame: DataFrame,
    names: Vec<String>,
    decimal_comma: bool,
) -> Result<Vec<super::Column>, CohortError> {
    let n_rows = frame.height();
    let format_err = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    // Typing the columns (number parsing, text levels) is independent per column: shared
    // among the cores, each result in its column's slot; each text column of polars is
    // dropped as soon as it is typed, so the peak memory stays near one copy of the data.
    let type_column = |name: String, col: polars::prelude::Column| {
        let strings = col
            .str()
            .map_err(|e| format_err(format!("column '{name}': {e}")))?;
        let cells: Vec<Option<&str>> = strings.iter().collect();
        Ok::<_, CohortError>(build_column_with(name, &cells, decimal_comma))
    };
    let threads = if n_rows < 10_000 {
        1
    } else {
        crate::cores().min(names.len()).max(1)
    };
    let mut slots: Vec<Option<Result<super::Column, CohortError>>> =
        (0..names.len()).map(|_| None).collect();
    let mut per_thread: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    // Interleaved, so text and numeric columns spread evenly.
    for (k, ((slot, col), name)) in slots
        .iter_mut()
        .zip(frame.into_columns())
        .zip(names)
        .enumerate()
    {
        per_thread[k % threads].push((slot, col, name));
    }
    std::thread::scope(|scope| {
        for work in per_thread {
            let type_column = &type_column;
            scope.spawn(move || {
                for (slot, col, name) in work {
                    *slot = Some(type_column(name, col));
                }
            });
        }
    });
    slots.into_iter().flatten().collect()
}
