//! The command line: `analyze` prints the Report as JSON; without a subcommand the window
//! opens. Parsing only: every number comes from `analysis::analyze`.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::analysis::{
    analyze, CaliperScale, EndpointSpec, MatchOrder, MatchSpec, Report, Spec, Subgroup, TimeUnit,
};
use crate::cohort::Cohort;
use crate::stats::cox::Ties;
use crate::stats::km::ConfType;

#[derive(Parser, Debug)]
#[command(
    name = "survival-explorer",
    version,
    about = "Kaplan–Meier, Cox and propensity-score matching for two-arm cohorts, equal to R",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A cohort file to open in the window (default: the bundled synthetic demo cohort).
    pub file: Option<PathBuf>,
    /// Render the window for a few frames, save it as PNG and exit.
    #[arg(long, value_name = "OUT.png")]
    pub screenshot: Option<PathBuf>,
    /// The view to open: survival, response or balance.
    #[arg(long, value_name = "VIEW")]
    pub view: Option<String>,
    /// Start in presentation mode (full screen, large type).
    #[arg(long)]
    pub presentation: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse a cohort file and print the report as JSON on stdout.
    Analyze(Box<AnalyzeArgs>),
    /// Write a synthetic LEVIATHAN-like cohort (CSV) to stdout or a file.
    Simulate(SimulateArgs),
}

/// Options of `simulate`.
#[derive(Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Number of patients.
    #[arg(long, default_value_t = crate::DEMO_N)]
    pub n: usize,
    /// Seed of the generator (the same seed gives the same file on every platform).
    #[arg(long, default_value_t = crate::DEMO_SEED)]
    pub seed: u64,
    /// Output file (default: stdout). An existing file is replaced only with --force.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// Runs `simulate`: writes the CSV atomically (temporary file, then rename).
pub fn run_simulate(args: &SimulateArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let csv = crate::simulate::simulate_csv(args.n, args.seed);
    match &args.out {
        None => {
            std::io::stdout().lock().write_all(csv.as_bytes())?;
        }
        Some(path) => {
            if path.exists() && !args.force {
                anyhow::bail!(
                    "{}: the file exists; add --force to replace it",
                    path.display()
                );
            }
            let tmp = path.with_extension("csv.tmp");
            std::fs::write(&tmp, csv.as_bytes())
                .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", tmp.display()))?;
            std::fs::rename(&tmp, path)
                .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Every option of an analysis.
#[derive(Args, Debug, Clone)]
pub struct AnalyzeArgs {
    /// The cohort file (CSV).
    pub file: PathBuf,
    /// Column holding the treatment arm.
    #[arg(long, default_value = "arm")]
    pub arm_column: String,
    /// Level of the arm column for the treated (experimental) arm.
    #[arg(long, default_value = "lenvatinib")]
    pub treated: String,
    /// Level of the arm column for the control arm.
    #[arg(long, default_value = "sorafenib")]
    pub control: String,
    /// NAME:TIME_COLUMN:EVENT_COLUMN (repeatable; TIME may be COL1+COL2). Default: pfs, os,
    /// seq_os from the canonical columns present.
    #[arg(long = "endpoint", value_name = "NAME:TIME:EVENT")]
    pub endpoints: Vec<String>,
    /// COLUMN=VALUE[,VALUE…] or COLUMN=LO..HI (repeatable; all must hold).
    #[arg(long = "subgroup", value_name = "COL=VALUES")]
    pub subgroups: Vec<String>,
    /// Confidence interval of the survival curve: log-log, log or plain.
    #[arg(long = "ci", default_value = "log-log")]
    pub ci: String,
    /// Confidence level.
    #[arg(long, default_value_t = 0.95)]
    pub conf: f64,
    /// Ties in the Cox model: efron or breslow.
    #[arg(long, default_value = "efron")]
    pub ties: String,
    /// Landmark times, comma-separated (default 6,12,24 for months).
    #[arg(long, value_delimiter = ',')]
    pub landmarks: Option<Vec<f64>>,
    /// RMST horizon (default: the largest time in either arm).
    #[arg(long)]
    pub rmst_horizon: Option<f64>,
    /// Unit of the time columns (a label; nothing is converted).
    #[arg(long, default_value = "months")]
    pub time_unit: String,
    /// Leave the per-time curve tables out of the JSON.
    #[arg(long)]
    pub summary: bool,
    /// Propensity-score matching on these covariates (comma-separated; NAME:factor forces a
    /// factor).
    #[arg(long = "match", value_delimiter = ',', value_name = "COV,…")]
    pub match_covariates: Option<Vec<String>>,
    /// Caliper in SDs of the distance.
    #[arg(long, default_value_t = 0.2)]
    pub caliper: f64,
    /// Distance for matching and caliper: logit or ps.
    #[arg(long, default_value = "logit")]
    pub caliper_scale: String,
    /// Order treated units pick controls: largest, smallest, data, random.
    #[arg(long, default_value = "largest")]
    pub order: String,
    /// Controls per treated unit.
    #[arg(long, default_value_t = 1)]
    pub ratio: u32,
    /// Match with replacement.
    #[arg(long)]
    pub replace: bool,
    /// Seed for --order random.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Cox SE clustered on the matched set.
    #[arg(long)]
    pub robust: bool,
}

fn parse_endpoint(s: &str) -> Result<EndpointSpec, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let [name, time, event] = parts.as_slice() else {
        return Err(format!(
            "--endpoint '{s}': expected NAME:TIME_COLUMN:EVENT_COLUMN"
        ));
    };
    if name.is_empty() || time.is_empty() || event.is_empty() {
        return Err(format!(
            "--endpoint '{s}': expected NAME:TIME_COLUMN:EVENT_COLUMN"
        ));
    }
    Ok(EndpointSpec {
        name: name.to_string(),
        time: time.split('+').map(|c| c.trim().to_string()).collect(),
        event: event.to_string(),
    })
}

impl AnalyzeArgs {
    /// The analysis spec these options describe.
    pub fn to_spec(&self) -> Result<Spec, String> {
        let conf_type = ConfType::parse(&self.ci)
            .ok_or_else(|| format!("--ci '{}': expected log-log, log or plain", self.ci))?;
        let ties = match self.ties.as_str() {
            "efron" => Ties::Efron,
            "breslow" => Ties::Breslow,
            other => return Err(format!("--ties '{other}': expected efron or breslow")),
        };
        let time_unit = TimeUnit::parse(&self.time_unit).ok_or_else(|| {
            format!(
                "--time-unit '{}': expected months, weeks, days or years",
                self.time_unit
            )
        })?;
        let matching = match &self.match_covariates {
            None => None,
            Some(covs) => Some(MatchSpec {
                covariates: covs.iter().map(|c| c.trim().to_string()).collect(),
                caliper: self.caliper,
                scale: match self.caliper_scale.as_str() {
                    "logit" => CaliperScale::Logit,
                    "ps" => CaliperScale::Ps,
                    other => {
                        return Err(format!("--caliper-scale '{other}': expected logit or ps"))
                    }
                },
                order: match self.order.as_str() {
                    "largest" => MatchOrder::Largest,
                    "smallest" => MatchOrder::Smallest,
                    "data" => MatchOrder::Data,
                    "random" => MatchOrder::Random,
                    other => {
                        return Err(format!(
                            "--order '{other}': expected largest, smallest, data or random"
                        ))
                    }
                },
                ratio: self.ratio,
                replace: self.replace,
                seed: self.seed,
                robust: self.robust,
            }),
        };
        let spec = Spec {
            arm_column: self.arm_column.clone(),
            treated: self.treated.clone(),
            control: self.control.clone(),
            endpoints: self
                .endpoints
                .iter()
                .map(|e| parse_endpoint(e))
                .collect::<Result<_, _>>()?,
            subgroups: self
                .subgroups
                .iter()
                .map(|s| Subgroup::parse(s))
                .collect::<Result<_, _>>()?,
            conf_type,
            conf_level: self.conf,
            ties,
            landmarks: self.landmarks.clone(),
            rmst_horizon: self.rmst_horizon,
            time_unit,
            matching,
        };
        spec.validate()?;
        Ok(spec)
    }
}

/// Loads, analyses and returns the report (with `timing.load_ms` filled in).
pub fn run_analysis(args: &AnalyzeArgs) -> anyhow::Result<Report> {
    let spec = args.to_spec().map_err(anyhow::Error::msg)?;
    let t0 = Instant::now();
    let cohort = Cohort::load(&args.file)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let mut report = analyze(&cohort, &spec)?;
    report.timing.load_ms = load_ms;
    Ok(if args.summary {
        report.without_curves()
    } else {
        report
    })
}

/// Warning lines for stderr: load warnings, rows left out, matching warnings.
pub fn warning_lines(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = report.cohort.warnings.clone();
    for e in &report.sample.excluded {
        out.push(format!("{} rows left out: {}", e.n, e.reason));
    }
    if let Some(m) = &report.matching {
        out.extend(m.warnings.iter().cloned());
        for e in &m.excluded {
            out.push(format!("matching: {} rows left out: {}", e.n, e.reason));
        }
    }
    for (name, ep) in report.endpoints.iter() {
        for e in &ep.excluded {
            out.push(format!("{name}: {} rows left out: {}", e.n, e.reason));
        }
    }
    out
}
