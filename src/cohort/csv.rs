//! CSV bytes → [`Cohort`], through polars' CSV reader with every column read as text.

use std::io::Cursor;

use polars::prelude::*;

use super::{build_column, Cohort, CohortError};

/// Parses CSV bytes (comma-separated, header row) into a cohort. `file` names the source in
/// messages.
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
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| format_err(format!("not a readable CSV file: {e}")))?;
    let n_rows = frame.height();
    if n_rows == 0 {
        return Err(CohortError::Empty {
            file: file.to_string(),
        });
    }
    let mut columns = Vec::with_capacity(frame.width());
    let mut seen = std::collections::HashSet::new();
    for col in frame.columns() {
        let name = col.name().trim().to_string();
        if !seen.insert(name.clone()) {
            return Err(CohortError::DuplicateColumn {
                file: file.to_string(),
                column: name,
            });
        }
        let strings = col
            .str()
            .map_err(|e| format_err(format!("column '{name}': {e}")))?;
        let cells: Vec<Option<&str>> = strings.iter().collect();
        columns.push(build_column(name, &cells));
    }
    Ok(Cohort {
        source: file.to_string(),
        n_rows,
        columns,
        warnings: Vec::new(),
    })
}
