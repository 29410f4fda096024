//! Figures a journal accepts: at each journal size every figure's smallest text is ≥ 8 pt and
//! thinnest line ≥ 0.5 pt at the printed size, nothing is cut at the page's edge; the PDF is
//! vector with its font embedded and the asked page size, its HR and median texts the
//! report's; the TIFF is LZW with its resolution tags; `report --size/--dpi/--format`.

use std::process::Command;

use survival_explorer::analysis::{analyze, Report, RiskTable, Spec};
use survival_explorer::export::{render, render_svg, Figure, FigureSize, Format};
use survival_explorer::matching::MatchSpec;

use crate::common::demo_cohort;

/// The demo, matched, with every figure's part.
fn full_report() -> Report {
    let cohort = demo_cohort();
    let spec = Spec {
        matching: Some(MatchSpec::default()),
        forest: true,
        caliper_sweep: true,
        adjust: vec!["afp_ge_400".into(), "nlr".into(), "pvt".into()],
        sensitivity: true,
        ..Spec::default()
    };
    analyze(&cohort, &spec).unwrap()
}

fn figures() -> Vec<Figure> {
    vec![
        Figure::Km("os".into(), RiskTable::AtRisk),
        Figure::Km("pfs".into(), RiskTable::Kmunicate),
        Figure::Response,
        Figure::Balance,
        Figure::Forest("os".into()),
        Figure::Sweep("os".into()),
        Figure::Predictors("os".into()),
        Figure::Summary("os".into()),
    ]
}

/// The SVG's printed width in mm and its viewBox width in pixels.
fn mm_per_px(doc: &roxmltree::Document) -> (f64, f64, f64) {
    let root = doc.root_element();
    let mm = |a: &str| -> f64 {
        root.attribute(a)
            .and_then(|v| v.strip_suffix("mm"))
            .unwrap_or_else(|| panic!("the SVG's {a} is not in mm"))
            .parse()
            .unwrap()
    };
    let view: Vec<f64> = root
        .attribute("viewBox")
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    (mm("width") / view[2], mm("width"), mm("height"))
}

const PT_PER_MM: f64 = 72.0 / 25.4;

/// (smallest text in pt, its text, thinnest visible line in pt).
fn smallest(svg: &str) -> (f64, String, f64) {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let (mpp, _, _) = mm_per_px(&doc);
    let mut text = (f64::INFINITY, String::new());
    let mut line = f64::INFINITY;
    for n in doc.descendants().filter(|n| n.is_element()) {
        if n.tag_name().name() == "text" {
            let size: f64 = n.attribute("font-size").unwrap().parse().unwrap();
            let pt = size * mpp * PT_PER_MM;
            if pt < text.0 {
                text = (pt, n.text().unwrap_or_default().trim().to_string());
            }
        }
        if let Some(w) = n.attribute("stroke-width") {
            let stroke = n.attribute("stroke").unwrap_or("none").to_ascii_uppercase();
            let invisible = stroke == "NONE"
                || stroke == "#FFFFFF"
                || n.attribute("opacity").is_some_and(|o| o == "0");
            if !invisible {
                line = line.min(w.parse::<f64>().unwrap() * mpp * PT_PER_MM);
            }
        }
    }
    (text.0, text.1, line)
}

#[test]
fn journal_sizes_keep_every_text_at_8_pt_and_every_line_at_half_a_point() {
    let report = full_report();
    for (name, size) in [
        (
            "single-column",
            FigureSize::parse("single-column", None).unwrap(),
        ),
        (
            "double-column",
            FigureSize::parse("double-column", None).unwrap(),
        ),
        (
            "120x90mm",
            FigureSize::parse("120x90mm", Some(600.0)).unwrap(),
        ),
    ] {
        for fig in figures() {
            let svg = render_svg(&fig, &report, None, size, true).unwrap();
            let (pt, text, line) = smallest(&svg);
            assert!(
                pt >= 8.0 - 1e-9,
                "{name} {fig:?}: '{text}' is {pt:.2} pt (< 8 pt printed)"
            );
            assert!(
                line >= 0.5 - 1e-9,
                "{name} {fig:?}: a line is {line:.2} pt (< 0.5 pt printed)"
            );
            let doc = roxmltree::Document::parse(&svg).unwrap();
            let (_, w, _) = mm_per_px(&doc);
            assert!(
                (w - size.width_mm()).abs() < 0.05,
                "{name} {fig:?}: width {w} mm"
            );
        }
    }
}

/// PNG pixels (RGB) of a figure, to look for anything cut at the page's edge.
fn edge_is_white(png: &[u8]) -> bool {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let px = |x: usize, y: usize| &buf[(y * w + x) * 3..(y * w + x) * 3 + 3];
    let dark = |p: &[u8]| p.iter().any(|&c| c < 200);
    (0..h).all(|y| !dark(px(0, y)) && !dark(px(w - 1, y)))
        && (0..w).all(|x| !dark(px(x, 0)) && !dark(px(x, h - 1)))
}

#[test]
fn journal_figures_fit_their_page_even_with_long_arm_names() {
    let long = {
        let cohort = demo_cohort();
        let mut labels = std::collections::BTreeMap::new();
        labels.insert(
            "lenvatinib".to_string(),
            "lenvatinib 8 or 12 mg once daily by body weight (second line)".to_string(),
        );
        labels.insert(
            "sorafenib".to_string(),
            "sorafenib 400 mg twice daily, dose reductions allowed".to_string(),
        );
        let spec = Spec {
            matching: Some(MatchSpec::default()),
            forest: true,
            caliper_sweep: true,
            adjust: vec!["afp_ge_400".into(), "nlr".into(), "pvt".into()],
            sensitivity: true,
            labels,
            ..Spec::default()
        };
        analyze(&cohort, &spec).unwrap()
    };
    for report in [full_report(), long] {
        for size in [
            FigureSize::parse("single-column", Some(150.0)).unwrap(),
            FigureSize::parse("double-column", Some(100.0)).unwrap(),
        ] {
            for fig in figures() {
                let png = render(&fig, &report, None, size, false, Format::Png).unwrap();
                assert!(
                    edge_is_white(&png),
                    "{fig:?} at {:.0} mm ({}): something is cut at the page's edge",
                    size.width_mm(),
                    report.sample.treated_label
                );
            }
        }
    }
}

/// Every text of the HR tables and the love plot's names stays inside the page, measured
/// in the SVG by its anchor and an average width of 0.5 em per character.
#[test]
fn table_texts_stay_inside_the_page_with_long_arm_names() {
    let cohort = demo_cohort();
    let mut labels = std::collections::BTreeMap::new();
    labels.insert(
        "lenvatinib".to_string(),
        "lenvatinib 8 or 12 mg once daily by body weight".to_string(),
    );
    let spec = Spec {
        matching: Some(MatchSpec::default()),
        forest: true,
        sensitivity: true,
        labels,
        ..Spec::default()
    };
    let report = analyze(&cohort, &spec).unwrap();
    let size = FigureSize::parse("single-column", None).unwrap();
    for fig in [
        Figure::Forest("os".into()),
        Figure::Summary("os".into()),
        Figure::Balance,
    ] {
        let svg = render_svg(&fig, &report, None, size, false).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let view_w: f64 = doc
            .root_element()
            .attribute("viewBox")
            .unwrap()
            .split(' ')
            .nth(2)
            .unwrap()
            .parse()
            .unwrap();
        // Black texts: labels and cells (the grey header and notes wrap by measurement).
        for n in doc
            .descendants()
            .filter(|n| n.has_tag_name("text") && n.attribute("fill") == Some("#000000"))
        {
            let text = n.text().unwrap_or_default().trim();
            let x: f64 = n.attribute("x").unwrap().parse().unwrap();
            let em: f64 = n.attribute("font-size").unwrap().parse().unwrap();
            let w = 0.5 * em * text.chars().count() as f64;
            let (a, b) = match n.attribute("text-anchor") {
                Some("end") => (x - w, x),
                Some("middle") => (x - w / 2.0, x + w / 2.0),
                _ => (x, x + w),
            };
            assert!(
                a >= 0.0 && b <= view_w,
                "{fig:?}: '{text}' spans {a:.0}–{b:.0} of a page {view_w:.0} wide"
            );
        }
    }
}

/// The PDF's MediaBox in points (svg2pdf writes objects uncompressed).
fn media_box(pdf: &[u8]) -> [f64; 4] {
    let text = String::from_utf8_lossy(pdf);
    let at = text.find("/MediaBox [").expect("a MediaBox");
    let rest = &text[at + "/MediaBox [".len()..];
    let nums: Vec<f64> = rest[..rest.find(']').unwrap()]
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    [nums[0], nums[1], nums[2], nums[3]]
}

/// Runs a poppler tool on `file`; None when it is not installed (CI installs poppler-utils,
/// so there it must be).
fn poppler(tool: &str, args: &[&str], file: &std::path::Path) -> Option<String> {
    let mut cmd = Command::new(tool);
    cmd.args(args).arg(file);
    if tool == "pdftotext" {
        cmd.arg("-");
    }
    match cmd.output() {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Err(_) if std::env::var_os("CI").is_none() => {
            eprintln!("{tool} not installed (Debian's poppler-utils): its checks skipped");
            None
        }
        Err(e) => panic!("{tool}: {e} (CI must install poppler-utils)"),
    }
}

#[test]
fn report_writes_pdf_and_tiff_at_the_asked_size_with_the_reports_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let demo = crate::common::demo_path();
    let status = Command::new(env!("CARGO_BIN_EXE_survival-explorer"))
        .arg("report")
        .arg(&demo)
        .args(["--match", "ecog,albi_grade,prior_io_response", "--forest"])
        .args([
            "--size",
            "single-column",
            "--dpi",
            "600",
            "--format",
            "pdf,tiff,svg",
        ])
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let ep = &report["endpoints"]["os"];
    let f = |v: &serde_json::Value| v.as_f64().unwrap();

    // PDF: 85 mm wide, as tall as the figure's canvas, within 0.5 mm.
    let pdf_path = out.join("km_os.pdf");
    let pdf = std::fs::read(&pdf_path).unwrap();
    let size = FigureSize::single_column(600.0);
    let b = media_box(&pdf);
    let (w_mm, h_mm) = ((b[2] - b[0]) / PT_PER_MM, (b[3] - b[1]) / PT_PER_MM);
    assert!((w_mm - 85.0).abs() <= 0.5, "PDF width {w_mm} mm");
    assert!(
        (h_mm - size.height_mm()).abs() <= 0.5,
        "PDF height {h_mm} mm"
    );
    assert!(!out.join("km_os.png").exists(), "only the asked formats");
    // A figure whose height follows its rows: the PDF's page is the SVG's size.
    let forest_svg = std::fs::read_to_string(out.join("forest_os.svg")).unwrap();
    let doc = roxmltree::Document::parse(&forest_svg).unwrap();
    let (_, fw, fh) = mm_per_px(&doc);
    let fb = media_box(&std::fs::read(out.join("forest_os.pdf")).unwrap());
    assert!(((fb[2] - fb[0]) / PT_PER_MM - fw).abs() <= 0.5);
    assert!(
        ((fb[3] - fb[1]) / PT_PER_MM - fh).abs() <= 0.5,
        "forest PDF height"
    );

    let cox = &ep["cox"];
    let hr = format!(
        "HR {:.2} (95% CI {:.2}–{:.2})",
        f(&cox["hr"]),
        f(&cox["ci"][0]),
        f(&cox["ci"][1])
    );
    let arm = ep["arms"]["lenvatinib"].clone();
    let median = format!(
        "median {:.1} (95% CI {:.1}–{:.1})",
        f(&arm["median"]),
        f(&arm["median_ci"][0]),
        f(&arm["median_ci"][1])
    );
    if let Some(info) = poppler("pdfinfo", &[], &pdf_path) {
        let line = info.lines().find(|l| l.starts_with("Page size:")).unwrap();
        let v: Vec<f64> = line
            .split_whitespace()
            .filter_map(|t| t.parse().ok())
            .collect();
        assert!((v[0] / PT_PER_MM - 85.0).abs() <= 0.5, "pdfinfo: {line}");
        let fonts = poppler("pdffonts", &[], &pdf_path).unwrap();
        let font = fonts.lines().nth(2).expect("a font in the PDF");
        assert!(font.contains("Ubuntu"), "the figures' font: {font}");
        assert!(
            font.split_whitespace().filter(|w| *w == "yes").count() >= 2,
            "embedded and subset: {font}"
        );
        // Text is text: the report's HR and median are in the PDF's text.
        let text = poppler("pdftotext", &["-raw"], &pdf_path).unwrap();
        // Lines wrapped on the page are joined.
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for want in [&hr, &median] {
            assert!(
                text.contains(want.as_str()),
                "'{want}' not in the PDF's text:\n{text}"
            );
        }
    }
    // The forest's numbers too.
    let forest = out.join("forest_os.pdf");
    if let Some(text) = poppler("pdftotext", &["-raw"], &forest) {
        assert!(text.contains("HR (95% CI)") && text.contains("favours lenvatinib"));
        assert!(text.contains("AFP ≥ 400 ng/mL"), "readable labels:\n{text}");
        // Every subgroup's HR (95% CI), as the report has it.
        for r in ep["forest"].as_array().unwrap() {
            let want = match r.get("not_estimable") {
                Some(_) => "not estimable".to_string(),
                None => format!(
                    "{:.2} ({:.2}–{:.2})",
                    f(&r["hr"]),
                    f(&r["ci"][0]),
                    f(&r["ci"][1])
                ),
            };
            assert!(text.contains(&want), "'{want}' not in the forest's PDF");
        }
    }

    // TIFF: LZW, 600 pixels per inch.
    let tiff = std::fs::read(out.join("km_os.tiff")).unwrap();
    let mut d = tiff::decoder::Decoder::new(std::io::Cursor::new(tiff)).unwrap();
    use tiff::tags::Tag;
    assert_eq!(d.get_tag_u32(Tag::Compression).unwrap(), 5, "LZW");
    assert_eq!(d.get_tag_u32(Tag::ResolutionUnit).unwrap(), 2, "inch");
    let x = d.get_tag_u32_vec(Tag::XResolution).unwrap();
    assert_eq!(x[0] / x[1], 600, "XResolution");
    let (w, _) = d.dimensions().unwrap();
    assert_eq!(w, size.width_px);
}

#[test]
fn forest_rows_read_as_a_table_with_the_interaction_on_the_header() {
    let report = full_report();
    let svg = render_svg(
        &Figure::Forest("os".into()),
        &report,
        None,
        FigureSize::double_column(300.0),
        false,
    )
    .unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<(f64, String)> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "text")
        .map(|n| {
            (
                n.attribute("y").unwrap().parse().unwrap(),
                n.text().unwrap_or_default().trim().to_string(),
            )
        })
        .collect();
    let y_of = |t: &str| {
        texts
            .iter()
            .find(|(_, s)| s == t)
            .unwrap_or_else(|| panic!("no text '{t}'"))
            .0
    };
    let rows = report.endpoints.get("os").unwrap().forest.as_ref().unwrap();
    let afp = rows.iter().find(|r| r.covariate == "afp_ge_400").unwrap();
    let p = format!(
        "p int {}",
        survival_explorer::format::p_text(afp.interaction_p_value)
    );
    // The interaction p sits on the covariate's own row, above its levels.
    assert_eq!(y_of(&p), y_of("AFP ≥ 400 ng/mL"));
    assert!(y_of("no") > y_of("AFP ≥ 400 ng/mL"));
    for t in [
        "HR (95% CI)",
        "n",
        "favours lenvatinib",
        "favours sorafenib",
    ] {
        y_of(t);
    }
    let cr = rows.iter().find(|r| r.level == "CR").unwrap();
    assert!(cr.not_estimable.is_some());
    assert!(texts.iter().any(|(_, s)| s == "not estimable"));
    assert!(!texts.iter().any(|(_, s)| s.contains("afp_ge_400 =")));
}

#[test]
fn sizes_and_formats_are_parsed_with_clear_errors() {
    let s = FigureSize::parse("single-column", None).unwrap();
    assert_eq!(s.width_px, (85.0 / 25.4 * 300.0f64).round() as u32);
    let s6 = FigureSize::parse("single-column", Some(600.0)).unwrap();
    assert!(
        (s6.width_mm() - s.width_mm()).abs() < 0.01,
        "the same print size"
    );
    assert_eq!(
        FigureSize::parse("slide", None).unwrap(),
        FigureSize::SLIDE_16_9
    );
    assert_eq!(
        FigureSize::parse("slide-4:3", None).unwrap(),
        FigureSize::SLIDE_4_3
    );
    let mm = FigureSize::parse("120x90mm", None).unwrap();
    assert!((mm.width_mm() - 120.0).abs() < 0.1 && (mm.height_mm() - 90.0).abs() < 0.1);
    assert_eq!(FigureSize::parse("800x600", None).unwrap().width_px, 800);
    for bad in ["10x10", "letter", "5x5mm", "x600"] {
        let e = FigureSize::parse(bad, None).unwrap_err();
        assert!(e.contains(bad), "{e}");
    }
    assert!(FigureSize::parse("slide", Some(10.0))
        .unwrap_err()
        .contains("--dpi"));
    assert_eq!(Format::parse("TIF").unwrap(), Format::Tiff);
    assert!(Format::parse("bmp").unwrap_err().contains("pdf"));
    let out = Command::new(env!("CARGO_BIN_EXE_survival-explorer"))
        .arg("report")
        .arg(crate::common::demo_path())
        .args(["--out", "/nonexistent-never-written", "--size", "A4"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--size 'A4'"));
}

#[test]
fn terms_and_levels_read_as_the_window_names_them() {
    use survival_explorer::format::{level_label, term_label};
    let covs: Vec<String> = ["ecog", "prior_io_response", "afp_ge_400"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        term_label("prior_io_responsePD", &covs),
        "Response to prior A+B: PD"
    );
    assert_eq!(term_label("afp_ge_400", &covs), "AFP ≥ 400 ng/mL");
    assert_eq!(term_label("ecog", &covs), "ECOG PS");
    assert_eq!(
        term_label("nlr", &covs),
        "nlr",
        "not a model covariate: as it is"
    );
    assert_eq!(level_label("pvt", "1"), "yes");
    assert_eq!(level_label("afp_ge_400", "0"), "no");
    assert_eq!(level_label("ecog", "1"), "1");
}
