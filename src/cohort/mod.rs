//! File → [`Cohort`]: typed columns, validated, with errors that name file, column and row.
//!
//! polars lives here and nowhere else: it splits the CSV into string columns, and this module
//! types them itself, so that every bad cell can be reported with its row.

mod csv;
mod dates;
mod parquet;
mod sheet;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

pub use csv::read_csv_bytes;
pub use dates::{day_number, DateFormat, DATE_ROLES, DAYS_PER_MONTH};
pub use parquet::read_parquet_bytes;
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

/// Cell texts read as missing (after trimming spaces).
pub const MISSING_CODES: [&str; 7] = ["", "NA", "N/A", "NaN", "nan", ".", "-"];

/// Common names of each role's column, matched case- and punctuation-insensitively.
pub const ROLE_ALIASES: [(&str, &[&str]); 14] = [
    (
        "patient_id",
        &[
            "id",
            "patient",
            "patient id",
            "subject",
            "subject_id",
            "record_id",
            "pid",
        ],
    ),
    (
        "arm",
        &[
            "treatment",
            "trt",
            "group",
            "drug",
            "second line",
            "second_line_drug",
            "tki",
        ],
    ),
    (
        "pfs_months",
        &[
            "pfs",
            "pfs time",
            "pfs_time",
            "pfs (months)",
            "pfs months",
            "pfs_mo",
        ],
    ),
    (
        "pfs_event",
        &[
            "pfs status",
            "pfs_status",
            "pfs event",
            "progression",
            "pfs censor",
            "pfs_cens",
        ],
    ),
    (
        "os_months",
        &[
            "os",
            "os time",
            "os_time",
            "os (months)",
            "os months",
            "os_mo",
            "survival time",
        ],
    ),
    (
        "os_event",
        &[
            "os status",
            "os_status",
            "os event",
            "death",
            "dead",
            "vital status",
            "status",
        ],
    ),
    (
        "first_line_months",
        &[
            "first line months",
            "ab months",
            "a+b months",
            "time on ab",
            "time on a+b",
            "first_line",
        ],
    ),
    (
        "best_response",
        &[
            "response",
            "best response",
            "bor",
            "best overall response",
            "recist",
        ],
    ),
    (
        "prior_io_response",
        &[
            "prior io response",
            "io response",
            "ab response",
            "response to ab",
            "response to a+b",
            "prior response",
        ],
    ),
    (
        "start_date",
        &[
            "start date",
            "date of start",
            "second line start",
            "second line start date",
            "start of second line",
            "date of second line",
            "tki start",
            "tki start date",
            "date tki start",
            "start 2l",
            "date start",
        ],
    ),
    (
        "progression_date",
        &[
            "progression date",
            "date of progression",
            "date progression",
            "pd date",
            "pfs date",
            "date of pd",
        ],
    ),
    (
        "death_date",
        &["death date", "date of death", "date death", "dod"],
    ),
    (
        "last_followup_date",
        &[
            "last follow-up",
            "last follow up",
            "last followup",
            "last follow-up date",
            "date of last follow-up",
            "date last follow-up",
            "last contact",
            "date of last contact",
            "date last contact",
            "last fu",
            "lfu",
        ],
    ),
    (
        "first_line_start_date",
        &[
            "ab start",
            "a+b start",
            "ab start date",
            "a+b start date",
            "start of a+b",
            "date of a+b start",
            "first line start",
            "first line start date",
        ],
    ),
];

/// What each role means, for people (the column-mapping dialog, messages).
pub const ROLE_LABELS: [(&str, &str); 14] = [
    ("patient_id", "Patient id"),
    ("arm", "Treatment arm"),
    ("pfs_months", "PFS time (months)"),
    ("pfs_event", "PFS event (progression or death)"),
    ("os_months", "OS time (months)"),
    ("os_event", "OS event (death)"),
    ("first_line_months", "Time on A+B (months)"),
    ("best_response", "Best response to the second line"),
    ("prior_io_response", "Best response to A+B"),
    ("start_date", "Start of the second line (date)"),
    ("progression_date", "Date of progression"),
    ("death_date", "Date of death"),
    ("last_followup_date", "Date of last follow-up"),
    ("first_line_start_date", "Start of A+B (date)"),
];

/// A column name for matching: lower case, letters and digits only ("OS (months)" → "osmonths").
pub fn normalize_name(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '+')
        .collect()
}

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
        let bytes = std::fs::read(path).map_err(|error| CohortError::Io {
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

    /// Warns about patient ids that appear more than once (the rows are still analysed).
    pub fn check_patient_ids(&mut self) {
        let Some(col) = self.column("patient_id") else {
            return;
        };
        // Rows of each distinct id, in row order: from one radix order of the numbers, or
        // from the text codes.
        let mut n_dup = 0usize;
        // (the second row of an id, the first row): the earliest second row is reported.
        let mut first_dup: Option<(usize, usize)> = None;
        let mut note = |first: usize, second: usize, extra: usize| {
            n_dup += extra;
            if first_dup.is_none_or(|(s, _)| second < s) {
                first_dup = Some((second, first));
            }
        };
        match &col.data {
            ColumnData::Numeric(v) => {
                let order = crate::stats::sorted_order(v);
                let rows: Vec<usize> = order
                    .iter()
                    .map(|&r| r as usize)
                    .filter(|&r| !v[r].is_nan())
                    .collect();
                let mut i = 0;
                while i < rows.len() {
                    let mut j = i + 1;
                    while j < rows.len() && v[rows[j]] == v[rows[i]] {
                        j += 1;
                    }
                    if j - i > 1 {
                        note(rows[i], rows[i + 1], j - i - 1);
                    }
                    i = j;
                }
            }
            ColumnData::Text { codes, levels } => {
                let mut first = vec![usize::MAX; levels.len()];
                let mut count = vec![0usize; levels.len()];
                let mut second = vec![usize::MAX; levels.len()];
                for (r, &c) in codes.iter().enumerate() {
                    let Some(k) = (c != MISSING).then_some(c as usize) else {
                        continue;
                    };
                    count[k] += 1;
                    if first[k] == usize::MAX {
                        first[k] = r;
                    } else if second[k] == usize::MAX {
                        second[k] = r;
                    }
                }
                for k in 0..levels.len() {
                    if count[k] > 1 {
                        note(first[k], second[k], count[k] - 1);
                    }
                }
            }
        }
        if let Some((second, first)) = first_dup {
            let id = col.text_at(second).unwrap_or_default();
            self.warnings.push(format!(
                "patient_id: {n_dup} duplicate ids (first: '{id}' on rows {} and {}); each row is analysed as a patient",
                self.row_number(first),
                self.row_number(second)
            ));
        }
    }

    /// Renames columns to the canonical roles: first the user's explicit map (role → column),
    /// then, for roles still absent, a column whose name is a known alias (case and punctuation
    /// ignored, e.g. "OS (months)" → `os_months`, "Death" → `os_event`). Each rename is a
    /// warning, so the user sees what was read as what.
    ///
    /// The explicit map is applied all at once, against the names as read: swapping two
    /// columns' roles (`os_months` = "pfs_months", `pfs_months` = "os_months") swaps them. A
    /// column that holds a mapped role's name without being mapped keeps its data under
    /// "<role> (original)".
    pub fn apply_column_map(&mut self, map: &BTreeMap<String, String>) -> Result<(), CohortError> {
        // Columns change names: orders cached under the old names must go.
        self.orders = OrderCache::default();
        let as_read: Vec<String> = self.columns.iter().map(|c| c.name.clone()).collect();
        // The role each mapped column takes, found by its name as read.
        let mut role_of: Vec<Option<&String>> = vec![None; as_read.len()];
        for (role, column) in map {
            // The header as written, else ignoring case and spaces, else punctuation too.
            let unique = |same: &dyn Fn(&String) -> bool| {
                let mut hits = as_read.iter().enumerate().filter(|(_, n)| same(n));
                let first = hits.next().map(|(k, _)| k);
                first.filter(|_| hits.next().is_none())
            };
            let lower = column.trim().to_lowercase();
            let found = as_read
                .iter()
                .position(|n| n == column)
                .or_else(|| unique(&|n| n.trim().to_lowercase() == lower))
                .or_else(|| unique(&|n| normalize_name(n) == normalize_name(column)));
            let Some(k) = found else {
                return Err(CohortError::Format {
                    file: self.source.clone(),
                    message: format!(
                        "column map {role}={column}: there is no column '{column}'; the columns are: {}",
                        as_read.join(", ")
                    ),
                });
            };
            if let Some(other) = role_of[k] {
                return Err(CohortError::Format {
                    file: self.source.clone(),
                    message: format!(
                        "column map: column '{column}' is given for two roles, {other} and {role}; a column can have one role"
                    ),
                });
            }
            role_of[k] = Some(role);
        }
        for (k, name) in as_read.iter().enumerate() {
            match role_of[k] {
                Some(role) if role != name => {
                    self.columns[k].name = role.clone();
                    self.warnings
                        .push(format!("column '{name}' is used as {role}"));
                }
                Some(_) => {}
                None if map.contains_key(name) => {
                    self.columns[k].name = format!("{name} (original)");
                }
                None => {}
            }
        }
        for (role, aliases) in ROLE_ALIASES {
            if self.has_column(role) {
                continue;
            }
            // The role's own name in another case or spelling ("ARM", "OS_MONTHS") too.
            let found = self.columns.iter().position(|c| {
                let n = normalize_name(&c.name);
                n == normalize_name(role) || aliases.iter().any(|a| normalize_name(a) == n)
            });
            if let Some(k) = found {
                let old = std::mem::replace(&mut self.columns[k].name, role.to_string());
                self.warnings.push(format!(
                    "column '{old}' is read as {role} (a common name for it)"
                ));
            }
        }
        // Each column whose name changed: (name as read, name now), for the R code; a
        // column renamed by an earlier map keeps the name it was read with.
        let renamed = &mut self.read_info.renamed;
        let earlier = renamed.len();
        for (before, c) in as_read.into_iter().zip(&self.columns) {
            if before == c.name {
                continue;
            }
            match renamed[..earlier]
                .iter_mut()
                .find(|(_, now)| *now == before)
            {
                Some((_, now)) => now.clone_from(&c.name),
                None => renamed.push((before, c.name.clone())),
            }
        }
        renamed.retain(|(before, now)| before != now);
        Ok(())
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

    /// The column a user means by `reference`, as it is named now: the one resolver for
    /// every column reference (arm, endpoints, subgroups, covariates, spec files, window).
    /// Tried in turn, the first that names exactly one column wins: the name now (a role such
    /// as `arm` once the file's "Treatment" column took it), the name in the file, either
    /// ignoring case and surrounding spaces, then either ignoring punctuation too
    /// ("ECOG PS" = "ecog_ps"). `None` when nothing (or more than one column) matches.
    pub fn resolve_column(&self, reference: &str) -> Option<&str> {
        let names_now = self.columns.iter().map(|c| c.name.as_str());
        let as_read = |now: &str| -> String { self.name_as_read(now).to_string() };
        if let Some(c) = self.columns.iter().find(|c| c.name == reference) {
            return Some(&c.name);
        }
        if let Some((_, now)) = self.read_info.renamed.iter().find(|(b, _)| b == reference) {
            if let Some(c) = self.column(now) {
                return Some(&c.name);
            }
        }
        let unique = |same: &dyn Fn(&str) -> bool| -> Option<&str> {
            let mut hits = names_now
                .clone()
                .filter(|now| same(now) || same(&as_read(now)));
            let first = hits.next()?;
            hits.next().is_none().then_some(first)
        };
        let want = reference.trim().to_lowercase();
        if let Some(hit) = unique(&|n: &str| n.trim().to_lowercase() == want) {
            return Some(hit);
        }
        let want = normalize_name(reference);
        if want.is_empty() {
            return None;
        }
        unique(&|n: &str| normalize_name(n) == want)
    }

    /// The name a column has in the file, for messages: a column renamed to its role
    /// (`vital_status` read as `os_event`) is named as the user wrote it.
    pub fn name_as_read<'a>(&'a self, name: &'a str) -> &'a str {
        self.read_info
            .renamed
            .iter()
            .find(|(_, now)| now == name)
            .map_or(name, |(before, _)| before.as_str())
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
    let mut numeric = true;
    // The cells are trimmed below: parsed without trimming again.
    let parse = |s: &str| {
        if decimal_comma && s.contains(',') {
            parse_trimmed_number(&s.replacen(',', ".", 1))
        } else {
            parse_trimmed_number(s)
        }
    };
    for cell in cells {
        match cell.map(str::trim) {
            None => numbers.push(f64::NAN),
            Some(s) if is_missing_code(s) => numbers.push(f64::NAN),
            Some(s) => match parse(s) {
                Some(v) => numbers.push(v),
                None => {
                    numeric = false;
                    break;
                }
            },
        }
    }
    if numeric {
        return Column::new(name, ColumnData::Numeric(numbers));
    }
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

fn parse_trimmed_number(s: &str) -> Option<f64> {
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
