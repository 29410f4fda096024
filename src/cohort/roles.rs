//! Columns and their roles: the common names each role is found by (ROLE_ALIASES), the
//! user's column map, the one resolver for every column reference a user writes (the file's
//! header or the role's name, any case), and the patient-id check.

use std::collections::BTreeMap;

use super::{Cohort, CohortError, ColumnData, OrderCache, MISSING};

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
            "therapy",
            "therapie",
            "behandlung",
            "traitement",
            "tratamiento",
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
            "pfs_days",
            "pfs (days)",
            "pfs days",
            "pfs_weeks",
            "pfs (weeks)",
            "pfs (monate)",
            "pfs monate",
            "pfs (mois)",
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
            "progressed",
            "progress",
            "pfs event (y/n)",
            "progression (y/n)",
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
            "os_days",
            "os (days)",
            "os days",
            "os_weeks",
            "os (weeks)",
            "os (monate)",
            "os monate",
            "os (mois)",
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
            "dead (y/n)",
            "died",
            "deceased",
            "death (y/n)",
            "vital_status",
            "verstorben",
            "tod",
            "deces",
            "décès",
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

impl Cohort {
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
            // Ids written in increasing order (the usual file) are all distinct: no sort.
            ColumnData::Numeric(v) if v.windows(2).all(|w| w[0] < w[1]) => {}
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
    /// "`<role> (original)`".
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
                        super::name_list(as_read.iter().map(|n| n.as_str()))
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
}
