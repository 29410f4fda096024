//! The KMunicate risk table (Morris et al. 2019, BMJ Open): per arm the number at risk at each
//! tick, and the censored and the events before it, cumulative. The three add up to the arm's
//! n; the exported figure and the window show the core's counts, each under its tick; the
//! choice travels through `--risk-table`, spec files and the window.

use crate::common;

use std::process::Command;

use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use survival_explorer::analysis::{analyze, EndpointReport, MatchSpec, Report, RiskTable, Spec};
use survival_explorer::app::{App, Settings};
use survival_explorer::export::{render_png, render_svg, Figure, FigureSize};
use survival_explorer::format::axis::{ticks, time_step};
use survival_explorer::spec_file::SpecFile;
use survival_explorer::stats::km::{kaplan_meier, ConfType};
use survival_explorer::stats::SurvSample;

use common::{demo_cohort, demo_path};

const ROWS: [&str; 3] = ["At risk", "Censored", "Events"];

/// The times of the table's columns, as the window and the figures place them.
fn tick_times(ep: &EndpointReport, unit: &str) -> Vec<f64> {
    let x_max = ep.last_time().max(1e-9);
    ticks(x_max, time_step(x_max, unit == "months"))
}

/// The three rows of each arm, as the table prints them: per arm [at risk, censored, events],
/// one number per tick.
fn expected_rows(report: &Report, endpoint: &str) -> Vec<[Vec<String>; 3]> {
    let ep = report.endpoints.get(endpoint).unwrap();
    let times = tick_times(ep, report.sample.time_unit);
    ep.arms
        .iter()
        .map(|(_, a)| {
            let km = a.curve.as_ref().unwrap();
            let counts: Vec<_> = times.iter().map(|&t| km.counts_at(t)).collect();
            let row = |f: &dyn Fn(&survival_explorer::stats::km::RiskCounts) -> f64| {
                counts.iter().map(|c| format!("{:.0}", f(c))).collect()
            };
            [
                row(&|c| c.n_risk),
                row(&|c| c.n_censored),
                row(&|c| c.n_events),
            ]
        })
        .collect()
}

fn matched_spec() -> Spec {
    Spec {
        matching: Some(MatchSpec::default()),
        ..Spec::default()
    }
}

#[test]
fn at_risk_censored_and_events_add_up_to_n_at_every_tick() {
    let cohort = demo_cohort();
    let weighted = Spec {
        matching: Some(MatchSpec {
            ratio: 2,
            replace: true,
            ..MatchSpec::default()
        }),
        ..Spec::default()
    };
    for spec in [Spec::default(), matched_spec(), weighted] {
        let report = analyze(&cohort, &spec).unwrap();
        for (name, ep) in report.endpoints.iter() {
            let ticks = tick_times(ep, report.sample.time_unit);
            for (arm, a) in ep.arms.iter() {
                let km = a.curve.as_ref().unwrap();
                // Every tick, every distinct time (a subject's time equal to t) and past the end.
                let times = ticks
                    .iter()
                    .chain(&km.time)
                    .copied()
                    .chain([km.time.last().unwrap() + 1.0]);
                for t in times {
                    let c = km.counts_at(t);
                    let sum = c.n_risk + c.n_censored + c.n_events;
                    let what = format!("{name} {arm} t = {t}: {c:?}, n = {}", a.n);
                    if report.sample.weighted {
                        assert!((sum - a.n).abs() <= 1e-9 * a.n, "{what}");
                    } else {
                        assert_eq!(sum, a.n, "{what}");
                    }
                    assert_eq!(c.n_risk, km.at(t).n_risk, "{what}");
                }
                let end = km.counts_at(f64::INFINITY);
                assert_eq!((end.n_risk, end.n_events), (0.0, km.events), "{name} {arm}");
            }
        }
    }
    // Ties at the ticks themselves: at 3 months, two events and a censoring exactly at 3 are
    // still at risk, and counted neither as censored nor as events before 3.
    let s = SurvSample::new(
        vec![1.0, 2.0, 3.0, 3.0, 3.0, 4.0, 6.0, 6.0],
        vec![true, false, true, true, false, true, false, true],
        None,
    );
    let km = kaplan_meier(&s, ConfType::LogLog, 0.95);
    let got: Vec<[f64; 3]> = [0.0, 3.0, 6.0, 9.0]
        .iter()
        .map(|&t| {
            let c = km.counts_at(t);
            assert_eq!(c.n_risk + c.n_censored + c.n_events, 8.0, "t = {t}");
            [c.n_risk, c.n_censored, c.n_events]
        })
        .collect();
    assert_eq!(
        got,
        [
            [8.0, 0.0, 0.0],
            [6.0, 1.0, 1.0],
            [2.0, 2.0, 4.0],
            [0.0, 3.0, 5.0]
        ]
    );
}

/// A `<text>` of an SVG: its x, y and text.
struct SvgText {
    x: f64,
    y: f64,
    text: String,
}

fn svg_texts(svg: &str) -> Vec<SvgText> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| SvgText {
            x: n.attribute("x").unwrap().parse().unwrap(),
            y: n.attribute("y").unwrap().parse().unwrap(),
            text: n.text().unwrap_or("").trim().to_string(),
        })
        .collect()
}

/// The x of each x-axis tick mark: the short vertical black lines hanging from the axis.
fn svg_tick_marks(svg: &str) -> Vec<f64> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let mut xs: Vec<f64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some("#000000"))
        .filter_map(|n| {
            let pts: Vec<(f64, f64)> = n
                .attribute("points")?
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            match pts.as_slice() {
                [(x0, y0), (x1, y1)] if x0 == x1 && (1.0..20.0).contains(&(y1 - y0)) => Some(*x0),
                _ => None,
            }
        })
        .collect();
    xs.sort_by(f64::total_cmp);
    xs
}

/// The numbers on the row whose label is the `k`-th text `label` (top to bottom), left to
/// right: (x, text).
fn row_of(texts: &[SvgText], label: &str, k: usize) -> Vec<(f64, String)> {
    let mut labels: Vec<&SvgText> = texts.iter().filter(|t| t.text == label).collect();
    labels.sort_by(|a, b| a.y.total_cmp(&b.y));
    let row = labels[k];
    let mut cells: Vec<(f64, String)> = texts
        .iter()
        .filter(|t| t.y == row.y && t.x > row.x && t.text != label)
        .map(|t| (t.x, t.text.clone()))
        .collect();
    cells.sort_by(|a, b| a.0.total_cmp(&b.0));
    cells
}

#[test]
fn the_figure_shows_the_kmunicate_rows_under_the_ticks() {
    let report = analyze(&demo_cohort(), &matched_spec()).unwrap();
    for endpoint in ["pfs", "os"] {
        let fig = Figure::Km(endpoint.to_string(), RiskTable::Kmunicate);
        let svg = render_svg(&fig, &report, None, FigureSize::SLIDE_16_9, true).unwrap();
        let texts = svg_texts(&svg);
        let marks = svg_tick_marks(&svg);
        let expected = expected_rows(&report, endpoint);
        assert_eq!(marks.len(), expected[0][0].len(), "{endpoint}: tick marks");
        for (k, arm_rows) in expected.iter().enumerate() {
            for (label, want) in ROWS.iter().zip(arm_rows) {
                let cells = row_of(&texts, label, k);
                let got: Vec<&String> = cells.iter().map(|(_, t)| t).collect();
                assert_eq!(
                    got,
                    want.iter().collect::<Vec<_>>(),
                    "{endpoint} arm {k} {label}"
                );
                // Each number is centred on its tick (text-anchor middle at the tick's x).
                for ((x, text), mark) in cells.iter().zip(&marks) {
                    assert!(
                        (x - mark).abs() <= 1.0,
                        "{endpoint} arm {k} {label} '{text}' at x = {x}, tick at {mark}"
                    );
                }
            }
        }
        // The arm names head their rows, and the figure says what the rows count.
        for (arm, _) in report.endpoints.get(endpoint).unwrap().arms.iter() {
            assert!(texts.iter().any(|t| t.text == *arm), "no '{arm}'");
        }
        assert!(texts
            .iter()
            .any(|t| t.text.contains("censored and events to date")));
    }
}

#[test]
fn the_at_risk_table_stays_the_default_and_under_the_ticks() {
    let report = analyze(&demo_cohort(), &matched_spec()).unwrap();
    assert_eq!(Spec::default().risk_table, RiskTable::AtRisk);
    let fig = Figure::Km("pfs".into(), RiskTable::AtRisk);
    let svg = render_svg(&fig, &report, None, FigureSize::SLIDE_16_9, false).unwrap();
    let texts = svg_texts(&svg);
    assert!(texts.iter().any(|t| t.text == "Number at risk"));
    assert!(!texts.iter().any(|t| ROWS.contains(&t.text.as_str())));
    let marks = svg_tick_marks(&svg);
    let expected = expected_rows(&report, "pfs");
    for (k, (arm, _)) in report.endpoints.get("pfs").unwrap().arms.iter().enumerate() {
        // The arm's row: the texts on the line of its name, right of it (the legend's line
        // starts with the name and a colon, so it is not this one).
        let cells = row_of(&texts, arm, 0);
        let got: Vec<&String> = cells.iter().map(|(_, t)| t).collect();
        assert_eq!(got, expected[k][0].iter().collect::<Vec<_>>(), "{arm}");
        for ((x, _), mark) in cells.iter().zip(&marks) {
            assert!((x - mark).abs() <= 1.0, "{arm}: {x} vs tick {mark}");
        }
    }
}

#[test]
fn the_kmunicate_figure_grows_by_its_rows_and_keeps_its_type_size() {
    let report = analyze(&demo_cohort(), &matched_spec()).unwrap();
    let size_of = |png: &[u8]| {
        let d = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        (d.info().width, d.info().height)
    };
    for size in [FigureSize::SLIDE_16_9, FigureSize::single_column(300.0)] {
        let at_risk = render_png(
            &Figure::Km("pfs".into(), RiskTable::AtRisk),
            &report,
            None,
            size,
            false,
        )
        .unwrap();
        let kmu = render_png(
            &Figure::Km("pfs".into(), RiskTable::Kmunicate),
            &report,
            None,
            size,
            false,
        )
        .unwrap();
        assert_eq!(size_of(&at_risk), (size.width_px, size.height_px));
        let (w, h) = size_of(&kmu);
        // Two arms, three more rows each, and 0.4 of a row above the heading; a row is
        // 1.45 × the type size, which stays that of the size asked for.
        let row = survival_explorer::export::Scale::new(size.height_px, size.dpi).font * 1.45;
        let grown = f64::from(h - size.height_px);
        assert_eq!(w, size.width_px);
        assert!(
            (grown - 6.4 * row).abs() <= 1.0,
            "{size:?}: {grown} px more"
        );
    }
}

#[test]
fn the_choice_travels_by_flag_and_spec_file() {
    // A spec file written before the choice existed has the at-risk table.
    let old = "app_version = \"0.3.0\"\nfile = \"demo.csv\"\n\n[spec]\narm_column = \"arm\"\n";
    let f = SpecFile::from_toml(old, "old.toml").unwrap();
    assert_eq!(f.spec.risk_table, RiskTable::AtRisk);
    let toml = SpecFile::new(
        Spec {
            risk_table: RiskTable::Kmunicate,
            ..Spec::default()
        },
        None,
    )
    .to_toml()
    .unwrap();
    assert!(toml.contains("risk_table = \"kmunicate\""), "{toml}");
    let back = SpecFile::from_toml(&toml, "new.toml").unwrap();
    assert_eq!(back.spec.risk_table, RiskTable::Kmunicate);

    // `report --risk-table kmunicate`: the figures have the rows, the saved spec the choice,
    // and a report from that spec file the same figures.
    let bin = env!("CARGO_BIN_EXE_survival-explorer");
    let dir = std::env::temp_dir().join(format!("se-kmunicate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let demo = demo_path();
    let run = |args: &[&str], out: &std::path::Path| {
        let o = Command::new(bin)
            .arg("report")
            .args(args)
            .args(["--format", "svg", "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&[demo.to_str().unwrap(), "--risk-table", "kmunicate"], &dir);
    let spec = std::fs::read_to_string(dir.join("analysis.toml")).unwrap();
    assert!(spec.contains("risk_table = \"kmunicate\""), "{spec}");
    let again = dir.join("again");
    run(
        &["--spec", dir.join("analysis.toml").to_str().unwrap()],
        &again,
    );
    for d in [&dir, &again] {
        let svg = std::fs::read_to_string(d.join("km_os.svg")).unwrap();
        let texts = svg_texts(&svg);
        for label in ROWS {
            assert_eq!(
                texts.iter().filter(|t| t.text == label).count(),
                2,
                "{}: '{label}' once per arm",
                d.display()
            );
        }
    }
    let bad = Command::new(bin)
        .args(["report", demo.to_str().unwrap(), "--out"])
        .arg(dir.join("bad"))
        .args(["--risk-table", "survminer"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("at-risk") && err.contains("kmunicate"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every label of the window: its text and its rectangle (AccessKit keeps a label's text
/// in its value).
fn window_labels(h: &Harness<'_, App>) -> Vec<(String, egui::Rect)> {
    h.query_all_by_role(Role::Label)
        .filter_map(|n| Some((n.accesskit_node().value()?, n.rect())))
        .collect()
}

#[test]
fn the_window_shows_the_kmunicate_table_when_chosen() {
    let mut h = Harness::builder()
        .with_size([1500.0, 1100.0])
        .build_ui_state(
            |ui, app: &mut App| app.ui_all(ui),
            App::with_settings(Settings::default()),
        );
    h.run();
    assert!(!window_labels(&h).iter().any(|(t, _)| t == "Censored"));
    let combo = h.get_by_label("Table under the curves");
    combo.scroll_to_me();
    h.run();
    h.get_by_label("Table under the curves").click();
    h.run();
    h.get_by_role_and_label(Role::Button, "KMunicate").click();
    h.run();
    let settings = h.state().settings.clone();
    assert_eq!(settings.spec.risk_table, RiskTable::Kmunicate);

    // The core's counts for the shown (matched) sample, on the rows of each arm.
    let report = analyze(&demo_cohort(), &settings.matched_spec().unwrap()).unwrap();
    let expected = expected_rows(&report, &settings.endpoint);
    let labels = window_labels(&h);
    let mut columns: Option<Vec<f32>> = None;
    for (k, arm_rows) in expected.iter().enumerate() {
        for (label, want) in ROWS.iter().zip(arm_rows) {
            let mut heads: Vec<&egui::Rect> = labels
                .iter()
                .filter(|(t, _)| t == label)
                .map(|(_, r)| r)
                .collect();
            assert_eq!(heads.len(), expected.len(), "'{label}' once per arm");
            heads.sort_by(|a, b| a.top().total_cmp(&b.top()));
            let head = heads[k];
            let mut cells: Vec<(f32, &String)> = labels
                .iter()
                .filter(|(_, r)| (r.center().y - head.center().y).abs() < 1.0)
                .filter(|(_, r)| r.left() > head.right())
                .map(|(t, r)| (r.center().x, t))
                .collect();
            cells.sort_by(|a, b| a.0.total_cmp(&b.0));
            let got: Vec<&String> = cells.iter().map(|(_, t)| *t).collect();
            assert_eq!(got, want.iter().collect::<Vec<_>>(), "arm {k} {label}");
            // Every row has its numbers in the same columns (the ticks' x), evenly spaced.
            let xs: Vec<f32> = cells.iter().map(|(x, _)| *x).collect();
            match &columns {
                None => {
                    let gaps: Vec<f32> = xs.windows(2).map(|w| w[1] - w[0]).collect();
                    assert!(gaps.iter().all(|g| (g - gaps[0]).abs() < 1.0), "{gaps:?}");
                    columns = Some(xs);
                }
                Some(c) => {
                    for (a, b) in c.iter().zip(&xs) {
                        assert!((a - b).abs() < 1.0, "arm {k} {label}: {xs:?} vs {c:?}");
                    }
                }
            }
        }
    }
}
