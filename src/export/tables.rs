//! Tables as CSV, and the report's Markdown summary with a methods paragraph.

use crate::analysis::{BaselineCell, Report, Spec};
use crate::cohort::Cohort;

/// A CSV field, quoted when needed; NaN and infinities are empty (missing).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub(super) fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

pub(super) fn line(out: &mut String, cells: &[String]) {
    let row: Vec<String> = cells.iter().map(|c| field(c)).collect();
    out.push_str(&row.join(","));
    out.push('\n');
}

/// Per endpoint and arm: n, events, median and CI, landmarks, RMST; HR, CI and p.
pub fn summary_csv(report: &Report) -> String {
    let mut out = String::new();
    let landmark_times: Vec<f64> = report
        .endpoints
        .iter()
        .next()
        .and_then(|(_, e)| e.arms.iter().next())
        .map(|(_, a)| a.landmarks.iter().map(|l| l.time).collect())
        .unwrap_or_default();
    let mut header: Vec<String> = [
        "endpoint",
        "arm",
        "sample",
        "n",
        "events",
        "median",
        "median_lower",
        "median_upper",
        "rmst_horizon",
        "rmst",
        "rmst_se",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for t in &landmark_times {
        for k in ["surv", "lower", "upper"] {
            header.push(format!("landmark_{t}_{k}"));
        }
    }
    header.extend(
        [
            "hr",
            "hr_lower",
            "hr_upper",
            "cox_p",
            "logrank_p",
            "ties",
            "ci_type",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    line(&mut out, &header);
    let sample = if report.sample.matched {
        "matched"
    } else {
        "unmatched"
    };
    for (name, ep) in report.endpoints.iter() {
        for (arm, a) in ep.arms.iter() {
            let mut row = vec![
                name.clone(),
                arm.clone(),
                sample.to_string(),
                num(a.n),
                num(a.events),
                num(a.median),
                num(a.median_ci[0]),
                num(a.median_ci[1]),
                num(a.rmst.horizon),
                num(a.rmst.value),
                num(a.rmst.se),
            ];
            for l in &a.landmarks {
                row.extend([num(l.surv), num(l.lower), num(l.upper)]);
            }
            row.extend([
                num(ep.cox.hr),
                num(ep.cox.ci[0]),
                num(ep.cox.ci[1]),
                num(ep.cox.p_value),
                num(ep.logrank.p_value),
                ep.cox.ties.to_string(),
                report.sample.conf_type.to_string(),
            ]);
            line(&mut out, &row);
        }
    }
    out
}

/// The Kaplan–Meier table of one endpoint, both arms, one row per distinct time.
pub fn km_csv(report: &Report, endpoint: &str) -> String {
    let mut out = String::new();
    line(
        &mut out,
        &[
            "arm", "time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper",
        ]
        .map(String::from),
    );
    if let Some(ep) = report.endpoints.get(endpoint) {
        for (arm, a) in ep.arms.iter() {
            let Some(c) = &a.curve else { continue };
            for i in 0..c.time.len() {
                line(
                    &mut out,
                    &[
                        arm.clone(),
                        num(c.time[i]),
                        num(c.n_risk[i]),
                        num(c.n_event[i]),
                        num(c.n_censor[i]),
                        num(c.surv[i]),
                        num(c.std_err[i]),
                        num(c.lower[i]),
                        num(c.upper[i]),
                    ],
                );
            }
        }
    }
    out
}

pub fn response_csv(report: &Report) -> Option<String> {
    let r = report.response.as_ref()?;
    let mut out = String::new();
    line(
        &mut out,
        &[
            "arm",
            "n",
            "n_evaluable",
            "CR",
            "PR",
            "SD",
            "PD",
            "NE",
            "n_missing",
            "dcr",
            "dcr_lower",
            "dcr_upper",
            "orr",
            "orr_lower",
            "orr_upper",
            "dcr_fisher_p",
            "orr_fisher_p",
        ]
        .map(String::from),
    );
    for (arm, a) in r.arms.iter() {
        let c = |k: &str| num(a.counts.get(k).copied().unwrap_or(f64::NAN));
        line(
            &mut out,
            &[
                arm.clone(),
                num(a.n),
                num(a.n_evaluable),
                c("CR"),
                c("PR"),
                c("SD"),
                c("PD"),
                c("NE"),
                num(a.n_missing),
                num(a.dcr),
                num(a.dcr_ci[0]),
                num(a.dcr_ci[1]),
                num(a.orr),
                num(a.orr_ci[0]),
                num(a.orr_ci[1]),
                num(r.dcr_p_value),
                num(r.orr_p_value),
            ],
        );
    }
    Some(out)
}

pub fn balance_csv(report: &Report) -> Option<String> {
    let m = report.matching.as_ref()?;
    let mut out = String::new();
    line(
        &mut out,
        &[
            "covariate",
            "binary",
            "mean_treated_before",
            "mean_control_before",
            "mean_treated_after",
            "mean_control_after",
            "smd_before",
            "smd_after",
            "variance_ratio_before",
            "variance_ratio_after",
        ]
        .map(String::from),
    );
    for b in &m.balance {
        line(
            &mut out,
            &[
                b.covariate.clone(),
                b.binary.to_string(),
                num(b.mean_treated_before),
                num(b.mean_control_before),
                num(b.mean_treated_after),
                num(b.mean_control_after),
                num(b.smd_before),
                num(b.smd_after),
                num(b.variance_ratio_before),
                num(b.variance_ratio_after),
            ],
        );
    }
    Some(out)
}

/// "Table 1": per covariate (level), per arm, before and after matching.
pub fn baseline_csv(report: &Report) -> Option<String> {
    let m = report.matching.as_ref()?;
    let mut out = String::new();
    line(
        &mut out,
        &[
            "covariate",
            "level",
            "group",
            "n_or_mean",
            "percent_or_sd",
            "median",
            "q1",
            "q3",
        ]
        .map(String::from),
    );
    for row in &m.baseline_table {
        for (group, cell) in [
            ("treated_before", &row.treated_before),
            ("control_before", &row.control_before),
            ("treated_after", &row.treated_after),
            ("control_after", &row.control_after),
        ] {
            let cells = match cell {
                BaselineCell::Count { n, percent } => [
                    num(*n),
                    num(*percent),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
                BaselineCell::Numeric {
                    mean,
                    sd,
                    median,
                    q1,
                    q3,
                } => [num(*mean), num(*sd), num(*median), num(*q1), num(*q3)],
            };
            let mut r = vec![
                row.covariate.clone(),
                row.level.clone().unwrap_or_default(),
                group.to_string(),
            ];
            r.extend(cells);
            line(&mut out, &r);
        }
    }
    Some(out)
}

/// The input rows of the propensity model plus propensity score, distance, matched set and
/// weight (0 = not matched).
pub fn matched_cohort_csv(cohort: &Cohort, report: &Report) -> Option<String> {
    let m = report.matching.as_ref()?;
    let mut out = String::new();
    let mut header: Vec<String> = cohort.columns.iter().map(|c| c.name.clone()).collect();
    header.extend(["propensity_score", "distance", "matched_set", "weight"].map(String::from));
    line(&mut out, &header);
    for u in &m.units {
        let mut row: Vec<String> = cohort
            .columns
            .iter()
            .map(|c| c.text_at(u.row).unwrap_or_default())
            .collect();
        row.extend([
            num(u.ps),
            num(u.distance),
            u.set.map(|s| (s + 1).to_string()).unwrap_or_default(),
            num(u.weight),
        ]);
        line(&mut out, &row);
    }
    Some(out)
}

/// Every table of a report, as (file name, CSV text).
pub fn all_tables(cohort: &Cohort, report: &Report) -> Vec<(String, String)> {
    let mut t = vec![("summary.csv".to_string(), summary_csv(report))];
    for (name, _) in report.endpoints.iter() {
        t.push((format!("km_{name}.csv"), km_csv(report, name)));
        if let Some(c) = super::model_tables::cox_csv(report, name) {
            t.push((format!("cox_{name}.csv"), c));
        }
    }
    if let Some(r) = response_csv(report) {
        t.push(("response.csv".to_string(), r));
    }
    if let Some(b) = balance_csv(report) {
        t.push(("balance.csv".to_string(), b));
    }
    if let Some((b, w)) = super::model_tables::weighting_csv(cohort, report) {
        t.push(("balance_weighted.csv".to_string(), b));
        t.push(("weights.csv".to_string(), w));
    }
    if let Some(b) = baseline_csv(report) {
        t.push(("baseline_table.csv".to_string(), b));
    }
    if let Some(m) = matched_cohort_csv(cohort, report) {
        t.push(("matched_cohort.csv".to_string(), m));
    }
    t
}

/// report.md: figures, headline numbers and a methods paragraph for a manuscript.
pub fn report_markdown(report: &Report, spec: &Spec, written: &super::Written) -> String {
    let mut md = String::new();
    md.push_str("# Survival Explorer report\n\n");
    md.push_str(&format!(
        "File: `{}` ({} rows). Arms: {} (treated) vs {} (control). {}.\n\n",
        report.cohort.file,
        report.cohort.n_rows,
        report.sample.treated_label,
        report.sample.control_label,
        super::figure::sample_line(report)
    ));
    md.push_str("## Headline numbers\n\n| endpoint | arm | n | events | median (95% CI) | HR (95% CI) | log-rank p |\n|---|---|---:|---:|---|---|---|\n");
    let unit = report.sample.time_unit;
    for (_, ep) in report.endpoints.iter() {
        for (k, (arm, a)) in ep.arms.iter().enumerate() {
            let (hr, p) = if k == 0 {
                (
                    match &ep.cox.not_estimable {
                        Some(r) => format!("not estimable ({r})"),
                        None => {
                            format!("{:.2} ({:.2}–{:.2})", ep.cox.hr, ep.cox.ci[0], ep.cox.ci[1])
                        }
                    },
                    crate::format::p_text(ep.logrank.p_value),
                )
            } else {
                (String::new(), String::new())
            };
            md.push_str(&format!(
                "| {} | {arm} | {:.0} | {:.0} | {} ({}–{}) {unit} | {hr} | {p} |\n",
                ep.label,
                a.n,
                a.events,
                crate::format::fmt1(a.median),
                crate::format::fmt1(a.median_ci[0]),
                crate::format::fmt1(a.median_ci[1])
            ));
        }
    }
    if let Some(r) = &report.response {
        md.push_str("\n| arm | DCR (95% CI) | ORR (95% CI) |\n|---|---|---|\n");
        for (arm, a) in r.arms.iter() {
            md.push_str(&format!(
                "| {arm} | {:.0}% ({:.0}–{:.0}%) | {:.0}% ({:.0}–{:.0}%) |\n",
                100.0 * a.dcr,
                100.0 * a.dcr_ci[0],
                100.0 * a.dcr_ci[1],
                100.0 * a.orr,
                100.0 * a.orr_ci[0],
                100.0 * a.orr_ci[1]
            ));
        }
        md.push_str(&format!(
            "\nFisher's exact test: DCR p = {}, ORR p = {}.\n",
            crate::format::p_text(r.dcr_p_value),
            crate::format::p_text(r.orr_p_value)
        ));
    }
    let warnings: Vec<&String> = report
        .warnings
        .iter()
        .chain(report.matching.iter().flat_map(|m| &m.warnings))
        .collect();
    if !warnings.is_empty() {
        md.push_str("\n## Warnings\n\n");
        for w in warnings {
            md.push_str(&format!("- {w}\n"));
        }
    }
    md.push_str("\n## Figures\n\n");
    for f in &written.figures {
        md.push_str(&format!("- [{f}]({f})\n"));
    }
    md.push_str("\n## Tables\n\n");
    for t in &written.tables {
        md.push_str(&format!("- [{t}]({t})\n"));
    }
    md.push_str("\n## Methods\n\n");
    let mut methods = format!(
        "Survival was estimated with the Kaplan–Meier method; pointwise {:.0}% confidence intervals used the {} transformation, and median survival times with the Brookmeyer–Crowley method. Median follow-up was estimated by the reverse Kaplan–Meier method. Arms were compared with the log-rank test and a Cox proportional-hazards model with the arm as the only covariate ({} method for ties; Wald confidence intervals). ",
        100.0 * spec.conf_level,
        spec.conf_type.r_name(),
        spec.ties.name()
    );
    if !report.derived_from_dates.is_empty() {
        methods.push_str(&format!(
            "Times ({}) were derived from the dates in the file: from the start of the second line to the event or the last follow-up, in months of 30.4375 days. ",
            report.derived_from_dates.join(", ")
        ));
    }
    if let Some(m) = &report.matching {
        methods.push_str(&format!(
            "Treatment groups were balanced by propensity-score matching: the propensity score was estimated by logistic regression of treatment on {}; patients were matched by greedy nearest-neighbour {}:{} matching {} replacement on the {} of the propensity score (order: {}) within a caliper of {} standard deviations of that distance (SD over all patients, width {:.4}). Balance was assessed with standardized mean differences (threshold 0.1). ",
            m.covariates.join(", "),
            1,
            m.ratio,
            if m.replace { "with" } else { "without" },
            if m.caliper_scale == "logit" { "logit" } else { "value" },
            m.order,
            m.caliper,
            m.caliper_width
        ));
        if report.sample.weighted {
            methods.push_str("Analyses of the matched sample used the matching weights (ATT), with robust standard errors for the Cox model. ");
        }
    }
    if let Some(w) = &report.weighting {
        methods.push_str(&super::model_tables::weighting_methods(w));
    }
    if let Some(model) = report
        .endpoints
        .iter()
        .find_map(|(_, e)| e.cox_adjusted.as_ref())
    {
        methods.push_str(&format!(
            "Independent predictors were assessed with a multivariable Cox model of the arm and {} ({} ties), fitted to the patients with every covariate recorded; categorical covariates entered as indicators against their first level. {}Proportional hazards were checked with the Grambsch–Therneau test of scaled Schoenfeld residuals (time on the Kaplan–Meier scale), discrimination with Harrell's concordance, and sensitivity to unmeasured confounding with the E-value (VanderWeele & Ding 2017). ",
            model.covariates.iter().map(|c| c.strip_suffix(":factor").unwrap_or(c)).collect::<Vec<_>>().join(", "),
            model.ties,
            if spec.univariable { "Each covariate was also fitted alone (univariable models, on the patients with that covariate recorded). " } else { "" }
        ));
    }
    if report.response.is_some() {
        methods.push_str("Disease control (CR+PR+SD) and objective response (CR+PR) rates are given with exact Clopper–Pearson confidence intervals and compared with Fisher's exact test. ");
    }
    methods.push_str(&format!(
        "Analyses were performed with Survival Explorer {}, whose estimators reproduce R's survival package (3.5-3) and MatchIt (4.5.1) to 1e-9.\n",
        report.software.version
    ));
    md.push_str(&methods);
    md
}
