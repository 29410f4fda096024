//! Parquet → [`Cohort`], read with polars. Numeric columns (integers and floats) stay numbers,
//! nulls become missing; every other column is read as text and typed like a CSV column, so
//! that event words and response codes mean the same in every format.
//!
//! Before polars sees the file, [`check_pages`] reads the footer and every page header itself
//! and refuses sizes and counts no writer produces: polars trusts them, and a damaged one can
//! make it ask for more memory than exists, which aborts the process (a panic is caught; an
//! allocation failure is not).

mod pages;
mod thrift;

use std::io::Cursor;

use polars::prelude::*;

use super::{build_column, column_names, guard_reader, Cohort, CohortError, Column, ColumnData};
pub(crate) use pages::check_pages;

/// Reads a Parquet file given as bytes.
pub fn read_parquet_bytes(file: &str, bytes: Vec<u8>) -> Result<Cohort, CohortError> {
    let fail = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    let frame = guard_reader(file, "Parquet", || {
        check_pages(&bytes).map_err(|e| fail(format!("damaged Parquet file: {e}")))?;
        ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map_err(|e| fail(format!("not a readable Parquet file: {e}")))
    })?;
    let n_rows = frame.height();
    if n_rows == 0 {
        return Err(CohortError::Empty {
            file: file.to_string(),
        });
    }
    let mut warnings = Vec::new();
    let names = column_names(
        file,
        frame
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        &mut warnings,
    )?;
    let mut columns = Vec::with_capacity(names.len());
    for (col, name) in frame.columns().iter().zip(names) {
        let dtype = col.dtype();
        let column = if dtype.is_primitive_numeric() {
            let values = col
                .cast(&DataType::Float64)
                .map_err(|e| fail(format!("column '{name}': {e}")))?;
            let values = values
                .f64()
                .map_err(|e| fail(format!("column '{name}': {e}")))?
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect();
            Column::new(name, ColumnData::Numeric(values))
        } else {
            let text = col.cast(&DataType::String).map_err(|_| {
                fail(format!(
                    "column '{name}': values of type {dtype} cannot be read; store numbers or text"
                ))
            })?;
            let strings = text
                .str()
                .map_err(|e| fail(format!("column '{name}': {e}")))?;
            let cells: Vec<Option<&str>> = strings.iter().collect();
            build_column(name, &cells)
        };
        columns.push(column);
    }
    Ok(Cohort {
        source: file.to_string(),
        n_rows,
        columns,
        warnings,
        read_info: super::ReadInfo {
            kind: super::FileKind::Parquet,
            ..Default::default()
        },
        sheets: Vec::new(),
        sheet_rows: None,
        orders: Default::default(),
    })
}

// ---------------------------------------------------------------------------------------------
// The pre-check: the footer and the page headers, read before polars reads them.
//
// polars-parquet 0.55 takes a data page's `num_values` (an i32) `as usize`: a negative count
// becomes about 2^64, and reserving the validity bitmap for it (`decode_page_validity`) asks
// for 2^61 bytes and aborts. A dictionary page's `num_values` sizes the dictionary
// (`Vec::with_capacity`, times 8 or 16 bytes a value), an `uncompressed_page_size` is the
// buffer a page is decompressed into (zero-filled), and every list in the footer is
// pre-allocated from its declared length. Each is checked here against what the file can hold.
//
// Thrift compact protocol, read defensively: every read is bounds-checked, varints are capped at
// the length their type allows and must fit it, lengths must fit the bytes left, nesting is
// capped. Where polars' own readers would read a field differently (a field of the wrong wire
// type, which polars reads as its declared type anyway), the file is refused, so that what is
// checked here is what polars will use.
// ---------------------------------------------------------------------------------------------
