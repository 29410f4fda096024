//! Parquet → [`Cohort`], read with polars. Numeric columns (integers and floats) stay numbers,
//! nulls become missing; every other column is read as text and typed like a CSV column, so
//! that event words and response codes mean the same in every format.

use std::io::Cursor;

use polars::prelude::*;

use super::{build_column, column_names, guard_reader, Cohort, CohortError, Column, ColumnData};

/// Reads a Parquet file given as bytes.
pub fn read_parquet_bytes(file: &str, bytes: Vec<u8>) -> Result<Cohort, CohortError> {
    let fail = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    let frame = guard_reader(file, "Parquet", || {
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
