//! The E-value of a hazard ratio (VanderWeele & Ding 2017, Ann Intern Med): the minimum
//! strength of association, on the risk-ratio scale, that an unmeasured confounder would
//! need with both the treatment and the outcome to explain the observed association away.
//! For a common outcome (here: death or progression), the HR is first taken to a risk ratio
//! RR = (1 − 0.5^√HR) / (1 − 0.5^√(1/HR)); a ratio below 1 is inverted; E = RR + √(RR·(RR − 1)).

/// The E-value of the point estimate and of the confidence limit nearer 1 (1 when the
/// interval contains 1).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct EValue {
    pub point: f64,
    pub ci_limit: f64,
}

fn risk_ratio(hr: f64) -> f64 {
    (1.0 - 0.5f64.powf(hr.sqrt())) / (1.0 - 0.5f64.powf((1.0 / hr).sqrt()))
}

fn e_of(rr: f64) -> f64 {
    let rr = if rr < 1.0 { 1.0 / rr } else { rr };
    rr + (rr * (rr - 1.0)).sqrt()
}

/// E-values of a hazard ratio `hr` with confidence interval [`lo`, `hi`], `None` when the
/// ratio is not a positive finite number.
pub fn e_value(hr: f64, lo: f64, hi: f64) -> Option<EValue> {
    if !(hr.is_finite() && hr > 0.0 && lo > 0.0 && hi.is_finite()) {
        return None;
    }
    let point = e_of(risk_ratio(hr));
    let ci_limit = if lo <= 1.0 && hi >= 1.0 {
        1.0
    } else if hr < 1.0 {
        e_of(risk_ratio(hi))
    } else {
        e_of(risk_ratio(lo))
    };
    Some(EValue { point, ci_limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_symmetry() {
        let e = e_value(1.0, 0.8, 1.25).expect("finite");
        assert_eq!(e.point, 1.0);
        assert_eq!(e.ci_limit, 1.0);
        // HR and 1/HR give the same E-value.
        let a = e_value(0.6, 0.4, 0.9).expect("finite");
        let b = e_value(1.0 / 0.6, 1.0 / 0.9, 1.0 / 0.4).expect("finite");
        assert!((a.point - b.point).abs() < 1e-12 && (a.ci_limit - b.ci_limit).abs() < 1e-12);
        assert!(e_value(f64::NAN, 0.1, 0.2).is_none());
    }
}
