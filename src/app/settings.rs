//! What the window remembers between runs (never patient data): the view, the sample shown,
//! the spec it edits (matching settings included) and recent files.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::analysis::{MatchSpec, Parts, RiskTable, Spec};

/// Which view the central panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum View {
    #[default]
    Survival,
    Response,
    Balance,
    Sensitivity,
    Subgroups,
    Predictors,
    Summary,
}

impl View {
    pub fn parse(s: &str) -> Option<View> {
        match s {
            "survival" => Some(View::Survival),
            "response" => Some(View::Response),
            "balance" => Some(View::Balance),
            "sensitivity" => Some(View::Sensitivity),
            "subgroups" => Some(View::Subgroups),
            "predictors" => Some(View::Predictors),
            "summary" => Some(View::Summary),
            _ => None,
        }
    }
}

/// Which sample the survival and response views show when matching is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SampleView {
    Unmatched,
    #[default]
    Matched,
    SideBySide,
}

/// What persists between runs: settings, never patient data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The analysis settings (arm levels, subgroup, CI type …) and the matching settings, in
    /// `spec.matching`: the one place they are kept, also while matching is off.
    pub spec: Spec,
    /// Whether the matched analysis runs.
    pub matching_on: bool,
    /// Whether the weighted (IPTW) analysis runs instead (never both: the side panel's
    /// "Adjustment" chooses one).
    pub weighting_on: bool,
    pub endpoint: String,
    pub view: View,
    pub sample_view: SampleView,
    pub show_ci: bool,
    pub dark: bool,
    pub recent: Vec<PathBuf>,
    /// The last figure export's size, resolution and format.
    pub export: ExportChoice,
}

/// A figure export as the user last chose it: a `--size` name, a resolution (None: the
/// size's own: 144 dpi for slides, 300 for journals) and a format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportChoice {
    pub size: String,
    pub dpi: Option<u32>,
    pub format: crate::export::Format,
}

impl Default for ExportChoice {
    fn default() -> Self {
        ExportChoice {
            size: "slide".to_string(),
            dpi: None,
            format: crate::export::Format::Png,
        }
    }
}

impl ExportChoice {
    /// The sizes offered: (`--size` name, menu label).
    pub const SIZES: [(&'static str, &'static str); 4] = [
        ("slide", "Slide 16:9"),
        ("slide-4:3", "Slide 4:3"),
        ("single-column", "Journal, single column (85 mm)"),
        ("double-column", "Journal, full width (180 mm)"),
    ];

    pub fn figure_size(&self) -> Result<crate::export::FigureSize, String> {
        crate::export::FigureSize::parse(&self.size, self.dpi.map(f64::from))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            spec: Spec {
                matching: Some(MatchSpec::default()),
                // The study's multivariable OS model; columns a file lacks are dropped when
                // it loads.
                adjust: [
                    "ecog",
                    "albi_grade",
                    "prior_io_response",
                    "afp_ge_400",
                    "nlr",
                    "pvt",
                ]
                .map(String::from)
                .to_vec(),
                ..Spec::default()
            },
            matching_on: true,
            weighting_on: false,
            endpoint: "pfs".to_string(),
            view: View::Survival,
            sample_view: SampleView::Matched,
            show_ci: true,
            dark: false,
            recent: Vec::new(),
            export: ExportChoice::default(),
        }
    }
}

impl Settings {
    /// The spec of the unmatched analysis (matching off).
    pub fn unmatched_spec(&self) -> Spec {
        Spec {
            matching: None,
            weighting: None,
            forest: self.view == View::Subgroups,
            caliper_sweep: false,
            adjust: self.adjust_shown(),
            univariable: self.view == View::Predictors,
            // The summary runs its own four analyses once: in the adjusted analysis when there
            // is one (its covariates are the side panel's), else here.
            sensitivity: self.view == View::Summary && !self.matching_on && !self.weighting_on,
            ..self.spec.clone()
        }
    }

    /// The unmatched and matched specs as the analyses take them: the choices that change no
    /// number (the risk table) at their defaults, so that changing one only redraws.
    pub fn analysed_specs(&self) -> (Spec, Option<Spec>) {
        let plain = |spec: Spec| Spec {
            risk_table: RiskTable::default(),
            ..spec
        };
        (plain(self.unmatched_spec()), self.matched_spec().map(plain))
    }

    /// The parts of the (unmatched, matched) reports the current view draws: the window asks
    /// for them first, then for the rest.
    pub fn visible_parts(&self) -> (Parts, Parts) {
        let endpoint = || Parts::endpoint(&self.endpoint);
        let shown = match self.view {
            View::Survival | View::Subgroups | View::Predictors => endpoint(),
            View::Response => Parts {
                response: true,
                ..Parts::none()
            },
            View::Balance => {
                let balance = Parts {
                    balance: true,
                    table1: true,
                    pairs: true,
                    units: true,
                    ..Parts::none()
                };
                return (Parts::none(), balance);
            }
            View::Sensitivity => return (Parts::none(), endpoint()),
            View::Summary => return (Parts::all(), Parts::all()),
        };
        let adjusted = self.matching_on || self.weighting_on;
        let (unmatched, matched) = match (adjusted, self.sample_view) {
            (false, _) | (true, SampleView::Unmatched) => (true, false),
            (true, SampleView::Matched) => (false, true),
            (true, SampleView::SideBySide) => (true, true),
        };
        let pick = |on: bool| if on { shown.clone() } else { Parts::none() };
        (pick(unmatched), pick(matched))
    }

    /// The adjusted model's covariates when the Predictors or the summary view shows it (no
    /// other view draws it, so no other pays for it).
    fn adjust_shown(&self) -> Vec<String> {
        if matches!(self.view, View::Predictors | View::Summary) {
            self.spec.adjust.clone()
        } else {
            Vec::new()
        }
    }

    /// The matching settings (kept while matching is off).
    pub fn matching(&self) -> &MatchSpec {
        static DEFAULT: std::sync::OnceLock<MatchSpec> = std::sync::OnceLock::new();
        self.spec
            .matching
            .as_ref()
            .unwrap_or_else(|| DEFAULT.get_or_init(MatchSpec::default))
    }

    /// The matching settings, to edit.
    pub fn matching_mut(&mut self) -> &mut MatchSpec {
        self.spec.matching.get_or_insert_with(MatchSpec::default)
    }

    /// The weighting settings (kept while weighting is off).
    pub fn weighting(&self) -> &crate::weighting::WeightSpec {
        static DEFAULT: std::sync::OnceLock<crate::weighting::WeightSpec> =
            std::sync::OnceLock::new();
        self.spec
            .weighting
            .as_ref()
            .unwrap_or_else(|| DEFAULT.get_or_init(Default::default))
    }

    /// The weighting settings, to edit.
    pub fn weighting_mut(&mut self) -> &mut crate::weighting::WeightSpec {
        self.spec.weighting.get_or_insert_with(Default::default)
    }

    /// The spec of the adjusted analysis (matched, or weighted when weighting is chosen),
    /// when either is on.
    pub fn matched_spec(&self) -> Option<Spec> {
        (self.matching_on || self.weighting_on).then(|| Spec {
            matching: (!self.weighting_on).then(|| self.matching().clone()),
            weighting: self.weighting_on.then(|| self.weighting().clone()),
            forest: self.view == View::Subgroups,
            caliper_sweep: self.view == View::Sensitivity && !self.weighting_on,
            sweep_endpoint: (self.view == View::Sensitivity && !self.weighting_on)
                .then(|| self.endpoint.clone()),
            adjust: self.adjust_shown(),
            univariable: self.view == View::Predictors,
            sensitivity: self.view == View::Summary,
            ..self.spec.clone()
        })
    }
}
