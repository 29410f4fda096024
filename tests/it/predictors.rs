//! The Predictors view and its exports: the window shows the core's multivariable and
//! univariable Cox models for the endpoint on screen, recomputes them when a covariate is
//! ticked, and exports its figure; `report --adjust` writes cox_<endpoint>.csv, the figure
//! and a methods paragraph naming the model; the Survival view shows the E-value and warns
//! when the hazards are not proportional.

use std::process::Command;

use eframe::egui;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use survival_explorer::analysis::{analyze, EndpointReport, Report, Spec};
use survival_explorer::app::{demo_cohort, App, Settings, View};

use crate::common;

fn harness(settings: Settings) -> Harness<'static, App> {
    Harness::builder()
        .with_size([1600.0, 1100.0])
        .build_ui_state(
            |ui, app: &mut App| app.ui_all(ui),
            App::with_settings(settings),
        )
}

fn two(x: f64) -> String {
    format!("{x:.2}")
}

fn core(spec: &Spec) -> Report {
    analyze(&demo_cohort().cohort, spec).expect("demo analyses")
}

#[track_caller]
fn assert_shows(h: &Harness<'_, App>, text: &str) {
    assert!(
        h.query_by_label_contains(text).is_some(),
        "the window does not show '{text}'"
    );
}

fn endpoint(h: &Harness<'_, App>) -> EndpointReport {
    let settings = h.state().settings.clone();
    let report = core(&settings.matched_spec().unwrap());
    report.endpoints.get(&settings.endpoint).unwrap().clone()
}

/// Every number of Table 2, the model line, the LR test and the concordance, as the core has
/// them.
fn assert_table_matches_core(h: &Harness<'_, App>) {
    let ep = endpoint(h);
    let model = ep
        .cox_adjusted
        .as_ref()
        .expect("the view's spec asks for it");
    assert!(model.not_estimable.is_none());
    for t in &model.terms {
        assert_shows(
            h,
            &format!("{} ({}–{})", two(t.hr), two(t.ci[0]), two(t.ci[1])),
        );
    }
    for row in ep.cox_univariable.as_ref().unwrap() {
        for t in &row.terms {
            assert_shows(
                h,
                &format!("{} ({}–{})", two(t.hr), two(t.ci[0]), two(t.ci[1])),
            );
        }
    }
    assert_shows(
        h,
        &format!(
            "Multivariable model: n = {}, events = {}",
            model.n, model.events
        ),
    );
    let lr = &model.tests.as_ref().unwrap().likelihood_ratio;
    assert_shows(
        h,
        &format!(
            "Likelihood-ratio test χ² = {} on {} df",
            two(lr.chi_square),
            lr.df
        ),
    );
    let c = model.concordance.as_ref().unwrap();
    assert_shows(h, &format!("Concordance (Harrell's C) = {:.3}", c.value));
    let ph = model.ph_test.as_ref().unwrap();
    assert_shows(h, &two(ph.global.chi_square));
}

#[test]
fn the_predictors_view_shows_the_core_models_and_follows_the_ticks() {
    let mut settings = Settings {
        view: View::Predictors,
        endpoint: "os".to_string(),
        ..Settings::default()
    };
    settings.spec.adjust = ["ecog", "afp_ge_400", "nlr", "pvt"]
        .map(String::from)
        .to_vec();
    let mut h = harness(settings);
    h.run();
    assert_table_matches_core(&h);
    // Ticking ALBI grade adds it to the model: the view shows the refitted model.
    // (The side panel has an "ALBI grade" too: the propensity model's, already ticked.)
    h.get_all_by_label("ALBI grade")
        .find(|n| {
            let a = n.accesskit_node();
            a.role() == egui::accesskit::Role::CheckBox
                && a.toggled() == Some(egui::accesskit::Toggled::False)
        })
        .expect("the Predictors view's unticked ALBI grade")
        .click();
    h.run();
    assert!(h
        .state()
        .settings
        .spec
        .adjust
        .contains(&"albi_grade".to_string()));
    let ep = endpoint(&h);
    assert!(ep
        .cox_adjusted
        .as_ref()
        .unwrap()
        .terms
        .iter()
        .any(|t| t.term == "albi_grade"));
    assert_table_matches_core(&h);
    // The figure of the view: the adjusted HRs as the core has them.
    let dir = std::env::temp_dir().join(format!("se-predictors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("cox.svg");
    h.state()
        .write_figure(
            &svg,
            survival_explorer::export::Format::Svg,
            survival_explorer::export::FigureSize::SLIDE_16_9,
        )
        .unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("multivariable Cox model"), "title");
    let arm = &ep.cox_adjusted.as_ref().unwrap().terms[0];
    assert!(
        text.contains(&format!(
            "{} ({}–{})",
            two(arm.hr),
            two(arm.ci[0]),
            two(arm.ci[1])
        )),
        "the arm's HR in the figure"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_survival_view_shows_the_e_value() {
    let mut h = harness(Settings::default());
    h.run();
    let settings = h.state().settings.clone();
    let report = core(&settings.matched_spec().unwrap());
    let e = report
        .endpoints
        .get(&settings.endpoint)
        .unwrap()
        .cox
        .e_value
        .unwrap();
    assert_shows(
        &h,
        &format!("E-value {} (CI {})", two(e.point), two(e.ci_limit)),
    );
}

/// Crossing hazards: the treated arm dies early, the control arm late. The PH test rejects
/// and the Survival view says so, with the RMST difference.
#[test]
fn the_survival_view_warns_when_hazards_are_not_proportional() {
    let mut csv = String::from("id,arm,os_months,os_event\n");
    for i in 0..120 {
        let treated = i % 2 == 0;
        let u = (i / 2) as f64 / 60.0;
        let t = if treated {
            1.0 + 20.0 * u * u
        } else {
            6.0 + 4.0 * u
        };
        csv += &format!(
            "{},{},{t:.2},1\n",
            i + 1,
            if treated { "lenvatinib" } else { "sorafenib" }
        );
    }
    let path = std::env::temp_dir().join(format!("se-nonph-{}.csv", std::process::id()));
    std::fs::write(&path, csv).unwrap();
    let settings = Settings {
        matching_on: false,
        endpoint: "os".to_string(),
        ..Settings::default()
    };
    let mut h = harness(settings);
    h.state_mut().open_file(&path);
    h.run();
    let cohort = survival_explorer::cohort::Cohort::load(&path).unwrap();
    let report = analyze(&cohort, &h.state().settings.unmatched_spec()).unwrap();
    let ep = report.endpoints.get("os").unwrap();
    let ph = ep.cox.ph_test.as_ref().unwrap();
    assert!(ph.global.p_value < 0.05, "{}", ph.global.p_value);
    assert_shows(&h, "Hazards look non-proportional");
    assert_shows(
        &h,
        &format!(
            "RMST difference to {:.1} months: {:.2}",
            ep.rmst_difference.horizon, ep.rmst_difference.value
        ),
    );
    std::fs::remove_file(&path).ok();
}

#[test]
fn report_with_adjust_writes_the_table_the_figure_and_the_methods() {
    let dir = std::env::temp_dir().join(format!("se-report-adjust-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_survival-explorer"))
        .args(["report", common::demo_path().to_str().unwrap()])
        .args([
            "--adjust",
            "ecog,albi_grade:factor,afp_ge_400,nlr,pvt",
            "--univariable",
        ])
        .arg("--out")
        .arg(&dir)
        .arg("--force")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(dir.join("cox_os.csv")).unwrap();
    let spec = Spec {
        adjust: ["ecog", "albi_grade:factor", "afp_ge_400", "nlr", "pvt"]
            .map(String::from)
            .to_vec(),
        univariable: true,
        ..Spec::default()
    };
    let report = core(&spec);
    let model = report
        .endpoints
        .get("os")
        .unwrap()
        .cox_adjusted
        .clone()
        .unwrap();
    for t in &model.terms {
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("multivariable,,{},", t.term)))
            .unwrap_or_else(|| panic!("no row for {}", t.term));
        assert!(line.contains(&format!(",{},", t.hr)), "{line}");
    }
    assert!(csv.lines().any(|l| l.starts_with("ph_test,,GLOBAL,")));
    assert!(csv.lines().any(|l| l.starts_with("univariable,arm,")));
    assert!(dir.join("cox_os.svg").exists() || dir.join("cox_os.png").exists());
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains(
            "multivariable Cox model of the arm and ecog, albi_grade, afp_ge_400, nlr, pvt"
        ),
        "{md}"
    );
    assert!(md.contains("cox_os.csv"));
    std::fs::remove_dir_all(&dir).ok();
}
