//! Numbers as people read them, one module for the window, the figures, the tables and
//! report.md: decimals, "NR"/"not reached", p-values with their power of ten, percentages;
//! and the time axis' ticks (`axis`), so the at-risk table sits under the same times
//! everywhere. Presentation only: no statistics.

pub mod axis;

/// The Kaplan–Meier y axis' title for an endpoint (its label), so that a figure says what
/// survives: "Progression-free survival" rather than "Survival probability" on a PFS plot.
pub fn survival_axis_title(endpoint_label: &str) -> String {
    match endpoint_label {
        "PFS" => "Progression-free survival".to_string(),
        "OS" => "Overall survival".to_string(),
        "OS from start of A+B" => "Overall survival from the start of A+B".to_string(),
        other => format!("{other}: probability without the event"),
    }
}

/// A person's name for a canonical column ("AFP ≥ 400 ng/mL" for `afp_ge_400`); other
/// columns keep their name.
pub fn column_label(name: &str) -> String {
    match name {
        "ecog" => "ECOG PS".to_string(),
        "albi_grade" => "ALBI grade".to_string(),
        "prior_io_response" => "Response to prior A+B".to_string(),
        "bclc" => "BCLC stage".to_string(),
        "etiology" => "Etiology".to_string(),
        "afp_ge_400" => "AFP ≥ 400 ng/mL".to_string(),
        "nlr" => "NLR".to_string(),
        "pvt" => "Portal vein thrombosis".to_string(),
        "age" => "Age".to_string(),
        other => other.to_string(),
    }
}

/// A level of a column as people read it: "no" / "yes" for the 0/1 flags whose label is a
/// condition (AFP ≥ 400, portal vein thrombosis); other levels as they are.
pub fn level_label(column: &str, level: &str) -> String {
    match (column, level) {
        ("afp_ge_400" | "pvt", "0") => "no".to_string(),
        ("afp_ge_400" | "pvt", "1") => "yes".to_string(),
        _ => level.to_string(),
    }
}

/// A model term as people read it: a covariate's label ("ALBI grade"), or for a factor's
/// level term (the covariate's name followed by the level, as R names it) "Response to prior
/// A+B: PD". `covariates` are the model's columns; a term matching none stays as it is.
pub fn term_label(term: &str, covariates: &[String]) -> String {
    if covariates.iter().any(|c| c == term) {
        return column_label(term);
    }
    // The longest covariate that prefixes the term (a column may prefix another's name).
    match covariates
        .iter()
        .filter(|c| term.len() > c.len() && term.starts_with(c.as_str()))
        .max_by_key(|c| c.len())
    {
        Some(c) => format!("{}: {}", column_label(c), level_label(c, &term[c.len()..])),
        None => term.to_string(),
    }
}

/// Number with `d` decimals, "—" when missing.
pub fn num(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{x:.d$}")
    } else {
        "—".to_string()
    }
}

/// "est (lo–hi)", with "NR" for a limit not reached.
pub fn est_ci(est: f64, lo: f64, hi: f64, d: usize) -> String {
    let nr = |x: f64| {
        if x.is_finite() {
            format!("{x:.d$}")
        } else {
            "NR".to_string()
        }
    };
    format!("{} ({}–{})", nr(est), nr(lo), nr(hi))
}

/// A p-value as a reader wants it: 3 decimals, or mantissa and power of ten when small
/// (never "< 0.0001"). Returns (text before the exponent, exponent) so the caller can raise it.
pub fn p_value_parts(p: f64) -> (String, Option<String>) {
    if !p.is_finite() {
        return ("—".to_string(), None);
    }
    if p >= 0.001 {
        return (format!("{p:.3}"), None);
    }
    // Below 10^-300 (also subnormal numbers, whose power of ten underflows): a bound.
    if p < 1e-300 {
        return ("< 10".to_string(), Some("−300".to_string()));
    }
    let exp = p.log10().floor() as i32;
    let mant = p / 10f64.powi(exp);
    (
        format!("{mant:.1} × 10"),
        Some(format!("{exp}").replace('-', "−")),
    )
}

/// The p-value on one line ("6.7e−6" style when small), for tables and tooltips.
pub fn p_value(p: f64) -> String {
    if p < 1e-300 {
        return "< 1e−300".to_string();
    }
    match p_value_parts(p) {
        (s, None) => s,
        (s, Some(e)) => format!("{}e{e}", s.trim_end_matches(" × 10")),
    }
}

/// Percentage with no decimals.
pub fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.0}%", 100.0 * x)
    } else {
        "—".to_string()
    }
}

/// Number with `d` decimals, "NR" (not reached) when missing.
pub fn nr(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{x:.d$}")
    } else {
        "NR".to_string()
    }
}

/// p-value text for print: 3 decimals, or "6.7 × 10^-6" written out.
pub fn p_text(p: f64) -> String {
    if !p.is_finite() {
        return "—".to_string();
    }
    if p >= 0.001 {
        return format!("{p:.3}");
    }
    if p < 1e-300 {
        // Underflowed (0, or subnormal: its power of ten underflows too).
        return "< 10^-300".to_string();
    }
    let exp = p.log10().floor() as i32;
    format!("{:.1} × 10^{exp}", p / 10f64.powi(exp))
}

/// One decimal, "not reached" when missing (report.md's medians).
pub fn fmt1(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "not reached".to_string()
    }
}
