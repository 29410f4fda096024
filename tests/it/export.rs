//! Figures, tables and the report folder: SVGs parse and carry curves, at-risk numbers and
//! medians as text; PNGs have the requested size and are not blank; summary.json is the
//! `analyze` JSON for the same options.

use crate::common;

use std::process::Command;

use survival_explorer::analysis::{analyze, MatchSpec, RiskTable, Spec};
use survival_explorer::cohort::Cohort;
use survival_explorer::export::{render_png, Figure, FigureSize};

use common::demo_path;

fn out_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("se-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn png_info(bytes: &[u8]) -> (u32, u32, usize) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let colours: std::collections::HashSet<&[u8]> = buf[..info.buffer_size()].chunks(ch).collect();
    (info.width, info.height, colours.len())
}

/// The texts of an SVG's `<text>` elements.
fn text_elements(doc: &roxmltree::Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

fn svg_texts(path: &std::path::Path) -> (Vec<String>, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{}: not XML: {e}", path.display()));
    let texts = text_elements(&doc);
    let curves = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("polyline")
                && n.attribute("stroke").is_some_and(|s| {
                    s.eq_ignore_ascii_case("#0072B2") || s.eq_ignore_ascii_case("#D55E00")
                })
        })
        .count();
    (texts, curves)
}

#[test]
fn report_folder_has_every_figure_table_and_the_analyze_json() {
    let dir = out_dir("report");
    let demo = demo_path();
    let bin = env!("CARGO_BIN_EXE_survival-explorer");
    let args = ["--match", "ecog,albi_grade,prior_io_response"];
    let status = Command::new(bin)
        .args([
            "report",
            demo.to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success());
    // Existing files are not replaced without --force.
    let again = Command::new(bin)
        .args([
            "report",
            demo.to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    let cohort = Cohort::load(&demo).unwrap();
    let spec = Spec {
        matching: Some(MatchSpec::default()),
        ..Spec::default()
    };
    let report = analyze(&cohort, &spec).unwrap();
    for (name, ep) in report.endpoints.iter() {
        let (texts, curves) = svg_texts(&dir.join(format!("km_{name}.svg")));
        assert!(curves >= 2, "km_{name}.svg: {curves} curves");
        let all = texts.join("\n");
        assert!(
            all.contains("Number at risk"),
            "km_{name}.svg lacks the at-risk table"
        );
        assert!(
            all.contains("synthetic demo data"),
            "the demo mark is missing"
        );
        assert!(
            all.contains("propensity-matched sample"),
            "matched or not is not said"
        );
        for (arm, a) in ep.arms.iter() {
            let median = format!("median {:.1} (95% CI", a.median);
            assert!(
                all.contains(&median) || !a.median.is_finite(),
                "{name} {arm}: no '{median}'"
            );
            // The at-risk count at time 0 is the arm's n.
            assert!(
                texts.iter().any(|t| *t == format!("{:.0}", a.n)),
                "{name} {arm}: at-risk {} missing",
                a.n
            );
        }
        let png = std::fs::read(dir.join(format!("km_{name}.png"))).unwrap();
        let (w, h, colours) = png_info(&png);
        assert_eq!((w, h), (1920, 1080));
        assert!(colours > 20, "km_{name}.png looks blank");
    }
    for f in ["response.svg", "balance.svg", "km_pfs_unmatched.svg"] {
        let (texts, _) = svg_texts(&dir.join(f));
        assert!(
            texts.iter().any(|t| t.contains("synthetic demo data")),
            "{f}: no demo mark"
        );
    }
    for t in [
        "summary.csv",
        "km_pfs.csv",
        "response.csv",
        "balance.csv",
        "baseline_table.csv",
        "matched_cohort.csv",
        "report.md",
        "analysis.toml",
    ] {
        assert!(dir.join(t).exists(), "{t} missing");
    }
    let matched_rows = std::fs::read_to_string(dir.join("matched_cohort.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(
        matched_rows, 231,
        "header + every patient of the propensity model"
    );

    // summary.json is exactly the analyze JSON for the same options (timing aside).
    let out = Command::new(bin)
        .args(["analyze", demo.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    let mut from_analyze: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let mut from_report: serde_json::Value = serde_json::from_str(&summary).unwrap();
    from_analyze["timing"] = serde_json::Value::Null;
    from_report["timing"] = serde_json::Value::Null;
    assert_eq!(from_analyze, from_report);
    // Both written as export::json lays a report out: a pair on one line.
    for text in [String::from_utf8(out.stdout).unwrap(), summary] {
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim() == "\"pairs\": [")
            .unwrap();
        let pair = lines[at + 1].trim().trim_end_matches(',');
        let ids: Vec<f64> = serde_json::from_str(pair).unwrap();
        assert_eq!(ids.len(), 2, "{pair}");
    }
}

#[test]
fn png_presets_have_their_pixel_sizes() {
    let cohort = Cohort::load(&demo_path()).unwrap();
    let report = analyze(&cohort, &Spec::default()).unwrap();
    for (size, expect) in [
        (FigureSize::SLIDE_4_3, (1440, 1080)),
        (FigureSize::single_column(300.0), (1004, 1299)),
        (FigureSize::double_column(300.0), (2126, 1535)),
        (FigureSize::parse("800x600", None).unwrap(), (800, 600)),
    ] {
        let fig = Figure::Km("os".into(), RiskTable::AtRisk);
        let png = render_png(&fig, &report, None, size, false).unwrap();
        let (w, h, colours) = png_info(&png);
        assert_eq!((w, h), expect);
        assert!(colours > 20);
    }
    assert!(FigureSize::parse("10x10", None).is_err());
}

#[test]
fn forest_figure_lists_every_subgroup_and_the_caveat() {
    let cohort = Cohort::load(&demo_path()).unwrap();
    let spec = Spec {
        forest: true,
        ..Spec::default()
    };
    let report = analyze(&cohort, &spec).unwrap();
    let svg = survival_explorer::export::render_svg(
        &Figure::Forest("pfs".into()),
        &report,
        None,
        FigureSize::SLIDE_16_9,
        true,
    )
    .unwrap();
    let texts = text_elements(&roxmltree::Document::parse(&svg).unwrap());
    let rows = report
        .endpoints
        .get("pfs")
        .unwrap()
        .forest
        .as_ref()
        .unwrap();
    use survival_explorer::format::{column_label, level_label};
    for r in rows {
        // A heading per covariate (its readable name), a row per level with n per arm.
        for label in [
            column_label(&r.covariate),
            level_label(&r.covariate, &r.level),
        ] {
            assert!(texts.contains(&label), "no row '{label}'");
        }
        let n: Vec<String> = r.n.iter().map(|(_, v)| format!("{v:.0}")).collect();
        assert!(texts.contains(&n.join("/")), "no n '{}'", n.join("/"));
    }
    assert!(texts.iter().any(|t| t.contains("chance findings")));
    assert!(texts.iter().any(|t| t.contains("p int")));
}

#[test]
fn sweep_figure_marks_the_current_caliper_with_its_hazard_ratio() {
    let cohort = Cohort::load(&demo_path()).unwrap();
    let spec = Spec {
        matching: Some(survival_explorer::analysis::MatchSpec {
            covariates: vec![
                "ecog".into(),
                "albi_grade".into(),
                "prior_io_response".into(),
            ],
            caliper: 0.1,
            ..Default::default()
        }),
        caliper_sweep: true,
        ..Spec::default()
    };
    let report = analyze(&cohort, &spec).unwrap();
    let svg = survival_explorer::export::render_svg(
        &Figure::Sweep("os".into()),
        &report,
        None,
        FigureSize::SLIDE_16_9,
        true,
    )
    .unwrap();
    let texts = text_elements(&roxmltree::Document::parse(&svg).unwrap());
    // The label at the current caliper carries the matched analysis's own HR.
    let cox = &report.endpoints.get("os").unwrap().cox;
    let label = format!(
        "caliper 0.1 SD: HR {:.2} ({:.2}–{:.2})",
        cox.hr, cox.ci[0], cox.ci[1]
    );
    assert!(texts.contains(&label), "no '{label}' in {texts:?}");
    for needle in ["hazard ratio by caliper", "n matched", "caliper (SD"] {
        assert!(
            texts.iter().any(|t| t.contains(needle)),
            "no '{needle}' in the figure"
        );
    }
    // PNG too, and a report without the sweep says what is missing.
    let png = render_png(
        &Figure::Sweep("os".into()),
        &report,
        None,
        FigureSize::SLIDE_16_9,
        false,
    )
    .unwrap();
    assert_eq!(png_info(&png).0, 1920);
    let plain = analyze(&cohort, &Spec::default()).unwrap();
    let e = render_png(
        &Figure::Sweep("os".into()),
        &plain,
        None,
        FigureSize::SLIDE_16_9,
        false,
    )
    .unwrap_err();
    assert!(e.to_string().contains("--caliper-sweep"), "{e}");
}

/// Figures that cannot be misread (#23, part): the Kaplan–Meier y axis names the endpoint,
/// a matched figure says what was matched on, and the love plot does not use the arms'
/// colours for before/after.
#[test]
fn figures_name_the_endpoint_the_matching_and_keep_arm_colours_for_arms() {
    use survival_explorer::analysis::{analyze, MatchSpec, Spec};
    use survival_explorer::export::{render_svg, Figure, FigureSize};
    let cohort = survival_explorer::cohort::Cohort::load(&demo_path()).unwrap();
    let spec = Spec {
        matching: Some(MatchSpec::default()),
        ..Spec::default()
    };
    let report = analyze(&cohort, &spec).unwrap();
    let svg = |fig: Figure| render_svg(&fig, &report, None, FigureSize::SLIDE_16_9, true).unwrap();
    let table = survival_explorer::analysis::RiskTable::AtRisk;
    for (ep, title) in [
        ("pfs", "Progression-free survival"),
        ("os", "Overall survival"),
        ("seq_os", "Overall survival from the start of A+B"),
    ] {
        let km = svg(Figure::Km(ep.to_string(), table));
        assert!(km.contains(title), "{ep}: y axis");
        assert!(!km.contains("Survival probability"), "{ep}");
        assert!(
            km.contains("1:1 on ecog, albi_grade, prior_io_response"),
            "{ep}: what was matched on"
        );
    }
    let love = svg(Figure::Balance).to_uppercase();
    for arm_colour in ["#0072B2", "#D55E00"] {
        assert!(
            !love.contains(arm_colour),
            "the love plot uses {arm_colour}"
        );
    }
}

/// `analyze`'s JSON with the matched pairs written side by side is `to_writer`'s, byte for
/// byte: pairs over several pieces (10,000 patients), real weights (1:2 with replacement),
/// identifiers that are text, a report without matching; and the report keeps its pairs.
#[test]
fn pairs_written_side_by_side_are_the_report_written_in_one_go() {
    use survival_explorer::cohort::read_csv_bytes;
    use survival_explorer::export::json::{report_to_writer, to_writer};
    let simulated = survival_explorer::simulate::simulate_csv(10_000, 3);
    let text_ids: String = std::fs::read_to_string(demo_path())
        .unwrap()
        .lines()
        .enumerate()
        .map(|(k, line)| match k {
            0 => format!("{line}\n"),
            _ => format!("P-{}{}\n", k * 7, &line[line.find(',').unwrap()..]),
        })
        .collect();
    let covariates = || vec!["ecog".to_string(), "albi_grade".to_string()];
    let matched = |ratio: u32, replace: bool| Spec {
        matching: Some(MatchSpec {
            covariates: covariates(),
            ratio,
            replace,
            ..MatchSpec::default()
        }),
        ..Spec::default()
    };
    let cases = [
        (simulated.clone(), matched(1, false)),
        (simulated, matched(2, true)),
        (text_ids, matched(1, false)),
        (
            std::fs::read_to_string(demo_path()).unwrap(),
            Spec::default(),
        ),
    ];
    let mut pieces_seen = false;
    for (k, (csv, spec)) in cases.into_iter().enumerate() {
        let cohort = read_csv_bytes("case.csv", csv.into_bytes()).unwrap();
        let mut report = analyze(&cohort, &spec).unwrap();
        let pairs = report.matching.as_ref().map(|m| m.pairs.clone());
        pieces_seen |= pairs.as_ref().is_some_and(|p| p.len() > 2 * 2048);
        let mut one_go = Vec::new();
        to_writer(&mut one_go, &report).unwrap();
        let mut side_by_side = Vec::new();
        report_to_writer(&mut side_by_side, &mut report).unwrap();
        assert!(one_go == side_by_side, "case {k}: the texts differ");
        assert_eq!(report.matching.map(|m| m.pairs), pairs, "case {k}");
    }
    assert!(pieces_seen, "a case with three pieces of pairs or more");
}
