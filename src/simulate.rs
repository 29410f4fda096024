//! A synthetic cohort that behaves like the LEVIATHAN study (lenvatinib vs sorafenib after
//! atezolizumab + bevacizumab). Deterministic for a seed on every platform: our own generator
//! ([`crate::rng::SplitMix64`]) and values written rounded to 2 decimals. No patient in it.
//!
//! The generating model ([`Model`], defaults documented in the README, "The demo cohort"):
//! - baseline: ECOG 0/1/2, ALBI grade 1/2/3, best response to A+B CR/PR/SD/PD, BCLC B/C,
//!   etiology, AFP ≥ 400, portal vein thrombosis, age ~ N(68, 9) in 35–90, at fixed
//!   frequencies; the neutrophil-to-lymphocyte ratio log-normal (about 40% ≥ 3);
//! - time on A+B (`first_line_months`): log-normal, median by response to A+B;
//! - confounding: a latent score — lowered by worse ECOG and ALBI and by primary resistance
//!   to A+B, raised by a prior response — plus logistic noise; the top 125/230 of patients get
//!   lenvatinib (a logistic model in the covariates, so the propensity model is correct);
//! - progression: Weibull, hazard raised by ECOG, ALBI, primary resistance, BCLC C and AFP,
//!   multiplied by the true conditional HR of lenvatinib;
//! - post-progression survival: Weibull, with its own risk weights and lenvatinib HR, and a
//!   higher hazard with NLR ≥ 3, portal vein thrombosis and AFP ≥ 400 (the study's
//!   independent predictors of OS);
//!   death = progression + post-progression survival, so PFS ≤ OS for every patient;
//! - administrative censoring: follow-up from the start of the second line uniform on an
//!   interval;
//! - best response: NE at random or when follow-up ended before the first scan; PD when
//!   progression came before the first scan; else CR/PR/SD, objective responses more likely on
//!   lenvatinib and with longer time to progression.

use std::fmt::Write;

use crate::rng::SplitMix64;

/// The columns written, in order.
pub const COLUMNS: [&str; 17] = [
    "patient_id",
    "arm",
    "ecog",
    "albi_grade",
    "prior_io_response",
    "bclc",
    "etiology",
    "afp_ge_400",
    "nlr",
    "pvt",
    "age",
    "first_line_months",
    "pfs_months",
    "pfs_event",
    "os_months",
    "os_event",
    "best_response",
];

const IO_RESPONSE: [&str; 4] = ["CR", "PR", "SD", "PD"];

/// Parameters of the generating model (times in months).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Model {
    pub p_ecog: [f64; 3],
    pub p_albi: [f64; 3],
    /// Best response to A+B: CR, PR, SD, PD.
    pub p_io: [f64; 4],
    pub p_bclc_c: f64,
    pub p_viral: f64,
    pub p_afp: f64,
    /// Portal vein thrombosis.
    pub p_pvt: f64,
    /// Neutrophil-to-lymphocyte ratio: log-normal with this median and SD of its log.
    pub nlr_median: f64,
    pub nlr_sdlog: f64,
    /// Median time on A+B by response to it (CR, PR, SD, PD) and the SD of its log.
    pub first_line_median: [f64; 4],
    pub first_line_sdlog: f64,
    /// Share of patients on lenvatinib.
    pub treated_share: f64,
    /// Latent treatment score: per ECOG point, per ALBI grade above 1, primary resistance,
    /// prior response (CR/PR).
    pub key_ecog: f64,
    pub key_albi: f64,
    pub key_resistant: f64,
    pub key_responder: f64,
    /// Log-hazard weights of the prognostic score: ECOG 1, ECOG 2, ALBI 2, ALBI 3, BCLC C, AFP.
    pub risk: [f64; 6],
    /// Progression: Weibull shape and scale, extra log-hazard for primary resistance, true HR.
    pub prog_shape: f64,
    pub prog_scale: f64,
    pub prog_resistant: f64,
    pub hr_progression: f64,
    /// Post-progression survival: Weibull shape and scale, multiplier of the prognostic score,
    /// extra log-hazard for primary resistance, true HR.
    pub pps_shape: f64,
    pub pps_scale: f64,
    pub pps_risk_weight: f64,
    pub pps_resistant: f64,
    pub hr_post_progression: f64,
    /// Extra log-hazard of death after progression with NLR ≥ 3, portal vein thrombosis and
    /// AFP ≥ 400.
    pub pps_nlr: f64,
    pub pps_pvt: f64,
    pub pps_afp: f64,
    /// Follow-up from the start of the second line: uniform on this interval.
    pub follow_up: (f64, f64),
    pub first_scan: f64,
    pub p_not_evaluable: f64,
    /// Probability of an objective response (CR/PR) for a patient still free of progression
    /// at the first scan, on sorafenib and on lenvatinib.
    pub p_objective: [f64; 2],
}

impl Default for Model {
    fn default() -> Self {
        Model {
            p_ecog: [0.55, 0.38, 0.07],
            p_albi: [0.40, 0.52, 0.08],
            p_io: [0.04, 0.24, 0.38, 0.34],
            p_bclc_c: 0.75,
            p_viral: 0.55,
            p_afp: 0.34,
            p_pvt: 0.25,
            nlr_median: 2.6,
            nlr_sdlog: 0.5,
            first_line_median: [18.0, 14.0, 6.5, 2.5],
            first_line_sdlog: 0.3,
            treated_share: 125.0 / 230.0,
            key_ecog: -0.15,
            key_albi: -0.1,
            key_resistant: -0.2,
            key_responder: 0.9,
            risk: [0.35, 0.8, 0.3, 0.75, 0.15, 0.2],
            prog_shape: 1.25,
            prog_scale: 8.8,
            prog_resistant: 1.3,
            hr_progression: 0.45,
            pps_shape: 1.05,
            pps_scale: 14.5,
            pps_risk_weight: 0.6,
            pps_resistant: 0.0,
            hr_post_progression: 1.2,
            pps_nlr: 0.9,
            pps_pvt: 0.9,
            pps_afp: 0.7,
            follow_up: (2.0, 26.0),
            first_scan: 2.0,
            p_not_evaluable: 0.03,
            p_objective: [0.12, 0.30],
        }
    }
}

fn pick(rng: &mut SplitMix64, probs: &[f64]) -> usize {
    let u = rng.next_f64();
    let mut acc = 0.0;
    for (k, p) in probs.iter().enumerate() {
        acc += p;
        if u < acc {
            return k;
        }
    }
    probs.len() - 1
}

/// Standard normal by Box–Muller (one value per call; deterministic).
fn normal(rng: &mut SplitMix64) -> f64 {
    let u1 = 1.0 - rng.next_f64();
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Weibull time with shape `k`, scale `lambda`, hazard multiplied by exp(`lin`).
fn weibull(rng: &mut SplitMix64, k: f64, lambda: f64, lin: f64) -> f64 {
    let u = 1.0 - rng.next_f64();
    lambda * (-u.ln() / lin.exp()).powf(1.0 / k)
}

struct Baseline {
    ecog: usize,
    albi: usize,
    io: usize,
    bclc_c: bool,
    viral: bool,
    afp: bool,
    nlr: f64,
    pvt: bool,
    age: f64,
    first_line: f64,
    key: f64,
}

/// One simulated patient, with the latent (uncensored) times kept for checks.
#[derive(Clone, Debug, PartialEq)]
pub struct SimPatient {
    pub lenvatinib: bool,
    pub ecog: usize,
    pub albi: usize,
    /// Index into CR, PR, SD, PD.
    pub prior_io: usize,
    pub bclc_c: bool,
    pub viral: bool,
    pub afp: bool,
    /// Neutrophil-to-lymphocyte ratio, rounded to one decimal.
    pub nlr: f64,
    pub pvt: bool,
    pub age: f64,
    pub first_line: f64,
    /// Latent time to progression and to death (months from the second line's start).
    pub progression: f64,
    pub death: f64,
    /// End of follow-up (administrative censoring).
    pub follow_up: f64,
    pub best_response: &'static str,
}

impl Model {
    /// Simulates `n` patients.
    pub fn simulate(&self, n: usize, seed: u64) -> Vec<SimPatient> {
        let mut rng = SplitMix64::new(seed);
        let base: Vec<Baseline> = (0..n).map(|_| self.baseline(&mut rng)).collect();
        // Exactly round(n × share) lenvatinib patients: the highest latent scores.
        let n_treated = (n as f64 * self.treated_share).round() as usize;
        let mut by_key: Vec<usize> = (0..n).collect();
        by_key.sort_by(|&a, &b| base[b].key.total_cmp(&base[a].key));
        let mut lenva = vec![false; n];
        for &i in by_key.iter().take(n_treated) {
            lenva[i] = true;
        }
        base.iter()
            .zip(lenva)
            .map(|(b, t)| self.outcome(&mut rng, b, t))
            .collect()
    }

    /// Writes a synthetic cohort of `n` patients as CSV text.
    pub fn simulate_csv(&self, n: usize, seed: u64) -> String {
        to_csv(&self.simulate(n, seed))
    }

    fn baseline(&self, rng: &mut SplitMix64) -> Baseline {
        let ecog = pick(rng, &self.p_ecog);
        let albi = pick(rng, &self.p_albi) + 1;
        let io = pick(rng, &self.p_io);
        let bclc_c = rng.next_f64() < self.p_bclc_c;
        let viral = rng.next_f64() < self.p_viral;
        let afp = rng.next_f64() < self.p_afp;
        let age = (68.0 + 9.0 * normal(rng)).clamp(35.0, 90.0);
        let first_line = self.first_line_median[io] * (self.first_line_sdlog * normal(rng)).exp();
        let u = rng.next_f64().clamp(1e-12, 1.0 - 1e-12);
        let noise = (u / (1.0 - u)).ln();
        let key = self.key_ecog * ecog as f64
            + self.key_albi * (albi - 1) as f64
            + self.key_resistant * f64::from(io == 3)
            + self.key_responder * f64::from(io <= 1)
            + noise;
        let nlr = (self.nlr_median * (self.nlr_sdlog * normal(rng)).exp() * 10.0).round() / 10.0;
        let pvt = rng.next_f64() < self.p_pvt;
        Baseline {
            ecog,
            albi,
            io,
            bclc_c,
            viral,
            afp,
            nlr,
            pvt,
            age,
            first_line,
            key,
        }
    }

    fn outcome(&self, rng: &mut SplitMix64, p: &Baseline, t: bool) -> SimPatient {
        let r = &self.risk;
        let risk = r[0] * f64::from(p.ecog == 1)
            + r[1] * f64::from(p.ecog == 2)
            + r[2] * f64::from(p.albi == 2)
            + r[3] * f64::from(p.albi == 3)
            + r[4] * f64::from(p.bclc_c)
            + r[5] * f64::from(p.afp);
        let resistant = f64::from(p.io == 3);
        let treated = f64::from(t);
        let prog = weibull(
            rng,
            self.prog_shape,
            self.prog_scale,
            risk + self.prog_resistant * resistant + self.hr_progression.ln() * treated,
        );
        let pps = weibull(
            rng,
            self.pps_shape,
            self.pps_scale,
            self.pps_risk_weight * risk
                + self.pps_nlr * f64::from(p.nlr >= 3.0)
                + self.pps_pvt * f64::from(p.pvt)
                + self.pps_afp * f64::from(p.afp)
                + self.pps_resistant * resistant
                + self.hr_post_progression.ln() * treated,
        );
        let (f0, f1) = self.follow_up;
        let follow = f0 + (f1 - f0) * rng.next_f64();
        let u_ne = rng.next_f64();
        let u_resp = rng.next_f64();
        let best_response =
            if u_ne < self.p_not_evaluable || (follow < self.first_scan && prog > follow) {
                "NE"
            } else if prog < self.first_scan {
                "PD"
            } else {
                let p_obj = self.p_objective[usize::from(t)] * (prog / 6.0).min(1.5);
                if u_resp < 0.12 * p_obj {
                    "CR"
                } else if u_resp < p_obj {
                    "PR"
                } else {
                    "SD"
                }
            };
        SimPatient {
            lenvatinib: t,
            ecog: p.ecog,
            albi: p.albi,
            prior_io: p.io,
            bclc_c: p.bclc_c,
            viral: p.viral,
            afp: p.afp,
            nlr: p.nlr,
            pvt: p.pvt,
            age: p.age,
            first_line: p.first_line,
            progression: prog,
            death: prog + pps,
            follow_up: follow,
            best_response,
        }
    }
}

/// The cohort file: observed times are the latent times cut at the end of follow-up, so
/// PFS ≤ OS for every patient; values rounded to 2 decimals.
pub fn to_csv(patients: &[SimPatient]) -> String {
    let mut out = String::with_capacity(patients.len() * 96 + 200);
    out.push_str(&COLUMNS.join(","));
    out.push('\n');
    for (i, p) in patients.iter().enumerate() {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{:.1},{},{:.0},{:.2},{:.2},{},{:.2},{},{}",
            i + 1,
            if p.lenvatinib {
                "lenvatinib"
            } else {
                "sorafenib"
            },
            p.ecog,
            p.albi,
            IO_RESPONSE[p.prior_io],
            if p.bclc_c { "C" } else { "B" },
            if p.viral { "viral" } else { "nonviral" },
            u8::from(p.afp),
            p.nlr,
            u8::from(p.pvt),
            p.age,
            p.first_line,
            p.progression.min(p.follow_up),
            u8::from(p.progression <= p.follow_up),
            p.death.min(p.follow_up),
            u8::from(p.death <= p.follow_up),
            p.best_response
        );
    }
    out
}

/// A cohort from the default model.
pub fn simulate_csv(n: usize, seed: u64) -> String {
    Model::default().simulate_csv(n, seed)
}
