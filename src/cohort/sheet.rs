//! Spreadsheets (`.xlsx`, `.xlsm`, `.xls`, `.ods`) → [`Cohort`], read with calamine.
//!
//! One sheet is read: the one the user names (`--sheet NAME` or its number from 1), else the
//! first sheet with data. Title rows above the header ("LEVIATHAN cohort, March 2026", blank
//! rows) are skipped: the header is the first row that names at least half of the columns the
//! table has. Cells keep their meaning: numbers are numbers, Excel dates become ISO dates
//! (`2024-03-15`), TRUE/FALSE stay words, `#N/A` is missing, other Excel errors (`#DIV/0!`) stay
//! as text so that the column is reported with its row.

use std::io::Cursor;

use calamine::{open_workbook_auto_from_rs, Data, Range, Reader, Sheets};

use super::{build_column_with, column_names, guard_reader, Cohort, CohortError};

/// How many rows from the top are searched for the header.
const HEADER_SEARCH_ROWS: usize = 30;

/// The text of a cell as the CSV reader would have seen it; `None` when empty.
fn cell_text(cell: &Data) -> Option<String> {
    match cell {
        Data::Empty => None,
        Data::String(s) => Some(s.clone()),
        Data::Int(i) => Some(i.to_string()),
        // Rust prints the shortest text that reads back as the same double.
        Data::Float(f) => Some(format!("{f}")),
        Data::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
            Some(if (hh, mm, ss) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            })
        }
        Data::DateTime(dt) => Some(format!("{}", dt.as_f64())),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
        // Excel's errors (#N/A, #DIV/0!, #VALUE! …) are missing values, as readxl reads them;
        // the reader warns about the ones other than #N/A.
        Data::Error(_) => None,
    }
}

fn non_empty(row: &[Option<String>]) -> usize {
    row.iter()
        .filter(|c| c.as_deref().is_some_and(|s| !s.trim().is_empty()))
        .count()
}

/// Reads one sheet of a workbook given as bytes. `sheet` is a sheet's name (case ignored) or
/// its number from 1.
pub fn read_spreadsheet_bytes(
    file: &str,
    bytes: Vec<u8>,
    sheet: Option<&str>,
) -> Result<Cohort, CohortError> {
    let fail = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    let is_ods = bytes
        .windows(46)
        .take(200)
        .any(|w| w == b"application/vnd.oasis.opendocument.spreadsheet");
    let ((sheet_name, range), sheets, list) = guard_reader(file, "spreadsheet", || {
        let mut book = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
            fail(format!(
                "not a readable Excel or OpenDocument workbook ({e}); save it again from the spreadsheet program, or as CSV"
            ))
        })?;
        let names = book.sheet_names();
        if names.is_empty() {
            return Err(fail("the workbook has no sheets".to_string()));
        }
        let list = names
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let chosen = choose_sheet(file, &mut book, &names, &list, sheet)?;
        Ok((chosen, names, list))
    })?;

    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let grid: Vec<Vec<Option<String>>> = range
        .rows()
        .map(|r| r.iter().map(cell_text).collect())
        .collect();
    let mut warnings = Vec::new();
    warnings.extend(error_cells_warning(&range, first_row));
    if sheets.len() > 1 {
        warnings.push(format!(
            "read sheet '{sheet_name}' of {list} (choose another in Columns…; command line: --sheet)"
        ));
    }
    // The header: the first row naming at least half as many columns as the widest of the
    // rows searched (and at least two).
    let widest = grid
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .map(|r| non_empty(r))
        .max()
        .unwrap_or(0);
    let Some(header_at) = grid
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .position(|r| non_empty(r) >= 2 && 2 * non_empty(r) >= widest)
    else {
        return Err(CohortError::Empty {
            file: file.to_string(),
        });
    };
    let sheet_row = |k: usize| first_row + k + 1;
    if header_at > 0 {
        warnings.push(format!(
            "header on row {} of sheet '{sheet_name}'; {} row(s) above it skipped",
            sheet_row(header_at),
            header_at
        ));
    }
    let header = &grid[header_at];
    // Columns: up to the last one with a name or any data.
    let width = grid[header_at..]
        .iter()
        .filter_map(|r| r.iter().rposition(|c| c.is_some()))
        .max()
        .map_or(0, |k| k + 1);
    let raw_names: Vec<String> = (0..width)
        .map(|k| header.get(k).cloned().flatten().unwrap_or_default())
        .collect();
    let names = column_names(file, raw_names, &mut warnings)?;
    // Data rows: below the header, rows with no value at all skipped.
    let (sheet_rows, rows): (Vec<usize>, Vec<&Vec<Option<String>>>) = grid[header_at + 1..]
        .iter()
        .enumerate()
        .filter(|(_, r)| non_empty(r) > 0)
        .map(|(k, r)| (sheet_row(header_at + 1 + k), r))
        .unzip();
    if rows.is_empty() {
        return Err(CohortError::Empty {
            file: file.to_string(),
        });
    }
    let columns = names
        .into_iter()
        .enumerate()
        .map(|(k, name)| {
            let cells: Vec<Option<&str>> = rows
                .iter()
                .map(|r| r.get(k).and_then(|c| c.as_deref()))
                .collect();
            build_column_with(name, &cells, false)
        })
        .collect();
    Ok(Cohort {
        source: file.to_string(),
        n_rows: rows.len(),
        columns,
        warnings,
        read_info: super::ReadInfo {
            kind: super::FileKind::Spreadsheet,
            skip: sheet_row(header_at) - 1,
            sheet: Some(sheet_name),
            ods: is_ods,
            ..Default::default()
        },
        sheets,
        sheet_rows: Some(sheet_rows),
        orders: Default::default(),
    })
}

/// The sheet to read: the one named (by name, in any case, or number from 1), else the first
/// with at least two rows of data.
fn choose_sheet(
    file: &str,
    book: &mut Sheets<Cursor<Vec<u8>>>,
    names: &[String],
    list: &str,
    sheet: Option<&str>,
) -> Result<(String, Range<Data>), CohortError> {
    let fail = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    Ok(match sheet {
        Some(want) => {
            let by_name = names
                .iter()
                .position(|n| n == want)
                .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(want)));
            let by_number = want
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|k| (1..=names.len()).contains(k))
                .map(|k| k - 1);
            let k = by_name.or(by_number).ok_or_else(|| {
                fail(format!(
                    "sheet '{want}': no such sheet; the sheets are {list}"
                ))
            })?;
            let range = book
                .worksheet_range(&names[k])
                .map_err(|e| fail(format!("sheet '{}': {e}", names[k])))?;
            (names[k].clone(), range)
        }
        None => {
            let mut first = None;
            for n in names {
                let range = book
                    .worksheet_range(n)
                    .map_err(|e| fail(format!("sheet '{n}': {e}")))?;
                if range
                    .rows()
                    .filter(|r| r.iter().any(|c| *c != Data::Empty))
                    .count()
                    >= 2
                {
                    first = Some((n.clone(), range));
                    break;
                }
            }
            first.ok_or_else(|| CohortError::Empty {
                file: file.to_string(),
            })?
        }
    })
}

/// A warning counting Excel's error cells other than #N/A (read as missing), naming the
/// first one's sheet row.
fn error_cells_warning(range: &Range<Data>, first_row: usize) -> Option<String> {
    let errors: Vec<(usize, String)> = range
        .rows()
        .enumerate()
        .flat_map(|(k, r)| {
            r.iter().filter_map(move |c| match c {
                Data::Error(e) if *e != calamine::CellErrorType::NA => Some((k, e.to_string())),
                _ => None,
            })
        })
        .collect();
    errors.first().map(|(k, e)| {
        format!(
            "{} Excel error cell(s) read as missing (first: {e} on row {} of the sheet)",
            errors.len(),
            first_row + k + 1
        )
    })
}
