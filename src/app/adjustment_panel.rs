//! The side panel's "Adjustment": none, propensity-score matching (caliper, distance,
//! order, ratio, replacement, robust SE) or inverse probability of treatment weighting
//! (estimand, stabilized, trim), each with its propensity model's covariates.

use eframe::egui;

use super::controls::{covariate_candidates, display_name};
use super::{Reports, SampleView, Settings};
use crate::analysis::{CaliperScale, MatchOrder};
use crate::cohort::Cohort;
use crate::weighting::Estimand;

/// Which adjustment the panel shows as chosen.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Adjustment {
    None,
    Matching,
    Weighting,
}

pub fn adjustment_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    cohort: &Cohort,
    reports: Option<&Reports>,
) {
    ui.heading("Adjustment");
    let mut choice = if settings.weighting_on {
        Adjustment::Weighting
    } else if settings.matching_on {
        Adjustment::Matching
    } else {
        Adjustment::None
    };
    ui.horizontal(|ui| {
        ui.selectable_value(&mut choice, Adjustment::None, "none")
            .on_hover_text("The arms as they are");
        ui.selectable_value(&mut choice, Adjustment::Matching, "matching")
            .on_hover_text(
                "Greedy 1:1 nearest-neighbour matching on the propensity score, as R's MatchIt",
            );
        ui.selectable_value(&mut choice, Adjustment::Weighting, "weighting (IPTW)")
            .on_hover_text("Inverse probability of treatment weighting: every patient kept, weighted by the propensity score");
    });
    settings.matching_on = choice == Adjustment::Matching;
    settings.weighting_on = choice == Adjustment::Weighting;
    match choice {
        Adjustment::None => {}
        Adjustment::Matching => matching_ui(ui, settings, cohort, reports),
        Adjustment::Weighting => weighting_ui(ui, settings, cohort, reports),
    }
}

/// The propensity model's covariates, ticked in `covariates`.
fn covariates_ui(
    ui: &mut egui::Ui,
    covariates: &mut Vec<String>,
    settings_view: (&Settings, &Cohort),
) {
    let (settings, cohort) = settings_view;
    ui.label("Covariates of the propensity model:");
    for col in covariate_candidates(settings, cohort) {
        let name = &col.name;
        let is = |c: &String| c == name || c.strip_suffix(":factor") == Some(name);
        let mut on = covariates.iter().any(is);
        if ui.checkbox(&mut on, display_name(cohort, name)).changed() {
            covariates.retain(|c| !is(c));
            if on {
                covariates.push(name.clone());
            }
        }
    }
}

fn weighting_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    cohort: &Cohort,
    reports: Option<&Reports>,
) {
    if let Some(Some(Ok(r))) = reports.map(|r| &r.matched) {
        if let Some(w) = &r.weighting {
            ui.label(format!(
                "Weighted: {} patients ({} excluded)",
                w.n, w.n_excluded
            ));
            let ess: Vec<String> = w
                .weights
                .ess
                .iter()
                .map(|(k, v)| format!("{k} {v:.1}"))
                .collect();
            ui.weak(format!("Effective sample size: {}", ess.join(" · ")))
                .on_hover_text("Kish's effective sample size (Σw)²/Σw² per arm");
        }
    } else if let Some(Some(Err(e))) = reports.map(|r| &r.matched) {
        ui.colored_label(super::theme::IMBALANCE, e);
    }
    let mut covs = settings.weighting().covariates.clone();
    covariates_ui(ui, &mut covs, (settings, cohort));
    if covs != settings.weighting().covariates {
        settings.weighting_mut().covariates = covs;
    }
    egui::ComboBox::from_label("Estimand")
        .selected_text(match settings.weighting().estimand {
            Estimand::Ate => "ATE (whole sample)",
            Estimand::Att => "ATT (the treated)",
        })
        .show_ui(ui, |ui| {
            let w = settings.weighting_mut();
            ui.selectable_value(&mut w.estimand, Estimand::Ate, "ATE (whole sample)")
                .on_hover_text("Weights 1/ps (treated) and 1/(1 − ps) (controls)");
            ui.selectable_value(&mut w.estimand, Estimand::Att, "ATT (the treated)")
                .on_hover_text("Weights 1 (treated) and ps/(1 − ps) (controls)");
        });
    if settings.weighting().estimand == Estimand::Ate {
        ui.checkbox(
            &mut settings.weighting_mut().stabilized,
            "Stabilized weights",
        )
        .on_hover_text("Times the sample's share of the patient's arm: the weights sum to about n");
    }
    let mut trim_on = settings.weighting().trim.is_some();
    ui.horizontal(|ui| {
        if ui.checkbox(&mut trim_on, "Trim scores below").changed() {
            settings.weighting_mut().trim = trim_on.then_some(0.05);
        }
        if let Some(q) = settings.weighting_mut().trim.as_mut() {
            ui.add(
                egui::DragValue::new(q)
                    .range(0.001..=0.25)
                    .speed(0.005)
                    .fixed_decimals(3),
            );
            ui.label("and above 1 − it");
        }
    });
    sample_choice_ui(ui, settings, ["weighted", "unweighted"]);
}

/// Which sample the views show: the adjusted one, the unadjusted one, or both.
fn sample_choice_ui(ui: &mut egui::Ui, settings: &mut Settings, names: [&str; 2]) {
    ui.horizontal(|ui| {
        ui.label("Show");
        ui.selectable_value(&mut settings.sample_view, SampleView::Matched, names[0]);
        ui.selectable_value(&mut settings.sample_view, SampleView::Unmatched, names[1]);
        ui.selectable_value(&mut settings.sample_view, SampleView::SideBySide, "both");
    });
}

fn matching_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    cohort: &Cohort,
    reports: Option<&Reports>,
) {
    if let Some(Some(Ok(m))) = reports.map(|r| &r.matched) {
        if let Some(mr) = &m.matching {
            ui.label(format!("Matched: {}", mr.n_matched.joined(" · ")));
            ui.weak(format!("Unmatched: {}", mr.n_unmatched.joined(" · ")));
        }
    } else if let Some(Some(Err(e))) = reports.map(|r| &r.matched) {
        ui.colored_label(super::theme::IMBALANCE, e);
    }
    let mut covs = settings.matching().covariates.clone();
    covariates_ui(ui, &mut covs, (settings, cohort));
    if covs != settings.matching().covariates {
        settings.matching_mut().covariates = covs;
    }
    ui.add(
        egui::Slider::new(&mut settings.matching_mut().caliper, 0.01..=1.0)
            .logarithmic(true)
            .fixed_decimals(3)
            .text("Caliper (SD)"),
    )
    .on_hover_text("Width in standard deviations of the distance, SD over all patients used (n − 1), as MatchIt. Austin's papers use the pooled SD of the two arms.");
    egui::ComboBox::from_label("Distance")
        .selected_text(match settings.matching().scale {
            CaliperScale::Logit => "logit of the PS",
            CaliperScale::Ps => "propensity score",
        })
        .show_ui(ui, |ui| {
            ui.selectable_value(
                &mut settings.matching_mut().scale,
                CaliperScale::Logit,
                "logit of the PS",
            )
            .on_hover_text("Austin (2011): caliper 0.2 SD of the logit");
            ui.selectable_value(
                &mut settings.matching_mut().scale,
                CaliperScale::Ps,
                "propensity score",
            )
            .on_hover_text("MatchIt's default distance");
        });
    egui::ComboBox::from_label("Order")
        .selected_text(format!("{:?}", settings.matching().order).to_lowercase())
        .show_ui(ui, |ui| {
            for (o, l) in [
                (MatchOrder::Largest, "largest PS first"),
                (MatchOrder::Smallest, "smallest PS first"),
                (MatchOrder::Data, "file order"),
                (MatchOrder::Random, "random"),
            ] {
                ui.selectable_value(&mut settings.matching_mut().order, o, l);
            }
        });
    if settings.matching().order == MatchOrder::Random {
        ui.horizontal(|ui| {
            let l = ui.label("Seed");
            ui.add(
                egui::DragValue::new(&mut settings.matching_mut().seed)
                    .range(crate::analysis::SEED_RANGE),
            )
            .labelled_by(l.id);
        });
    }
    ui.horizontal(|ui| {
        let l = ui.label("Controls per treated");
        ui.add(egui::DragValue::new(&mut settings.matching_mut().ratio).range(1..=5))
            .labelled_by(l.id);
    });
    ui.checkbox(&mut settings.matching_mut().replace, "With replacement");
    ui.checkbox(
        &mut settings.matching_mut().robust,
        "Robust SE clustered on matched sets",
    );
    sample_choice_ui(ui, settings, ["matched", "unmatched"]);
}
