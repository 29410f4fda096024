//! File → [`Cohort`]: typed columns, validated, with errors that name file, column and row.
//!
//! One reader a format: `csv` (the csv crate's tokenizer, our sniffing and typing), `sheet`
//! (calamine) and `parquet` (polars, only with the `parquet` feature: polars lives there and
//! nowhere else). Every reader types its cells with the same rules (`column`), so that a cell
//! means the same in every format.

mod column;
mod csv;
mod dates;
#[cfg(feature = "parquet")]
mod parquet;
mod roles;
mod sheet;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

pub(crate) use column::column_names;
pub use column::{build_column, build_column_with, format_number, is_missing_code, parse_number};
pub use csv::read_csv_bytes;
pub use dates::{day_number, DateFormat, DATE_ROLES, DAYS_PER_MONTH};
#[cfg(feature = "parquet")]
pub use parquet::read_parquet_bytes;
pub use roles::{normalize_name, ROLE_ALIASES, ROLE_LABELS};
pub use sheet::read_spreadsheet_bytes;

/// How to read a file: the choices a user can make that the file cannot tell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadOptions {
    /// The spreadsheet's sheet (name or number from 1); `None`: the first with data.
    pub sheet: Option<String>,
    /// Day/month order of dates written with the year last.
    pub date_format: DateFormat,
    /// Role → column of the file, before the automatic aliases.
    pub column_map: BTreeMap<String, String>,
}

/// What a file holds, from its first bytes (not its name: a workbook renamed `.csv` is still
/// read as a workbook).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FileKind {
    #[default]
    Csv,
    /// `.xlsx`, `.xlsm`, `.ods` (ZIP) or `.xls` (OLE2).
    Spreadsheet,
    Parquet,
}

impl FileKind {
    pub fn sniff(bytes: &[u8]) -> FileKind {
        const OLE2: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
        if bytes.starts_with(b"PAR1") {
            FileKind::Parquet
        } else if bytes.starts_with(OLE2) || is_workbook_zip(bytes) {
            FileKind::Spreadsheet
        } else {
            FileKind::Csv
        }
    }
}

/// How a cohort was read — enough for the R script to read the file the same way.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadInfo {
    pub kind: FileKind,
    /// Text files: the field separator (0 when not a text file).
    pub separator: u8,
    pub decimal_comma: bool,
    /// Text files read as Latin-1 (not UTF-8).
    pub latin1: bool,
    /// Lines (text) or sheet rows (workbooks) above the header.
    pub skip: usize,
    /// Workbooks: the sheet read.
    pub sheet: Option<String>,
    /// Workbooks: an OpenDocument file (else Excel).
    pub ods: bool,
    /// Columns renamed by the column map or an alias: (name as read, name used), all at once
    /// (a swap of two names is two entries).
    pub renamed: Vec<(String, String)>,
    /// Columns derived from dates, and the day/month order used for year-last dates.
    pub derived: Vec<String>,
    pub date_format: DateFormat,
}

/// A ZIP archive holding an Office Open XML or OpenDocument workbook.
fn is_workbook_zip(bytes: &[u8]) -> bool {
    let needle_in = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    bytes.starts_with(b"PK\x03\x04")
        && (needle_in(b"xl/workbook")
            || needle_in(b"application/vnd.oasis.opendocument.spreadsheet"))
}

/// Reads a cohort file's bytes by what they hold (see [`FileKind`]); no roles applied yet.
pub fn read_bytes(file: &str, bytes: Vec<u8>, sheet: Option<&str>) -> Result<Cohort, CohortError> {
    match FileKind::sniff(&bytes) {
        FileKind::Parquet => read_parquet_bytes(file, bytes),
        FileKind::Spreadsheet => read_spreadsheet_bytes(file, bytes, sheet),
        FileKind::Csv => read_csv_bytes(file, bytes),
    }
}

/// Without the `parquet` feature (a build for the web, where polars cannot go), a Parquet
/// file is a message.
#[cfg(not(feature = "parquet"))]
pub fn read_parquet_bytes(file: &str, _bytes: Vec<u8>) -> Result<Cohort, CohortError> {
    Err(CohortError::Format {
        file: file.to_string(),
        message: "this is a Parquet file, and this build of Survival Explorer reads no Parquet \
                  (built without the `parquet` feature): save it as CSV or .xlsx"
            .to_string(),
    })
}

/// The file's bytes, as `std::fs::read` gives them. A large file is read as two halves side
/// by side: most of reading a file the system has cached is the kernel copying it into
/// fresh pages, which two cores do in half the time. Anything unusual (a file over 1 GiB,
/// whose memory `std::fs::read` asks for without aborting when there is none; an error;
/// a file that shrank while read) is left to `std::fs::read`, with its messages.
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    #[cfg(unix)]
    if let Some(bytes) = read_in_halves(path) {
        return Ok(bytes);
    }
    std::fs::read(path)
}

#[cfg(unix)]
fn read_in_halves(path: &Path) -> Option<Vec<u8>> {
    use std::io::{Read, Seek};
    use std::os::unix::fs::FileExt;
    const HALVES: std::ops::Range<u64> = (4 << 20)..(1 << 30);
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let len = usize::try_from(len)
        .ok()
        .filter(|_| HALVES.contains(&len))?;
    let mut bytes = vec![0u8; len];
    let (head, tail) = bytes.split_at_mut(len / 2);
    let at = head.len() as u64;
    let (a, b) = rayon::join(
        || file.read_exact_at(head, 0),
        || file.read_exact_at(tail, at),
    );
    a.and(b).ok()?;
    // Whatever was added to the file since its length was read.
    file.seek(std::io::SeekFrom::Start(len as u64)).ok()?;
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Column names for a message: all of them up to 40, else the first 40 and how many more (a
/// file of thousands of columns gets a readable line).
pub(crate) fn name_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    const SHOWN: usize = 40;
    let names: Vec<&str> = names.into_iter().collect();
    if names.len() <= SHOWN {
        return names.join(", ");
    }
    format!(
        "{} … and {} more",
        names[..SHOWN].join(", "),
        names.len() - SHOWN
    )
}

/// Cell texts read as missing (after trimming spaces).
pub const MISSING_CODES: [&str; 7] = ["", "NA", "N/A", "NaN", "nan", ".", "-"];

/// Code of a missing value in a text column.
pub const MISSING: u32 = u32::MAX;

/// A loaded cohort: one row per patient, columns typed as numbers or text.
#[derive(Clone, Debug)]
pub struct Cohort {
    /// The file's name as given, for messages and the report.
    pub source: String,
    pub n_rows: usize,
    pub columns: Vec<Column>,
    /// Things noticed while loading that did not stop it.
    pub warnings: Vec<String>,
    /// How the file was read (format, header position, renames, derived columns).
    pub read_info: ReadInfo,
    /// For a spreadsheet, the workbook's sheets (the one read is named in the warnings).
    pub sheets: Vec<String>,
    /// For a spreadsheet, the sheet's row number of each data row (title and blank rows are
    /// skipped, so messages name the row the user sees); `None` for text files.
    pub sheet_rows: Option<Vec<usize>>,
    /// Row orders already computed by [`Cohort::sorted_rows`].
    pub(crate) orders: OrderCache,
}

/// Row orders by the sum of some numeric columns, computed once per cohort and shared between
/// analyses (the endpoints' times, the numeric matching covariates): a live edit does not
/// sort again. A clone starts empty; the functions that rename or add columns
/// ([`Cohort::prepare`], [`Cohort::apply_column_map`], `derive_times_from_dates`) empty it.
#[derive(Default)]
pub struct OrderCache(std::sync::Mutex<Vec<CachedOrder>>);

/// The columns summed, and the rows in that order.
type CachedOrder = (Vec<String>, std::sync::Arc<[u32]>);

impl Clone for OrderCache {
    fn clone(&self) -> Self {
        OrderCache::default()
    }
}

impl std::fmt::Debug for OrderCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrderCache")
    }
}

#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub data: ColumnData,
    /// Distinct values, computed on first use (the window asks every frame).
    levels: std::sync::OnceLock<Vec<String>>,
    /// Whether the column looks like identifiers ([`Column::is_identifier_like`]), computed
    /// on first use.
    identifier_like: std::sync::OnceLock<bool>,
}

/// A column's values. Numbers use NaN for missing; text uses codes into sorted `levels`
/// with [`MISSING`] for missing.
#[derive(Clone, Debug)]
pub enum ColumnData {
    Numeric(Vec<f64>),
    Text {
        codes: Vec<u32>,
        levels: Vec<String>,
    },
}

/// Why a file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    // The I/O error is part of this message (not a `#[source]`), so it is printed once.
    #[error("{file}: cannot read the file: {error}")]
    Io { file: String, error: std::io::Error },
    #[error("{file}: {message}")]
    Format { file: String, message: String },
    #[error("{file}: the file has no data rows")]
    Empty { file: String },
    #[error("{file}: column '{column}' appears twice in the header")]
    DuplicateColumn { file: String, column: String },
}

/// A patient's identifier as written in the file (a number when the column is numeric).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PatientId {
    Number(f64),
    Text(String),
}

impl std::fmt::Display for PatientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatientId::Number(v) => write!(f, "{}", format_number(*v)),
            PatientId::Text(s) => f.write_str(s),
        }
    }
}

impl Cohort {
    /// Loads a cohort file (CSV, spreadsheet or Parquet) with the default options. The file is
    /// only read, never written.
    pub fn load(path: &Path) -> Result<Cohort, CohortError> {
        Cohort::load_with(path, &LoadOptions::default())
    }

    /// Loads a cohort file: reads it ([`read_bytes`]), then [`Cohort::prepare`]s it.
    pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Cohort, CohortError> {
        let mut cohort = Cohort::read(path, options.sheet.as_deref())?;
        cohort.prepare(options)?;
        Ok(cohort)
    }

    /// Reads a cohort file as it is, columns named as in the file.
    pub fn read(path: &Path, sheet: Option<&str>) -> Result<Cohort, CohortError> {
        let file = path.display().to_string();
        let bytes = read_file(path).map_err(|error| CohortError::Io {
            file: file.clone(),
            error,
        })?;
        read_bytes(&file, bytes, sheet)
    }

    /// Gives the columns their roles (the user's map, then the common names) and derives
    /// times from dates where the file has dates instead of durations.
    pub fn prepare(&mut self, options: &LoadOptions) -> Result<(), CohortError> {
        self.orders = OrderCache::default();
        self.apply_column_map(&options.column_map)?;
        // After the roles: the id column may be one found by its name ("Patient ID").
        self.check_patient_ids();
        self.derive_times_from_dates(options.date_format)
    }

    /// The row number a message should name for data row `row` (from 0): the data row from
    /// 1 for text files, the sheet's row for spreadsheets.
    pub fn row_number(&self, row: usize) -> usize {
        self.sheet_rows
            .as_ref()
            .and_then(|r| r.get(row).copied())
            .unwrap_or(row + 1)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Every row in ascending order of the sum of the numeric `columns` (ties in row order,
    /// -0 equal to +0, missing values last: [`crate::stats::sorted_order`]); computed once per
    /// cohort and list of columns. `None` when a column is missing or not numeric.
    pub fn sorted_rows(&self, columns: &[String]) -> Option<std::sync::Arc<[u32]>> {
        let slot = || self.orders.0.lock().unwrap_or_else(|e| e.into_inner());
        // An order of another length was made before the columns changed (the fields are
        // public): it is dropped, never served.
        slot().retain(|(_, order)| order.len() == self.n_rows);
        if let Some((_, order)) = slot().iter().find(|(k, _)| k.as_slice() == columns) {
            return Some(std::sync::Arc::clone(order));
        }
        let mut sum = vec![0.0f64; self.n_rows];
        for name in columns {
            let ColumnData::Numeric(v) = &self.column(name)?.data else {
                return None;
            };
            for (s, x) in sum.iter_mut().zip(v) {
                *s += x;
            }
        }
        let order: std::sync::Arc<[u32]> = crate::stats::sorted_order(&sum).into();
        slot().push((columns.to_vec(), std::sync::Arc::clone(&order)));
        Some(order)
    }

    /// True when the order of [`Cohort::sorted_rows`] for `columns` is kept.
    pub fn has_sorted_rows(&self, columns: &[String]) -> bool {
        let slot = self.orders.0.lock().unwrap_or_else(|e| e.into_inner());
        slot.iter()
            .any(|(k, order)| k.as_slice() == columns && order.len() == self.n_rows)
    }

    /// Positions `0..n` of a subset of rows (`row_of(i)`, strictly increasing in `i`) in
    /// ascending order of the sum of `columns` at those rows, ties in position order: what
    /// [`crate::stats::sorted_order`] gives for the subset's values, read off the cohort's
    /// cached order ([`Cohort::sorted_rows`]) instead of sorting again. `None` when the rows
    /// are not increasing, a column is not numeric, or the subset is too small for the
    /// whole-file walk to beat a sort.
    pub fn order_of_rows(
        &self,
        columns: &[String],
        n: usize,
        row_of: impl Fn(usize) -> usize,
    ) -> Option<Vec<u32>> {
        if n == 0 || n.saturating_mul(8) < self.n_rows || (1..n).any(|i| row_of(i - 1) >= row_of(i))
        {
            return None;
        }
        let order = self.sorted_rows(columns)?;
        let mut position = vec![u32::MAX; self.n_rows];
        for i in 0..n {
            *position.get_mut(row_of(i))? = i as u32;
        }
        Some(
            order
                .iter()
                .filter_map(|&r| position.get(r as usize).copied())
                .filter(|&i| i != u32::MAX)
                .collect(),
        )
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.column(name).is_some()
    }

    /// Patient identifiers: the `patient_id` column, or row numbers from 1.
    pub fn patient_id(&self, row: usize) -> PatientId {
        self.patient_ids()(row)
    }

    /// [`Cohort::patient_id`] with the column looked up once, for many rows.
    pub fn patient_ids(&self) -> impl Fn(usize) -> PatientId + '_ {
        let data = self.column("patient_id").map(|c| &c.data);
        move |row| match data {
            Some(ColumnData::Numeric(v)) => match v.get(row) {
                Some(x) if !x.is_nan() => PatientId::Number(*x),
                _ => PatientId::Number((row + 1) as f64),
            },
            Some(ColumnData::Text { codes, levels }) => {
                match codes.get(row).and_then(|&c| levels.get(c as usize)) {
                    Some(s) => PatientId::Text(s.clone()),
                    None => PatientId::Number((row + 1) as f64),
                }
            }
            None => PatientId::Number((row + 1) as f64),
        }
    }
}

/// Runs a third-party reader (polars, calamine) so that a panic inside it on an unforeseen
/// file becomes a message naming the file, not the end of the window.
pub(crate) fn guard_reader<T>(
    file: &str,
    reader: &str,
    read: impl FnOnce() -> Result<T, CohortError>,
) -> Result<T, CohortError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err(CohortError::Format {
            file: file.to_string(),
            message: format!("the {reader} reader failed on this file"),
        })
    })
}
