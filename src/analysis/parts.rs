//! Which parts of a report an analysis computes ([`Parts`]: the window asks first for what
//! its view shows, then for the rest), and the parts after matching, run side by side on
//! rayon's threads and returned in their order, so that the report does not depend on the
//! threads.

use rayon::prelude::*;

use super::{AnalysisError, EndpointReport, MatchingReport, Report, ResponseReport};

/// Which endpoints an analysis computes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum EndpointChoice {
    /// Every endpoint of the spec.
    #[default]
    All,
    /// These endpoints (by name) only.
    Only(Vec<String>),
    /// Every endpoint but these.
    AllBut(Vec<String>),
}

impl EndpointChoice {
    /// True when the endpoint `name` is chosen.
    pub fn includes(&self, name: &str) -> bool {
        match self {
            EndpointChoice::All => true,
            EndpointChoice::Only(names) => names.iter().any(|n| n == name),
            EndpointChoice::AllBut(names) => !names.iter().any(|n| n == name),
        }
    }

    fn complement(&self) -> EndpointChoice {
        match self {
            EndpointChoice::All => EndpointChoice::Only(Vec::new()),
            EndpointChoice::Only(names) if names.is_empty() => EndpointChoice::All,
            EndpointChoice::Only(names) => EndpointChoice::AllBut(names.clone()),
            EndpointChoice::AllBut(names) if names.is_empty() => EndpointChoice::Only(Vec::new()),
            EndpointChoice::AllBut(names) => EndpointChoice::Only(names.clone()),
        }
    }
}

/// Which parts of a [`super::Report`] an analysis computes. The sample, the counts, the
/// matching's counts and propensity model, the weighting and the warnings are always there;
/// the rest only when asked. A chosen endpoint comes with everything the spec asks of it
/// (caliper sweep, forest plot, adjusted models, the sensitivity summary). The full report,
/// [`Parts::all`], is what the command line, `report` and the tests compute: a report of
/// fewer parts has exactly the numbers the full report has for those parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parts {
    pub endpoints: EndpointChoice,
    /// Objective response (ORR, DCR).
    pub response: bool,
    /// The matching's balance: SMDs, variance ratios and the PS histogram.
    pub balance: bool,
    /// The matching's Table 1 (baseline characteristics by arm, before and after).
    pub table1: bool,
    /// The matched pairs and the per-unit list (export of the matched cohort).
    pub pairs: bool,
}

impl Default for Parts {
    fn default() -> Self {
        Parts::all()
    }
}

impl Parts {
    /// Every part: the full report.
    pub fn all() -> Parts {
        Parts {
            endpoints: EndpointChoice::All,
            response: true,
            balance: true,
            table1: true,
            pairs: true,
        }
    }

    /// No part beyond what every report holds (sample, counts, matching counts).
    pub fn none() -> Parts {
        Parts {
            endpoints: EndpointChoice::Only(Vec::new()),
            response: false,
            balance: false,
            table1: false,
            pairs: false,
        }
    }

    /// One endpoint only (its curves, medians, at-risk table, HR and log-rank, and what the
    /// spec asks of it).
    pub fn endpoint(name: &str) -> Parts {
        Parts {
            endpoints: EndpointChoice::Only(vec![name.to_string()]),
            ..Parts::none()
        }
    }

    /// Every part these parts leave out: `self` then `self.rest()` make the full report.
    pub fn rest(&self) -> Parts {
        Parts {
            endpoints: self.endpoints.complement(),
            response: !self.response,
            balance: !self.balance,
            table1: !self.table1,
            pairs: !self.pairs,
        }
    }

    /// True when every part of `other` is among these parts.
    pub fn covers(&self, other: &Parts) -> bool {
        let flags = |p: &Parts| [p.response, p.balance, p.table1, p.pairs];
        let endpoints = match (&self.endpoints, &other.endpoints) {
            (EndpointChoice::All, _) => true,
            (_, EndpointChoice::Only(names)) => names.iter().all(|n| self.endpoints.includes(n)),
            (EndpointChoice::AllBut(mine), EndpointChoice::AllBut(theirs)) => {
                mine.iter().all(|n| theirs.contains(n))
            }
            _ => false,
        };
        endpoints
            && flags(self)
                .iter()
                .zip(flags(other))
                .all(|(&mine, theirs)| mine || !theirs)
    }

    /// These parts but those of `other`.
    pub fn without(&self, other: &Parts) -> Parts {
        use EndpointChoice::*;
        let not = other.rest();
        let endpoints = match (&self.endpoints, &not.endpoints) {
            (All, e) | (e, All) => e.clone(),
            (Only(a), Only(b)) => Only(a.iter().filter(|n| b.contains(n)).cloned().collect()),
            (AllBut(a), AllBut(b)) => {
                let mut names = a.clone();
                names.extend(b.iter().filter(|n| !a.contains(n)).cloned());
                AllBut(names)
            }
            (Only(only), AllBut(but)) | (AllBut(but), Only(only)) => {
                Only(only.iter().filter(|n| !but.contains(n)).cloned().collect())
            }
        };
        Parts {
            endpoints,
            response: self.response && not.response,
            balance: self.balance && not.balance,
            table1: self.table1 && not.table1,
            pairs: self.pairs && not.pairs,
        }
    }

    /// These parts and `other`'s.
    pub fn union(&self, other: &Parts) -> Parts {
        use EndpointChoice::*;
        let endpoints = match (&self.endpoints, &other.endpoints) {
            (All, _) | (_, All) => All,
            (Only(a), Only(b)) => {
                let mut names = a.clone();
                names.extend(b.iter().filter(|n| !a.contains(n)).cloned());
                Only(names)
            }
            (AllBut(a), AllBut(b)) => AllBut(a.iter().filter(|n| b.contains(n)).cloned().collect()),
            (Only(only), AllBut(but)) | (AllBut(but), Only(only)) => {
                AllBut(but.iter().filter(|n| !only.contains(n)).cloned().collect())
            }
        };
        let endpoints = match endpoints {
            AllBut(names) if names.is_empty() => All,
            e => e,
        };
        Parts {
            endpoints,
            response: self.response || other.response,
            balance: self.balance || other.balance,
            table1: self.table1 || other.table1,
            pairs: self.pairs || other.pairs,
        }
    }
}

impl Report {
    /// True when the report holds every part of `parts`.
    pub fn holds(&self, parts: &Parts) -> bool {
        self.parts.covers(parts)
    }

    /// Joins `other`, a report of other parts of the same analysis (same cohort and spec):
    /// the result holds the parts of both, each as the full report has it, the endpoints in
    /// the full report's order.
    pub fn merge(&mut self, other: Report) {
        let Report {
            endpoints,
            response,
            matching,
            parts,
            timing,
            ..
        } = other;
        for (name, ep) in endpoints.0 {
            if self.endpoints.get(&name).is_none() {
                self.endpoints.0.push((name, ep));
            }
        }
        let order = &self.endpoint_order;
        self.endpoints
            .0
            .sort_by_key(|(k, _)| order.iter().position(|n| n == k).unwrap_or(usize::MAX));
        if parts.response && !self.parts.response {
            self.response = response;
        }
        if let (Some(mine), Some(theirs)) = (self.matching.as_mut(), matching) {
            if parts.balance && !self.parts.balance {
                mine.balance = theirs.balance;
                mine.ps_histogram = theirs.ps_histogram;
            }
            if parts.table1 && !self.parts.table1 {
                mine.baseline_table = theirs.baseline_table;
            }
            if parts.pairs && !self.parts.pairs {
                mine.pairs = theirs.pairs;
                mine.units = theirs.units;
            }
        }
        self.parts = self.parts.union(&parts);
        self.timing.analysis_ms += timing.analysis_ms;
    }
}

/// One part of an analysis after matching, as [`run_parts`] returns it. A handful exist per
/// analysis and each is moved once: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Part {
    Matching(MatchingReport),
    /// The endpoint's name and its report.
    Endpoint(String, Result<EndpointReport, AnalysisError>),
    Response(Result<Option<ResponseReport>, AnalysisError>),
    /// The part did not run: the caller asked the analysis to stop.
    Cancelled,
}

/// A part of an analysis, to run on any thread.
pub(super) type PartFn<'a, T> = Box<dyn FnOnce() -> T + Send + 'a>;

/// Runs independent parts on rayon's threads (side by side when `side_by_side`, else one
/// after the other) and returns their results in the parts' order: the numbers do not
/// depend on the threads.
pub(super) fn run_parts<T: Send>(parts: Vec<PartFn<'_, T>>, side_by_side: bool) -> Vec<T> {
    if !side_by_side || parts.len() <= 1 {
        return parts.into_iter().map(|part| part()).collect();
    }
    parts.into_par_iter().map(|part| part()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Results come back in the parts' order whichever part ends first, and every part runs
    /// once, side by side or in turn.
    #[test]
    fn parts_return_in_order() {
        for side_by_side in [true, false] {
            let mut parts: Vec<PartFn<'_, usize>> = Vec::new();
            for k in 0..6usize {
                parts.push(Box::new(move || {
                    // The first parts take longest, so later ones may finish first.
                    std::thread::sleep(std::time::Duration::from_millis(3 * (6 - k) as u64));
                    k * 10
                }));
            }
            assert_eq!(run_parts(parts, side_by_side), vec![0, 10, 20, 30, 40, 50]);
        }
    }

    /// A part and its rest make all parts, and each covers itself but not the other.
    #[test]
    fn parts_and_their_rest_make_the_full_report() {
        let shown = [
            Parts::endpoint("pfs"),
            Parts::none(),
            Parts::all(),
            Parts {
                balance: true,
                table1: true,
                ..Parts::none()
            },
        ];
        for p in shown {
            let rest = p.rest();
            assert!(p.union(&rest).covers(&Parts::all()), "{p:?}");
            assert!(p.covers(&p) && rest.covers(&rest));
            if p != Parts::none() {
                assert!(!rest.covers(&p), "{p:?}");
            }
            assert_eq!(rest.rest(), p);
        }
        let os = Parts::endpoint("os");
        assert_eq!(Parts::all().without(&os), os.rest());
        assert_eq!(os.without(&Parts::endpoint("pfs")), os);
        assert!(!os.without(&os).endpoints.includes("os"));
        assert!(Parts::endpoint("os").rest().endpoints.includes("pfs"));
        assert!(!Parts::endpoint("os").rest().endpoints.includes("os"));
    }
}
