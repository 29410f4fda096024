//! The table under the Kaplan–Meier plot: the number at risk per arm, or the KMunicate table
//! (at risk, censored, events per arm), its columns in the plot's own x coordinates so that
//! they sit under the axis ticks.

use eframe::egui;
use egui::{Align2, Color32, RichText};

use super::plot_util::num;
use super::theme::Palette;
use crate::analysis::{EndpointReport, RiskTable};

/// Width reserved left of the plot frame: the y axis, and the arm names of the at-risk table
/// (at least; the KMunicate row labels may take more, see [`left_room`]).
const AXIS_WIDTH: f32 = 96.0;

/// The KMunicate table's row labels (Morris et al. 2019), top to bottom.
const KMUNICATE_ROWS: [&str; 3] = ["At risk", "Censored", "Events"];

/// How far the KMunicate row labels are indented under the arm's name.
const ROW_INDENT: f32 = 12.0;

/// Rows of the table under the plot, its heading aside: one per arm (at risk), or per arm
/// its name and three rows (KMunicate).
pub(super) fn table_rows(ep: &EndpointReport, table: RiskTable) -> f32 {
    let arms = ep.arms.0.len() as f32;
    match table {
        RiskTable::AtRisk => arms,
        RiskTable::Kmunicate => 4.0 * arms,
    }
}

/// Width left of the plot frame: [`AXIS_WIDTH`], or more where the KMunicate row labels with
/// half the widest number of the first column (the arm's n, centred at time 0) need it.
pub(super) fn left_room(ui: &egui::Ui, ep: &EndpointReport, table: RiskTable) -> f32 {
    if table == RiskTable::AtRisk {
        return AXIS_WIDTH;
    }
    let font = egui::TextStyle::Body.resolve(ui.style());
    let width = |t: String| {
        ui.painter()
            .layout_no_wrap(t, font.clone(), Color32::WHITE)
            .size()
            .x
    };
    let labels = KMUNICATE_ROWS
        .iter()
        .map(|l| width(l.to_string()))
        .fold(0.0, f32::max);
    let first = ep
        .arms
        .iter()
        .map(|(_, a)| width(num(a.n, 0)))
        .fold(0.0, f32::max);
    AXIS_WIDTH.max(4.0 + ROW_INDENT + labels + 12.0 + first / 2.0)
}

/// Where the table's columns go: the plot's transform (the ticks' screen x), the ticks' times,
/// the height of a row and the width left of the plot frame.
pub(super) struct Columns<'a> {
    pub transform: &'a egui_plot::PlotTransform,
    pub ticks: &'a [f64],
    pub row_h: f32,
    pub axis_width: f32,
}

/// A text of the table as a label (so screen readers and the UI tests read it), its `anchor`
/// point at `pos`.
fn cell(ui: &mut egui::Ui, pos: egui::Pos2, anchor: Align2, text: RichText) {
    // A box wide enough for any number, placed so that the label's anchor falls on `pos`.
    let size = egui::vec2(240.0, ui.text_style_height(&egui::TextStyle::Body) + 4.0);
    let rect = anchor.anchor_size(pos, size);
    let mut child = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rect)
            .layout(egui::Layout::top_down(anchor.x())),
    );
    child.add(
        egui::Label::new(text)
            .selectable(false)
            .wrap_mode(egui::TextWrapMode::Extend),
    );
}

/// One row of numbers: `value(t)` at each tick, centred on the tick's screen x.
fn numbers_row(
    ui: &mut egui::Ui,
    columns: &Columns,
    y: f32,
    color: Color32,
    value: impl Fn(f64) -> f64,
) {
    for &t in columns.ticks {
        let x = columns.transform.position_from_point_x(t);
        let text = RichText::new(num(value(t), 0)).color(color);
        cell(ui, egui::pos2(x, y), Align2::CENTER_TOP, text);
    }
}

/// The table under the plot: the number at risk per arm, or the KMunicate table (per arm its
/// name, then at risk, censored and events), one column per x tick, each number centred on
/// the tick's screen position taken from the plot's transform.
pub(super) fn risk_table_ui(
    ui: &mut egui::Ui,
    ep: &EndpointReport,
    table: RiskTable,
    columns: &Columns,
) {
    let row_h = columns.row_h;
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), row_h * (table_rows(ep, table) + 1.0)),
        egui::Sense::hover(),
    );
    let text_color = ui.visuals().text_color();
    let heading = match table {
        RiskTable::AtRisk => "Number at risk",
        RiskTable::Kmunicate => "Number at risk, and censored and events to date",
    };
    let left = rect.left() + 2.0;
    cell(
        ui,
        egui::pos2(left, rect.top()),
        Align2::LEFT_TOP,
        RichText::new(heading).color(text_color),
    );
    // Arm names in the space the y axis reserves left of the frame.
    let name_x = columns.transform.frame().left() - columns.axis_width + 4.0;
    let weak = ui.visuals().weak_text_color();
    for (k, (arm, a)) in ep.arms.iter().enumerate() {
        let color = Palette::arm(k);
        let top = match table {
            RiskTable::AtRisk => rect.top() + row_h * (k as f32 + 1.0),
            RiskTable::Kmunicate => rect.top() + row_h * (4.0 * k as f32 + 1.0),
        };
        let name = RichText::new(arm).color(color);
        cell(ui, egui::pos2(name_x, top), Align2::LEFT_TOP, name);
        if table == RiskTable::AtRisk {
            if let Some(km) = &a.curve {
                numbers_row(ui, columns, top, color, |t| km.at(t).n_risk);
            }
            continue;
        }
        for (r, label) in KMUNICATE_ROWS.into_iter().enumerate() {
            let y = top + row_h * (r as f32 + 1.0);
            let label = RichText::new(label).color(weak);
            cell(
                ui,
                egui::pos2(name_x + ROW_INDENT, y),
                Align2::LEFT_TOP,
                label,
            );
            if let Some(km) = &a.curve {
                numbers_row(ui, columns, y, color, |t| {
                    let c = km.counts_at(t);
                    [c.n_risk, c.n_censored, c.n_events][r]
                });
            }
        }
    }
}
