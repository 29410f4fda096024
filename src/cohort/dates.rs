//! Times from dates: when a file has the start of second-line therapy and the dates of
//! progression, death or last follow-up instead of durations, the durations are derived here
//! (months = days / 30.4375, the mean month of the Gregorian calendar: 365.25 / 12).
//!
//! Dates are read as ISO (`2024-03-15`, also `2024/03/15`, a time after the date is ignored) or
//! as day/month/year (`15/03/2024`, `15.03.2024`, `15-03-2024`). Whether `03/04/2024` is the
//! 3rd of April or the 4th of March is decided by the data (a first field above 12 means
//! day/month/year) or by the user (`--date-format dmy|mdy`); when nothing decides it, the load
//! stops and asks.

use serde::{Deserialize, Serialize};

use super::{Cohort, CohortError, Column, ColumnData};

/// Days per month used to turn day counts into months (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// The date roles, in the order they are listed to the user.
pub const DATE_ROLES: [&str; 5] = [
    "start_date",
    "progression_date",
    "death_date",
    "last_followup_date",
    "first_line_start_date",
];

/// How to read dates whose year comes last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DateFormat {
    /// Decide from the data; stop when it cannot.
    #[default]
    Auto,
    /// Day/month/year (Europe).
    Dmy,
    /// Month/day/year (United States).
    Mdy,
}

impl std::str::FromStr for DateFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s
            .to_ascii_lowercase()
            .replace(['/', '-', '.', '%'], "")
            .as_str()
        {
            "auto" | "" => Ok(DateFormat::Auto),
            "dmy" | "ddmmyyyy" | "dmy4" | "dmyyyy" => Ok(DateFormat::Dmy),
            "mdy" | "mmddyyyy" | "mdyyyy" => Ok(DateFormat::Mdy),
            // ISO dates are always read; "iso" only says there is nothing to decide.
            "iso" | "ymd" | "yyyymmdd" => Ok(DateFormat::Auto),
            _ => Err(format!(
                "--date-format '{s}': expected dmy (day/month/year), mdy (month/day/year) or iso"
            )),
        }
    }
}

/// A date as written, before the day/month order is known.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Written {
    /// Year first: unambiguous.
    Iso { y: i64, m: u32, d: u32 },
    /// Year last: `a/b/yyyy`, day and month in an order to be decided.
    YearLast { a: u32, b: u32, y: i64 },
}

/// Splits a date as written, or says what is wrong with it.
fn split_date(s: &str) -> Result<Written, &'static str> {
    let date = s.trim().split(['T', ' ']).next().unwrap_or("");
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    let [p0, p1, p2] = parts.as_slice() else {
        return Err("three fields");
    };
    let num = |p: &str| -> Option<i64> {
        (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let (Some(a), Some(b), Some(c)) = (num(p0), num(p1), num(p2)) else {
        return Err("numbers");
    };
    if p0.len() == 4 {
        Ok(Written::Iso {
            y: a,
            m: b as u32,
            d: c as u32,
        })
    } else if p2.len() == 4 {
        Ok(Written::YearLast {
            a: a as u32,
            b: b as u32,
            y: c,
        })
    } else {
        Err("a four-digit year")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date.
pub fn day_number(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    // Count from 1 March of year 0 so that the leap day ends the year.
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era_days = y * 365 + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400);
    let day_of_year = (153 * m as i64 + 2) / 5 + d as i64 - 1;
    // 719468: days from 0000-03-01 to 1970-01-01.
    Some(era_days + day_of_year - 719_468)
}

/// One date column (a role) as written.
struct DateColumn {
    role: &'static str,
    /// The name in the file when it was read through an alias or the map.
    cells: Vec<Option<(String, Written)>>,
}

fn date_column(cohort: &Cohort, role: &'static str) -> Result<Option<DateColumn>, CohortError> {
    let Some(col) = cohort.column(role) else {
        return Ok(None);
    };
    let mut cells = Vec::with_capacity(cohort.n_rows);
    for row in 0..cohort.n_rows {
        let Some(text) = col.text_at(row) else {
            cells.push(None);
            continue;
        };
        match split_date(&text) {
            Ok(w) => cells.push(Some((text, w))),
            Err(what) => {
                return Err(CohortError::Format {
                    file: cohort.source.clone(),
                    message: format!(
                        "column '{role}', row {}: expected a date (2024-03-15 or 15/03/2024: {what}), found '{text}'",
                        cohort.row_number(row)
                    ),
                })
            }
        }
    }
    Ok(Some(DateColumn { role, cells }))
}

/// Decides day/month order for dates written with the year last.
fn decide_order(
    cohort: &Cohort,
    columns: &[DateColumn],
    format: DateFormat,
    warnings: &mut Vec<String>,
) -> Result<DateFormat, CohortError> {
    if format != DateFormat::Auto {
        return Ok(format);
    }
    let mut day_first: Option<(&str, usize, &str)> = None;
    let mut month_first: Option<(&str, usize, &str)> = None;
    let mut any_year_last = false;
    for c in columns {
        for (row, cell) in c.cells.iter().enumerate() {
            if let Some((text, Written::YearLast { a, b, .. })) = cell {
                any_year_last = true;
                if *a > 12 && day_first.is_none() {
                    day_first = Some((c.role, row, text));
                }
                if *b > 12 && month_first.is_none() {
                    month_first = Some((c.role, row, text));
                }
            }
        }
    }
    let fail = |message: String| CohortError::Format {
        file: cohort.source.clone(),
        message,
    };
    match (day_first, month_first) {
        _ if !any_year_last => Ok(DateFormat::Auto),
        (Some((r1, w1, t1)), Some((r2, w2, t2))) => Err(fail(format!(
            "dates are written both day first ('{t1}' in {r1}, row {}) and month first ('{t2}' in {r2}, row {}); make them consistent",
            cohort.row_number(w1),
            cohort.row_number(w2)
        ))),
        (Some((role, row, text)), None) => {
            warnings.push(format!(
                "dates read as day/month/year ('{text}' in {role}, row {}, has a day above 12)",
                cohort.row_number(row)
            ));
            Ok(DateFormat::Dmy)
        }
        (None, Some((role, row, text))) => {
            warnings.push(format!(
                "dates read as month/day/year ('{text}' in {role}, row {}, has a day above 12)",
                cohort.row_number(row)
            ));
            Ok(DateFormat::Mdy)
        }
        (None, None) => Err(fail(
            "dates such as 03/04/2024 could be day/month or month/day and no date tells which; choose \"Dates written as\" in Columns… (command line: --date-format dmy or mdy)".to_string(),
        )),
    }
}

/// Day numbers of a date column, `None` where missing.
fn day_numbers(
    cohort: &Cohort,
    c: &DateColumn,
    order: DateFormat,
) -> Result<Vec<Option<i64>>, CohortError> {
    c.cells
        .iter()
        .enumerate()
        .map(|(row, cell)| {
            let Some((text, w)) = cell else {
                return Ok(None);
            };
            let (y, m, d) = match *w {
                Written::Iso { y, m, d } => (y, m, d),
                Written::YearLast { a, b, y } => match order {
                    DateFormat::Mdy => (y, a, b),
                    _ => (y, b, a),
                },
            };
            day_number(y, m, d)
                .map(Some)
                .ok_or_else(|| CohortError::Format {
                    file: cohort.source.clone(),
                    message: format!(
                        "column '{}', row {}: '{text}' is not a calendar date",
                        c.role,
                        cohort.row_number(row)
                    ),
                })
        })
        .collect()
}

impl Cohort {
    /// Derives `os_months`/`os_event`, `pfs_months`/`pfs_event` and `first_line_months` from
    /// date columns, for each that the file lacks:
    /// - OS ends at `death_date` (event) or else at `last_followup_date` (censored);
    /// - PFS ends at the earlier of `progression_date` and `death_date` (event), or else at
    ///   `last_followup_date` (censored);
    /// - `first_line_months` runs from `first_line_start_date` to `start_date`.
    ///
    /// An end before its start is an error naming the row. Event columns already in the file
    /// are kept (only the time is derived then).
    pub fn derive_times_from_dates(&mut self, format: DateFormat) -> Result<(), CohortError> {
        // Time columns may be added: no cached order may outlive them.
        self.orders = super::OrderCache::default();
        let mut columns = Vec::new();
        for role in DATE_ROLES {
            if let Some(c) = date_column(self, role)? {
                columns.push(c);
            }
        }
        if !columns.iter().any(|c| c.role == "start_date") {
            return Ok(());
        }
        let wanted = |c: &Cohort, time: &str| !c.has_column(time);
        let any_end = ["progression_date", "death_date", "last_followup_date"]
            .iter()
            .any(|r| columns.iter().any(|c| c.role == *r));
        let derive_first_line = wanted(self, "first_line_months")
            && columns.iter().any(|c| c.role == "first_line_start_date");
        if !(any_end && (wanted(self, "os_months") || wanted(self, "pfs_months")))
            && !derive_first_line
        {
            return Ok(());
        }
        let mut warnings = Vec::new();
        let order = decide_order(self, &columns, format, &mut warnings)?;
        let mut days = std::collections::HashMap::new();
        for c in &columns {
            days.insert(c.role, day_numbers(self, c, order)?);
        }
        let get = |role: &str, row: usize| days.get(role).and_then(|v| v[row]);
        let n = self.n_rows;
        let source = self.source.clone();
        let row_no: Vec<usize> = (0..n).map(|r| self.row_number(r)).collect();
        let interval = |row: usize, start: i64, end: i64, end_role: &str, start_role: &str| {
            if end < start {
                Err(CohortError::Format {
                    file: source.clone(),
                    message: format!(
                        "column '{end_role}', row {}: the date is before {start_role} (an end before its start)",
                        row_no[row]
                    ),
                })
            } else {
                Ok((end - start) as f64 / DAYS_PER_MONTH)
            }
        };
        let mut derived = Vec::new();
        // OS: death, else last follow-up.
        let has = |r: &str| days.contains_key(r);
        if wanted(self, "os_months") && (has("death_date") || has("last_followup_date")) {
            let (mut time, mut event) = (vec![f64::NAN; n], vec![f64::NAN; n]);
            for row in 0..n {
                let Some(start) = get("start_date", row) else {
                    continue;
                };
                if let Some(death) = get("death_date", row) {
                    time[row] = interval(row, start, death, "death_date", "start_date")?;
                    event[row] = 1.0;
                } else if let Some(last) = get("last_followup_date", row) {
                    time[row] = interval(row, start, last, "last_followup_date", "start_date")?;
                    event[row] = 0.0;
                }
            }
            self.push_derived("os_months", time, &mut derived);
            if !self.has_column("os_event") {
                self.push_derived("os_event", event, &mut derived);
            }
        }
        // PFS: the earlier of progression and death, else last follow-up.
        if wanted(self, "pfs_months") && has("progression_date") {
            let (mut time, mut event) = (vec![f64::NAN; n], vec![f64::NAN; n]);
            for row in 0..n {
                let Some(start) = get("start_date", row) else {
                    continue;
                };
                let prog = get("progression_date", row).map(|d| (d, "progression_date"));
                let death = get("death_date", row).map(|d| (d, "death_date"));
                let first = match (prog, death) {
                    (Some(p), Some(d)) => Some(if d.0 < p.0 { d } else { p }),
                    (p, d) => p.or(d),
                };
                if let Some((end, role)) = first {
                    time[row] = interval(row, start, end, role, "start_date")?;
                    event[row] = 1.0;
                } else if let Some(last) = get("last_followup_date", row) {
                    time[row] = interval(row, start, last, "last_followup_date", "start_date")?;
                    event[row] = 0.0;
                }
            }
            self.push_derived("pfs_months", time, &mut derived);
            if !self.has_column("pfs_event") {
                self.push_derived("pfs_event", event, &mut derived);
            }
        }
        if derive_first_line {
            let mut time = vec![f64::NAN; n];
            for (row, t) in time.iter_mut().enumerate() {
                if let (Some(ab), Some(start)) =
                    (get("first_line_start_date", row), get("start_date", row))
                {
                    *t = interval(row, ab, start, "start_date", "first_line_start_date")?;
                }
            }
            self.push_derived("first_line_months", time, &mut derived);
        }
        if !derived.is_empty() {
            self.read_info.derived = derived.clone();
            self.read_info.date_format = order;
            warnings.push(format!(
                "{} derived from dates (months = days / 30.4375)",
                derived.join(", ")
            ));
        }
        self.warnings.extend(warnings);
        Ok(())
    }

    fn push_derived(&mut self, name: &str, values: Vec<f64>, derived: &mut Vec<String>) {
        self.columns
            .push(Column::new(name.to_string(), ColumnData::Numeric(values)));
        derived.push(name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_match_the_calendar() {
        assert_eq!(day_number(1970, 1, 1), Some(0));
        assert_eq!(day_number(2000, 3, 1), Some(11_017));
        assert_eq!(
            day_number(2024, 2, 29).unwrap() - day_number(2024, 2, 28).unwrap(),
            1
        );
        assert_eq!(day_number(2023, 2, 29), None);
        assert_eq!(day_number(1900, 2, 29), None);
        assert_eq!(day_number(2000, 2, 29).map(|_| ()), Some(()));
        assert_eq!(day_number(1969, 12, 31), Some(-1));
        // One year of days, leap and common.
        assert_eq!(
            day_number(2025, 1, 1).unwrap() - day_number(2024, 1, 1).unwrap(),
            366
        );
        assert_eq!(
            day_number(2026, 1, 1).unwrap() - day_number(2025, 1, 1).unwrap(),
            365
        );
        // Consecutive days over four centuries step by one.
        let mut prev = day_number(1899, 12, 31).unwrap();
        for y in 1900..2300 {
            for m in 1..=12 {
                for d in 1..=days_in_month(y, m) {
                    let k = day_number(y, m, d).unwrap();
                    assert_eq!(k, prev + 1, "{y}-{m}-{d}");
                    prev = k;
                }
            }
        }
    }

    #[test]
    fn dates_are_split_as_written() {
        assert_eq!(
            split_date("2024-03-15"),
            Ok(Written::Iso {
                y: 2024,
                m: 3,
                d: 15
            })
        );
        assert_eq!(
            split_date("2024-03-15 00:00:00"),
            Ok(Written::Iso {
                y: 2024,
                m: 3,
                d: 15
            })
        );
        assert_eq!(
            split_date("15.03.2024"),
            Ok(Written::YearLast {
                a: 15,
                b: 3,
                y: 2024
            })
        );
        assert!(split_date("15/03/24").is_err());
        assert!(split_date("March 3").is_err());
        assert!(split_date("2024-03").is_err());
    }
}
