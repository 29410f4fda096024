//! The command line: `analyze` prints the Report as JSON; without a subcommand the window
//! opens. Parsing only: every number comes from `analysis::analyze`.

use std::path::PathBuf;
use web_time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::analysis::{
    analyze, analyze_parts, AnalysisCache, CaliperScale, EndpointSpec, MatchOrder, Parts, Report,
    RiskTable, Spec, Subgroup, TimeUnit,
};
use crate::cohort::Cohort;
use crate::stats::cox::Ties;
use crate::stats::km::ConfType;

mod adjustment;

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
    /// The view to open: survival, response, balance, sensitivity, subgroups, predictors or
    /// summary.
    #[arg(long, value_name = "VIEW")]
    pub view: Option<String>,
    /// Start in presentation mode (full screen, large type).
    #[arg(long)]
    pub presentation: bool,
    /// Open the "Columns and roles" dialog at start (which column plays each role).
    #[arg(long)]
    pub columns: bool,
    /// The table under the Kaplan–Meier plot: at-risk (the number at risk) or kmunicate (at
    /// risk, censored and events per arm) [default: as last time, else at-risk].
    #[arg(long, value_enum, value_name = "TABLE")]
    pub risk_table: Option<RiskTable>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse a cohort file and print the report as JSON on stdout.
    Analyze(Box<AnalyzeArgs>),
    /// Write a synthetic LEVIATHAN-like cohort (CSV) to stdout or a file.
    Simulate(SimulateArgs),
    /// Write every figure (SVG/PNG), every table (CSV), summary.json and report.md to a folder.
    Report(Box<ReportArgs>),
}

/// Options of `report`: every option of `analyze`, and where and how to write.
#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    #[command(flatten)]
    pub analysis: AnalyzeArgs,
    /// Output folder (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Figure formats, comma-separated: svg, png, pdf (vector, font embedded), tiff (LZW).
    #[arg(long, value_delimiter = ',', default_value = "svg,png")]
    pub format: Vec<String>,
    /// Figure size: slide (16:9), slide-4:3, single-column (85 mm), double-column (180 mm),
    /// WxHmm (e.g. 120x90mm) or WxH pixels. Journal sizes keep every text ≥ 8 pt printed.
    #[arg(long, default_value = "slide")]
    pub size: String,
    /// Resolution in dots per inch, a whole number from 72 to 2400: the pixels of PNG and TIFF
    /// figures (the layout of named and mm sizes does not change) [default: 300 for journal
    /// and mm sizes, 144 for slides and pixel sizes].
    #[arg(long)]
    pub dpi: Option<f64>,
    /// Replace files that already exist in the folder.
    #[arg(long)]
    pub force: bool,
    /// The table under the Kaplan–Meier figures: at-risk (the number at risk per arm) or
    /// kmunicate (per arm: at risk, and censored and events to date, Morris et al. 2019)
    /// [default: the spec file's, else at-risk].
    #[arg(long, value_enum, value_name = "TABLE")]
    pub risk_table: Option<RiskTable>,
}

/// Runs `report`; returns the list of files written and the warnings to show.
pub fn run_report(args: &ReportArgs) -> anyhow::Result<(crate::export::Written, Vec<String>)> {
    let Resolved {
        mut spec,
        file,
        warnings,
    } = args.analysis.resolve().map_err(anyhow::Error::msg)?;
    if let Some(table) = args.risk_table {
        spec.risk_table = table;
    }
    let mut formats = Vec::new();
    for f in &args.format {
        let f = crate::export::Format::parse(f).map_err(anyhow::Error::msg)?;
        if !formats.contains(&f) {
            formats.push(f);
        }
    }
    let size =
        crate::export::FigureSize::parse(&args.size, args.dpi).map_err(anyhow::Error::msg)?;
    let t0 = Instant::now();
    let cohort = load_for(&file, &spec)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let mut report = analyze(&cohort, &spec)?;
    report.timing.load_ms = load_ms;
    report.warnings.splice(0..0, warnings);
    let unmatched = match spec.matching {
        Some(_) => Some(analyze(
            &cohort,
            // Only its curves are drawn: no models, sweeps or summaries again.
            &Spec {
                matching: None,
                adjust: Vec::new(),
                univariable: false,
                sensitivity: false,
                caliper_sweep: false,
                forest: false,
                ..spec.clone()
            },
        )?),
        None => None,
    };
    // The balance figure of an unmatched report draws the SMDs of the default covariates.
    let balance = match crate::analysis::balance_spec(&cohort, &spec) {
        Some(s) => analyze(&cohort, &s).ok(),
        None => None,
    };
    let written = crate::export::write_report(&crate::export::ReportJob {
        dir: &args.out,
        cohort: &cohort,
        spec: &spec,
        report: &report,
        unmatched: unmatched.as_ref(),
        balance: balance.as_ref(),
        formats: &formats,
        size,
        demo: is_demo_file(&file),
        force: args.force,
    })?;
    let spec_path = args.out.join("analysis.toml");
    if args.analysis.emit_r {
        // The R script beside the report, as `analyze --emit-r` prints it.
        let abs = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        let script = r_script_for(&cohort, &spec, &abs)?;
        crate::spec_file::write_atomic(
            &args.out.join("analysis.R"),
            script.as_bytes(),
            args.force,
        )?;
    }
    crate::spec_file::SpecFile::new(spec, Some(file)).save(&spec_path, args.force)?;
    Ok((written, warning_lines(&report)))
}

/// Is this the bundled synthetic cohort (same bytes)? Figures of it carry a mark.
pub fn is_demo_file(path: &std::path::Path) -> bool {
    std::fs::read(path)
        .map(|b| b == crate::DEMO_COHORT_CSV.as_bytes())
        .unwrap_or(false)
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

/// Runs `simulate`: writes the CSV atomically (temporary file, then rename) to `--out`, or
/// returns it for standard output.
pub fn run_simulate(args: &SimulateArgs) -> anyhow::Result<Option<String>> {
    let csv = crate::simulate::simulate_csv(args.n, args.seed);
    match &args.out {
        None => Ok(Some(csv)),
        Some(path) => {
            crate::spec_file::write_atomic(path, csv.as_bytes(), args.force)?;
            Ok(None)
        }
    }
}

/// The options resolved: the spec to run, the cohort file, and what to tell the user about
/// the spec file (the front end shows the warnings; the library never prints).
pub struct Resolved {
    pub spec: Spec,
    pub file: PathBuf,
    pub warnings: Vec<String>,
}

/// Every option of an analysis. Options not given keep the spec file's value (`--spec`) or
/// the default written in their help.
#[derive(Args, Debug, Clone, Default)]
pub struct AnalyzeArgs {
    /// The cohort file (CSV, Excel, OpenDocument or Parquet). May be omitted when the spec
    /// file names one.
    pub file: Option<PathBuf>,
    /// A spec file (TOML) saved by the window or `report`; options given here override it.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Column holding the treatment arm [default: arm].
    #[arg(long)]
    pub arm_column: Option<String>,
    /// Level of the arm column for the treated (experimental) arm [default: lenvatinib].
    #[arg(long)]
    pub treated: Option<String>,
    /// Level of the arm column for the control arm [default: sorafenib].
    #[arg(long)]
    pub control: Option<String>,
    /// NAME:TIME_COLUMN:EVENT_COLUMN (repeatable; TIME may be COL1+COL2). Default: pfs, os,
    /// seq_os from the canonical columns present.
    #[arg(long = "endpoint", value_name = "NAME:TIME:EVENT")]
    pub endpoints: Vec<String>,
    /// COLUMN=VALUE[,VALUE…] or COLUMN=LO..HI (repeatable; all must hold).
    #[arg(long = "subgroup", value_name = "COL=VALUES")]
    pub subgroups: Vec<String>,
    /// Confidence interval of the survival curve [default: log-log].
    #[arg(long = "ci", value_enum)]
    pub ci: Option<ConfType>,
    /// Confidence level [default: 0.95].
    #[arg(long)]
    pub conf: Option<f64>,
    /// Ties in the Cox model [default: efron].
    #[arg(long, value_enum)]
    pub ties: Option<Ties>,
    /// Landmark times, comma-separated [default: 6,12,24 for months].
    #[arg(long, value_delimiter = ',')]
    pub landmarks: Option<Vec<f64>>,
    /// RMST horizon [default: the largest time in either arm].
    #[arg(long)]
    pub rmst_horizon: Option<f64>,
    /// Unit of the file's time columns [default: months].
    #[arg(long, value_enum)]
    pub time_unit: Option<TimeUnit>,
    /// Show results in this unit (times converted: 7 days a week, 30.4375 a month, 365.25 a
    /// year; landmarks and --rmst-horizon in this unit) [default: the file's unit].
    #[arg(long, value_name = "UNIT", value_enum)]
    pub show_in: Option<TimeUnit>,
    /// How an arm level is shown in legends, tables and figures: LEVEL=TEXT, e.g.
    /// --label 1=Lenvatinib (repeatable) [default: the level as the file spells it].
    #[arg(long = "label", value_name = "LEVEL=TEXT")]
    pub labels: Vec<String>,
    /// The values of an event column that mean the event, e.g. --event-values
    /// vital_status=Deceased (repeatable; every other value is censored) [default: 1/0 and
    /// the usual words: dead, deceased, progressed, yes … vs alive, censored, no …].
    #[arg(long = "event-values", value_name = "COLUMN=VALUE[,VALUE…]")]
    pub event_values: Vec<String>,
    /// Leave the per-time curve tables out of the JSON.
    #[arg(long)]
    pub summary: bool,
    /// Propensity-score matching on these covariates (comma-separated; NAME:factor forces a
    /// factor).
    #[arg(long = "match", value_delimiter = ',', value_name = "COV,…")]
    pub match_covariates: Option<Vec<String>>,
    /// Caliper in SDs of the distance [default: 0.2].
    #[arg(long)]
    pub caliper: Option<f64>,
    /// Distance for matching and caliper [default: logit].
    #[arg(long, value_enum)]
    pub caliper_scale: Option<CaliperScale>,
    /// Order treated units pick controls [default: largest].
    #[arg(long, value_enum)]
    pub order: Option<MatchOrder>,
    /// Controls per treated unit [default: 1].
    #[arg(long)]
    pub ratio: Option<u32>,
    /// Match with replacement.
    #[arg(long)]
    pub replace: bool,
    /// Seed for --order random, as R's set.seed takes it (the same seed gives R's and MatchIt's order) [default: 1].
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(i32).range(i64::from(*crate::analysis::SEED_RANGE.start())..=i64::from(*crate::analysis::SEED_RANGE.end())))]
    pub seed: Option<i32>,
    /// Cox SE clustered on the matched set.
    #[arg(long)]
    pub robust: bool,
    /// Print an R script (survival, MatchIt) that reproduces this analysis, instead of JSON.
    #[arg(long)]
    pub emit_r: bool,
    /// Add the caliper sensitivity sweep (HR and pairs over 0.01–1 SD) per endpoint.
    #[arg(long)]
    pub caliper_sweep: bool,
    /// Add the subgroup forest plot (HR per level, interaction p) per endpoint.
    #[arg(long)]
    pub forest: bool,
    /// Multivariable Cox model per endpoint: arm + these covariates (comma-separated;
    /// NAME:factor forces a factor), on the rows with every covariate present ("Table 2").
    #[arg(long = "adjust", value_delimiter = ',', value_name = "COV,…")]
    pub adjust: Option<Vec<String>>,
    /// Also one Cox model per covariate of --adjust (the univariable screen).
    #[arg(long)]
    pub univariable: bool,
    /// Add per endpoint the arm's HR unadjusted, matched, IPTW-weighted and multivariable,
    /// side by side (propensity covariates: --match's, else --iptw's, else the defaults).
    #[arg(long)]
    pub sensitivity: bool,
    /// Inverse probability of treatment weighting instead of matching: the propensity model
    /// on these covariates (comma-separated; NAME:factor forces a factor); every patient is
    /// kept, weighted.
    #[arg(long = "iptw", value_delimiter = ',', value_name = "COV,…")]
    pub iptw: Option<Vec<String>>,
    /// What the weights estimate: ate (the whole sample) or att (on the treated) [default: ate].
    #[arg(long, value_enum)]
    pub estimand: Option<crate::weighting::Estimand>,
    /// Stabilized weights (ATE): times the sample's share of the patient's arm.
    #[arg(long)]
    pub stabilized: bool,
    /// Leave out patients whose propensity score is below Q or above 1 − Q before weighting.
    #[arg(long, value_name = "Q")]
    pub trim: Option<f64>,
    /// Use a column for a role: ROLE=COLUMN, e.g. os_months="OS (months)" (repeatable).
    #[arg(long = "map", value_name = "ROLE=COLUMN")]
    pub map: Vec<String>,
    /// Event coding: 0-1 (also TRUE/FALSE, yes/no, dead/alive …) or R's 1-2 (2 = event)
    /// [default: 0-1].
    #[arg(long, value_enum)]
    pub event_coding: Option<crate::analysis::EventCoding>,
    /// The spreadsheet's sheet, by name or number from 1 [default: the first with data].
    #[arg(long)]
    pub sheet: Option<String>,
    /// How dates written with the year last are read: dmy (15/03/2024) or mdy (03/15/2024)
    /// [default: decided by the data; ISO dates need nothing].
    #[arg(long)]
    pub date_format: Option<String>,
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
    /// The spec file's contents (or the defaults) with the options given here applied, and
    /// the cohort file to read.
    pub fn resolve(&self) -> Result<Resolved, String> {
        let mut warnings = Vec::new();
        let (base, spec_file) = match &self.spec {
            Some(p) => {
                let f = crate::spec_file::SpecFile::load(p).map_err(|e| e.to_string())?;
                warnings.extend(
                    f.warnings()
                        .into_iter()
                        .map(|w| format!("{}: {w}", p.display())),
                );
                (f.spec.clone(), f.file.clone())
            }
            None => (Spec::default(), None),
        };
        let spec = self.apply_to(base)?;
        let file = self
            .file
            .clone()
            .or(spec_file)
            .ok_or("no cohort file: name one, or a spec file that names one")?;
        Ok(Resolved {
            spec,
            file,
            warnings,
        })
    }

    /// Applies the options that were given to `spec`.
    pub fn apply_to(&self, mut spec: Spec) -> Result<Spec, String> {
        if let Some(v) = &self.arm_column {
            spec.arm_column = v.clone();
        }
        if let Some(v) = &self.treated {
            spec.treated = v.clone();
        }
        if let Some(v) = &self.control {
            spec.control = v.clone();
        }
        if !self.endpoints.is_empty() {
            spec.endpoints = self
                .endpoints
                .iter()
                .map(|e| parse_endpoint(e))
                .collect::<Result<_, _>>()?;
        }
        if !self.subgroups.is_empty() {
            spec.subgroups = self
                .subgroups
                .iter()
                .map(|s| Subgroup::parse(s))
                .collect::<Result<_, _>>()?;
        }
        if let Some(ci) = self.ci {
            spec.conf_type = ci;
        }
        if let Some(c) = self.conf {
            spec.conf_level = c;
        }
        if let Some(t) = self.ties {
            spec.ties = t;
        }
        if let Some(l) = &self.landmarks {
            spec.landmarks = Some(l.clone());
        }
        if let Some(h) = self.rmst_horizon {
            spec.rmst_horizon = Some(h);
        }
        spec.caliper_sweep |= self.caliper_sweep;
        spec.forest |= self.forest;
        if let Some(covs) = &self.adjust {
            spec.adjust = covs
                .iter()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect();
        }
        spec.univariable |= self.univariable;
        spec.sensitivity |= self.sensitivity;
        for m in &self.map {
            let Some((role, column)) = m.split_once('=') else {
                return Err(format!("--map '{m}': expected ROLE=COLUMN"));
            };
            spec.column_map
                .insert(role.trim().to_string(), column.trim().to_string());
        }
        if let Some(c) = self.event_coding {
            spec.event_coding = c;
        }
        if let Some(sheet) = &self.sheet {
            spec.sheet = Some(sheet.clone());
        }
        if let Some(f) = &self.date_format {
            spec.date_format = f.parse()?;
        }
        if let Some(u) = self.time_unit {
            spec.time_unit = u;
        }
        if let Some(u) = self.show_in {
            spec.show_in = Some(u);
        }
        for l in &self.labels {
            let Some((level, text)) = l.split_once('=') else {
                return Err(format!(
                    "--label '{l}': expected LEVEL=TEXT, e.g. 1=Lenvatinib"
                ));
            };
            spec.labels
                .insert(level.trim().to_string(), text.trim().to_string());
        }
        for e in &self.event_values {
            let Some((column, values)) = e.split_once('=') else {
                return Err(format!(
                    "--event-values '{e}': expected COLUMN=VALUE[,VALUE…], e.g. vital_status=Deceased"
                ));
            };
            let values: Vec<String> = values
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if column.trim().is_empty() || values.is_empty() {
                return Err(format!(
                    "--event-values '{e}': expected COLUMN=VALUE[,VALUE…], e.g. vital_status=Deceased"
                ));
            }
            spec.event_values.insert(column.trim().to_string(), values);
        }
        // Options of one adjustment on the command line replace the spec file's other one.
        let (file_matching, file_weighting) = (spec.matching.take(), spec.weighting.take());
        spec.matching = self.matching_with(file_matching)?;
        spec.weighting = self.weighting_with(file_weighting)?;
        if self.iptw.is_some() && self.match_covariates.is_none() {
            spec.matching = None;
        }
        if self.match_covariates.is_some() && self.iptw.is_none() {
            spec.weighting = None;
        }
        spec.validate()?;
        Ok(spec)
    }
}

/// Loads, analyses and returns the report (with `timing.load_ms` filled in).
/// Loads a cohort and applies the spec's column map.
pub fn load_for(file: &std::path::Path, spec: &Spec) -> anyhow::Result<Cohort> {
    Ok(Cohort::load_with(file, &spec.load_options())?)
}

pub fn run_analysis(args: &AnalyzeArgs) -> anyhow::Result<Report> {
    let Resolved {
        spec,
        file,
        warnings,
    } = args.resolve().map_err(anyhow::Error::msg)?;
    let t0 = Instant::now();
    let cohort = load_for(&file, &spec)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let json = Parts::in_json();
    let mut report = analyze_parts(&cohort, &spec, &AnalysisCache::one_shot(), &json, &|| false)?;
    report.timing.load_ms = load_ms;
    report.warnings.splice(0..0, warnings);
    Ok(if args.summary {
        report.without_curves()
    } else {
        report
    })
}

/// The R script that reproduces the analysis these options describe, and the spec file's
/// warnings.
pub fn run_emit_r(args: &AnalyzeArgs) -> anyhow::Result<(String, Vec<String>)> {
    let Resolved {
        spec,
        file,
        warnings,
    } = args.resolve().map_err(anyhow::Error::msg)?;
    let cohort = load_for(&file, &spec)?;
    let abs = std::fs::canonicalize(&file).unwrap_or(file);
    Ok((r_script_for(&cohort, &spec, &abs)?, warnings))
}

/// The R script for `spec` on `cohort`, read from `file`.
fn r_script_for(cohort: &Cohort, spec: &Spec, file: &std::path::Path) -> anyhow::Result<String> {
    // The script renames the file's columns as the loader did, then uses the cohort's names.
    let spec = spec.for_cohort(cohort);
    let endpoints: Vec<(String, Vec<String>, String)> =
        crate::analysis::resolve_endpoints(cohort, &spec)?
            .into_iter()
            .map(|e| (e.name, e.time, e.event))
            .collect();
    Ok(crate::export::rcode::r_script(
        &spec,
        file,
        &endpoints,
        &cohort.read_info,
    ))
}

/// Warning lines for stderr: load warnings, rows left out, matching warnings.
pub fn warning_lines(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = report.cohort.warnings.clone();
    out.extend(report.sample.warnings.iter().cloned());
    out.extend(report.warnings.iter().cloned());
    for e in &report.sample.excluded {
        out.push(format!("{} rows left out: {}", e.n, e.reason));
    }
    if let Some(m) = &report.matching {
        out.extend(m.warnings.iter().cloned());
        for e in &m.excluded {
            out.push(format!("matching: {} rows left out: {}", e.n, e.reason));
        }
    }
    if let Some(w) = &report.weighting {
        out.extend(w.warnings.iter().map(|x| format!("weighting: {x}")));
        for e in &w.excluded {
            out.push(format!("weighting: {} rows left out: {}", e.n, e.reason));
        }
    }
    for (name, ep) in report.endpoints.iter() {
        for e in &ep.excluded {
            out.push(format!("{name}: {} rows left out: {}", e.n, e.reason));
        }
        if let Some(m) = &ep.cox_adjusted {
            out.extend(
                m.warnings
                    .iter()
                    .map(|x| format!("{name}: adjusted model: {x}")),
            );
            if let Some(why) = &m.not_estimable {
                out.push(format!("{name}: adjusted model not estimable: {why}"));
            }
        }
    }
    out
}
