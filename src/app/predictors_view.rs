//! The Predictors view: for the endpoint on screen, "Table 2" (univariable and multivariable
//! Cox HRs), the model's n, events, exclusions, likelihood-ratio test and concordance, a
//! forest plot of the adjusted HRs, the proportional-hazards test per term, and the arm's
//! scaled Schoenfeld residuals with R's smooth. Everything is read from the core's report.

use eframe::egui;
use egui::RichText;
use egui_plot::{HLine, Line, LineStyle, Plot, Points};

use super::controls::{covariate_candidates, display_name};
use super::plot_util::{num, p_value};
use super::theme::{Palette, IMBALANCE};
use super::{Reports, ViewContext};
use crate::analysis::{CoxAdjustedReport, EndpointReport, ModelTerm, PhResiduals, Report};

/// What the view asks the app to do: the covariates of the model, as ticked.
pub enum PredictorsCommand {
    SetAdjust(Vec<String>),
}

/// One sentence on what an E-value means (the tooltip wherever one is shown).
pub const E_VALUE_HELP: &str = "E-value (VanderWeele & Ding 2017): how strongly an unmeasured confounder would have to be associated with both the treatment and the outcome (risk ratio, beyond the measured covariates) to explain away the hazard ratio; the second number is the same for the confidence limit nearer 1.";

pub fn predictors_ui(
    ui: &mut egui::Ui,
    ctx: &ViewContext,
    reports: &Reports,
) -> Option<PredictorsCommand> {
    let command = covariates_ui(ui, ctx);
    let shown = super::survival_view::shown_reports(ctx, reports);
    let report = match shown.last().copied() {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            ui.colored_label(IMBALANCE, e);
            return command;
        }
        None => return command,
    };
    let Some(ep) = report.endpoints.get(&ctx.settings.endpoint) else {
        return command;
    };
    ui.label(
        RichText::new(super::survival_view::sample_title(
            report,
            &format!("{}: predictors (Cox)", ep.label),
        ))
        .strong()
        .size(17.0),
    );
    let Some(model) = &ep.cox_adjusted else {
        ui.label("Tick the covariates of the model above.");
        return command;
    };
    // The table needs about 600 points; the plots take the rest.
    let total = ui.available_width();
    let left_w = (total * 0.55).clamp(560.0_f32.min(total * 0.6), 760.0);
    let h = ui.available_height();
    ui.horizontal_top(|ui| {
        ui.allocate_ui(egui::vec2(left_w, h), |ui| {
            ui.vertical(|ui| {
                table_ui(ui, ctx, report, ep, model);
                ph_table_ui(ui, ctx, model);
            });
        });
        ui.separator();
        ui.vertical(|ui| {
            forest_ui(ui, ctx, report, model);
            if let Some(r) = &model.arm_residuals {
                schoenfeld_ui(ui, r, model.ph_test.as_ref().map(|p| &p.terms[0]));
            }
        });
    });
    command
}

/// The model's covariates, its own selection (not the propensity model's).
fn covariates_ui(ui: &mut egui::Ui, ctx: &ViewContext) -> Option<PredictorsCommand> {
    let cohort = &ctx.loaded.cohort;
    let adjust = &ctx.settings.spec.adjust;
    let mut next = None;
    ui.horizontal_wrapped(|ui| {
        ui.label("Covariates of the model:");
        for col in covariate_candidates(ctx.settings, cohort) {
            let name = &col.name;
            let is = |c: &String| c == name || c.strip_suffix(":factor") == Some(name);
            let mut on = adjust.iter().any(is);
            if ui.checkbox(&mut on, display_name(cohort, name)).changed() {
                let mut new: Vec<String> = adjust.iter().filter(|c| !is(c)).cloned().collect();
                if on {
                    new.push(name.clone());
                }
                next = Some(PredictorsCommand::SetAdjust(new));
            }
        }
    });
    next
}

/// A term's row label: the arm as "treated vs control", a factor level as "column: level".
fn term_label(ctx: &ViewContext, report: &Report, term: &str, covariate: &str) -> String {
    let cohort = &ctx.loaded.cohort;
    if covariate == report.sample.arm_column {
        return format!(
            "{} vs {}",
            report.sample.treated_label, report.sample.control_label
        );
    }
    let name = display_name(cohort, covariate);
    match term.strip_prefix(covariate) {
        Some(level) if !level.is_empty() => format!("{name}: {level}"),
        _ => name,
    }
}

fn hr_ci(t: &ModelTerm) -> String {
    format!("{} ({}–{})", num(t.hr, 2), num(t.ci[0], 2), num(t.ci[1], 2))
}

/// Table 2: per term, univariable HR (95% CI) and p, multivariable HR (95% CI) and p.
fn table_ui(
    ui: &mut egui::Ui,
    ctx: &ViewContext,
    report: &Report,
    ep: &EndpointReport,
    model: &CoxAdjustedReport,
) {
    egui::Grid::new("table 2")
        .striped(true)
        .num_columns(5)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in [
                "",
                "Univariable HR (95% CI)",
                "p",
                "Multivariable HR (95% CI)",
                "p",
            ] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            let uni = ep.cox_univariable.as_deref().unwrap_or_default();
            for row in uni {
                let adjusted_terms: Vec<&ModelTerm> = model
                    .terms
                    .iter()
                    .filter(|t| {
                        row.terms.iter().any(|u| u.term == t.term)
                            || (row.terms.is_empty() && t.term.starts_with(&row.covariate))
                    })
                    .collect();
                if row.terms.is_empty() {
                    ui.label(display_name(&ctx.loaded.cohort, &row.covariate));
                    ui.weak(row.not_estimable.as_deref().unwrap_or("—"))
                        .on_hover_text(row.not_estimable.as_deref().unwrap_or(""));
                    ui.label("");
                    ui.label("");
                    ui.label("");
                    ui.end_row();
                    continue;
                }
                for u in &row.terms {
                    ui.label(term_label(ctx, report, &u.term, &row.covariate));
                    ui.label(hr_ci(u));
                    ui.label(p_value(u.p_value));
                    match adjusted_terms.iter().find(|t| t.term == u.term) {
                        Some(t) => {
                            ui.label(hr_ci(t));
                            ui.label(p_value(t.p_value));
                        }
                        None => {
                            ui.weak("—");
                            ui.label("");
                        }
                    }
                    ui.end_row();
                }
            }
        });
    ui.add_space(6.0);
    if let Some(why) = &model.not_estimable {
        ui.colored_label(
            IMBALANCE,
            format!("Multivariable model not estimable: {why}"),
        );
    }
    let excluded: Vec<String> = model
        .excluded
        .iter()
        .map(|e| format!("{} {}", e.n, e.reason))
        .collect();
    ui.label(format!(
        "Multivariable model: n = {}, events = {}, excluded = {}{}",
        model.n,
        model.events,
        model.n_excluded,
        if excluded.is_empty() {
            String::new()
        } else {
            format!(" ({})", excluded.join("; "))
        }
    ));
    if let Some(t) = &model.tests {
        let lr = &t.likelihood_ratio;
        ui.label(format!(
            "Likelihood-ratio test χ² = {} on {} df, p = {}",
            num(lr.chi_square, 2),
            lr.df,
            p_value(lr.p_value)
        ));
    }
    if let Some(c) = &model.concordance {
        ui.label(format!(
            "Concordance (Harrell's C) = {} (SE {})",
            num(c.value, 3),
            num(c.se, 3)
        ));
    }
    if let Some(e) = &model.e_value {
        ui.label(format!(
            "E-value of the adjusted HR: {} (CI limit {})",
            num(e.point, 2),
            num(e.ci_limit, 2)
        ))
        .on_hover_text(E_VALUE_HELP);
    }
    for w in &model.warnings {
        ui.colored_label(IMBALANCE, w);
    }
    ui.weak(format!(
        "Cox model, {} ties{}; univariable models use the rows where their covariate is present.",
        model.ties,
        if model.robust { ", robust SE" } else { "" }
    ));
}

/// The proportional-hazards test per term and global (R's cox.zph).
fn ph_table_ui(ui: &mut egui::Ui, ctx: &ViewContext, model: &CoxAdjustedReport) {
    let Some(ph) = &model.ph_test else {
        return;
    };
    ui.add_space(8.0);
    ui.label(RichText::new("Proportional hazards (Grambsch–Therneau, cox.zph)").strong());
    egui::Grid::new("ph test")
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            for h in ["term", "χ²", "df", "p"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for t in &ph.terms {
                ui.label(display_name(&ctx.loaded.cohort, &t.term));
                ui.label(num(t.chi_square, 2));
                ui.label(t.df.to_string());
                ui.label(p_value(t.p_value));
                ui.end_row();
            }
            ui.label(RichText::new("global").strong());
            ui.label(num(ph.global.chi_square, 2));
            ui.label(ph.global.df.to_string());
            ui.label(p_value(ph.global.p_value));
            ui.end_row();
        });
    if ph.global.p_value < 0.05 {
        ui.colored_label(
            IMBALANCE,
            "The global test rejects proportional hazards (p < 0.05): one HR may misdescribe the effect over time; see the RMST difference in the Survival view.",
        );
    }
}

/// Forest plot of the adjusted HRs (log scale).
fn forest_ui(ui: &mut egui::Ui, ctx: &ViewContext, report: &Report, model: &CoxAdjustedReport) {
    let terms: Vec<&ModelTerm> = model.terms.iter().filter(|t| t.hr.is_finite()).collect();
    if terms.is_empty() {
        return;
    }
    let covariate_of = |term: &str| -> String {
        if term == model.terms[0].term {
            return report.sample.arm_column.clone();
        }
        model
            .covariates
            .iter()
            .map(|c| c.strip_suffix(":factor").unwrap_or(c))
            .filter(|c| term.starts_with(c))
            .max_by_key(|c| c.len())
            .unwrap_or(term)
            .to_string()
    };
    let n = terms.len() as f64;
    let labels: Vec<String> = terms
        .iter()
        .map(|t| term_label(ctx, report, &t.term, &covariate_of(&t.term)))
        .collect();
    ui.label(RichText::new("Adjusted hazard ratios (95% CI)").strong());
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(10) as f32;
    let char_w = ui.fonts_mut(|f| f.glyph_width(&egui::TextStyle::Body.resolve(ui.style()), 'n'));
    let plot = super::plot_util::row_axis(Plot::new("adjusted forest"), labels)
        .height((ui.available_height() * 0.5).max(160.0))
        .y_axis_min_width(longest * char_w * 1.05 + 12.0);
    super::plot_util::log_hr_axis(plot, &[0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0], 2.0).show(
        ui,
        |pui| {
            super::plot_util::hr_one_line(pui);
            for (i, t) in terms.iter().enumerate() {
                let color = if i == 0 {
                    Palette::BLUE
                } else {
                    egui::Color32::DARK_GRAY
                };
                super::plot_util::hr_row(pui, &t.term, n - i as f64, t.hr, t.ci, color, 4.0);
            }
        },
    );
}

/// The arm's scaled Schoenfeld residuals against transformed time, R's smooth with its ±2 SE
/// band, and the model's coefficient (a constant effect is a horizontal line).
fn schoenfeld_ui(ui: &mut egui::Ui, r: &PhResiduals, test: Option<&crate::analysis::PhTerm>) {
    ui.label(RichText::new(format!("β(t) of {}: scaled Schoenfeld residuals", r.term)).strong())
        .on_hover_text("As R's plot(cox.zph(fit)): the residuals against time on the Kaplan–Meier scale (1 − KM), a natural cubic spline with 4 df through them and ±2 SE; a flat smooth at the coefficient (dashed) means proportional hazards.");
    if let Some(t) = test {
        ui.weak(format!(
            "test of a constant effect: p = {}",
            p_value(t.p_value)
        ));
    }
    Plot::new("schoenfeld")
        .height((ui.available_height() - 8.0).max(160.0))
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_label("time, Kaplan–Meier scale (1 − KM)")
        .y_axis_label(format!("β(t) for {}", r.term))
        .show(ui, |pui| {
            let pts: Vec<[f64; 2]> = r.x.iter().zip(&r.beta_t).map(|(&x, &y)| [x, y]).collect();
            pui.points(
                Points::new("residuals", pts)
                    .radius(1.8)
                    .color(egui::Color32::from_gray(150)),
            );
            let line = |v: &[f64]| -> Vec<[f64; 2]> {
                r.smooth_x.iter().zip(v).map(|(&x, &y)| [x, y]).collect()
            };
            pui.line(
                Line::new("smooth", line(&r.smooth))
                    .color(Palette::BLUE)
                    .width(2.0),
            );
            for band in [&r.lower, &r.upper] {
                pui.line(
                    Line::new("±2 SE", line(band))
                        .color(Palette::BLUE)
                        .style(LineStyle::dashed_dense()),
                );
            }
            pui.hline(
                HLine::new("coefficient", r.coef)
                    .color(egui::Color32::GRAY)
                    .style(LineStyle::dashed_loose()),
            );
        });
}
