//! How the matching and weighting options of the command line combine with a spec file's.

use super::AnalyzeArgs;
use crate::analysis::MatchSpec;

impl AnalyzeArgs {
    /// The matching settings with the matching options applied to `base` (the spec file's),
    /// or `base` when none was given.
    pub(super) fn matching_with(
        &self,
        base: Option<MatchSpec>,
    ) -> Result<Option<MatchSpec>, String> {
        let matching_given = self.match_covariates.is_some()
            || self.caliper.is_some()
            || self.caliper_scale.is_some()
            || self.order.is_some()
            || self.ratio.is_some()
            || self.replace
            || self.seed.is_some()
            || self.robust;
        if !matching_given {
            return Ok(base);
        }
        let mut m = match (&self.match_covariates, base) {
            (Some(covs), base) => MatchSpec {
                covariates: covs.iter().map(|c| c.trim().to_string()).collect(),
                ..base.unwrap_or_default()
            },
            (None, Some(base)) => base,
            (None, None) => {
                return Err(
                    "matching options need --match COV,… (or a spec file with matching)"
                        .to_string(),
                )
            }
        };
        if let Some(c) = self.caliper {
            m.caliper = c;
        }
        if let Some(sc) = self.caliper_scale {
            m.scale = sc;
        }
        if let Some(o) = self.order {
            m.order = o;
        }
        if let Some(r) = self.ratio {
            m.ratio = r;
        }
        m.replace |= self.replace;
        if let Some(sd) = self.seed {
            m.seed = sd;
        }
        m.robust |= self.robust;
        Ok(Some(m))
    }

    /// The weighting settings with the weighting options applied to `base` (the spec file's),
    /// or `base` when none was given.
    pub(super) fn weighting_with(
        &self,
        base: Option<crate::weighting::WeightSpec>,
    ) -> Result<Option<crate::weighting::WeightSpec>, String> {
        let given = self.iptw.is_some()
            || self.estimand.is_some()
            || self.stabilized
            || self.trim.is_some();
        if !given {
            return Ok(base);
        }
        let mut w = match (&self.iptw, base) {
            (Some(covs), base) => crate::weighting::WeightSpec {
                covariates: covs.iter().map(|c| c.trim().to_string()).collect(),
                ..base.unwrap_or_default()
            },
            (None, Some(base)) => base,
            (None, None) => {
                return Err(
                    "weighting options need --iptw COV,… (or a spec file with weighting)"
                        .to_string(),
                )
            }
        };
        if let Some(e) = self.estimand {
            w.estimand = e;
        }
        w.stabilized |= self.stabilized;
        if self.trim.is_some() {
            w.trim = self.trim;
        }
        Ok(Some(w))
    }
}
