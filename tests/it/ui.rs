//! The window, driven like a user with egui_kittest: every number it shows must equal the
//! core's `analyze` output for the same spec.

use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use survival_explorer::analysis::{analyze, Report, Spec};
use survival_explorer::app::{demo_cohort, App, Settings, View};

fn harness() -> Harness<'static, App> {
    Harness::builder()
        .with_size([1500.0, 1100.0])
        .build_ui_state(
            |ui, app: &mut App| app.ui_all(ui),
            App::with_settings(Settings::default()),
        )
}

fn core(spec: &Spec) -> Report {
    analyze(&demo_cohort().cohort, spec).expect("demo analyses")
}

fn nr(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{x:.d$}")
    } else {
        "NR".to_string()
    }
}

/// The texts the survival view must show for `report`'s endpoint.
fn expected_survival_texts(report: &Report, endpoint: &str) -> Vec<String> {
    let ep = report.endpoints.get(endpoint).unwrap();
    let mut out: Vec<String> = ep
        .arms
        .iter()
        .map(|(_, a)| {
            format!(
                "median {} ({}–{}) months",
                nr(a.median, 1),
                nr(a.median_ci[0], 1),
                nr(a.median_ci[1], 1)
            )
        })
        .collect();
    out.push(format!(
        "HR {:.2} (95% CI {:.2}–{:.2})",
        ep.cox.hr, ep.cox.ci[0], ep.cox.ci[1]
    ));
    out
}

fn matched_text(report: &Report) -> String {
    let m = report.matching.as_ref().unwrap();
    let parts: Vec<String> = m
        .n_matched
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    format!("Matched: {}", parts.join(" · "))
}

#[track_caller]
fn assert_shows(h: &Harness<'_, App>, text: &str) {
    assert!(
        h.query_by_label_contains(text).is_some(),
        "the window does not show '{text}'"
    );
}

fn assert_survival_matches_core(h: &Harness<'_, App>) {
    assert_survival_matches(h, &demo_cohort().cohort);
}

/// The window shows the core's numbers for `cohort` (the file it has open).
fn assert_survival_matches(h: &Harness<'_, App>, cohort: &survival_explorer::cohort::Cohort) {
    let settings = h.state().settings.clone();
    let spec = settings.matched_spec().unwrap();
    let report = analyze(cohort, &spec).expect("analyses");
    for t in expected_survival_texts(&report, &settings.endpoint) {
        assert_shows(h, &t);
    }
    assert_shows(h, &matched_text(&report));
}

#[test]
fn starts_on_the_demo_cohort_with_the_core_numbers() {
    let mut h = harness();
    h.run();
    assert_shows(&h, "SYNTHETIC DEMO DATA");
    assert_shows(&h, "PFS · matched sample");
    assert_survival_matches_core(&h);
}

#[test]
fn unticking_a_covariate_rematches() {
    let mut h = harness();
    h.run();
    let before = h.state().settings.matching().covariates.clone();
    h.get_by_role_and_label(Role::CheckBox, "ALBI grade")
        .click();
    h.run();
    let after = &h.state().settings.matching().covariates;
    assert!(before.contains(&"albi_grade".to_string()));
    assert!(!after.contains(&"albi_grade".to_string()));
    assert_survival_matches_core(&h);
    let r = core(&h.state().settings.matched_spec().unwrap());
    assert_eq!(
        r.matching.unwrap().covariates,
        vec!["ecog", "prior_io_response"]
    );
}

#[test]
fn moving_the_caliper_rematches() {
    let mut h = harness();
    h.run();
    let slider = h.get_by_role(Role::Slider);
    slider.focus();
    h.run();
    for _ in 0..6 {
        h.key_press(egui::Key::ArrowLeft);
        h.run();
    }
    let caliper = h.state().settings.matching().caliper;
    assert!(caliper < 0.2, "the caliper moved down (now {caliper})");
    assert_survival_matches_core(&h);
}

#[test]
fn ticking_a_subgroup_and_switching_endpoint() {
    let mut h = harness();
    h.run();
    h.get_by_label("Primary resistance to A+B (PD) only")
        .click();
    h.run();
    h.get_by_label("OS").click();
    h.run();
    let settings = h.state().settings.clone();
    assert_eq!(settings.endpoint, "os");
    assert_eq!(settings.spec.subgroups.len(), 1);
    assert_survival_matches_core(&h);
    let un = core(&settings.unmatched_spec());
    let n: Vec<String> = un
        .sample
        .n_subgroup
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    assert_shows(&h, &format!("n in subgroup: {}", n.join(" · ")));
    assert_shows(&h, "subgroup: prior_io_response = PD");

    // The response view shows the core's DCR for the same subgroup and sample.
    h.state_mut().settings.view = View::Response;
    h.run();
    let report = core(&settings.matched_spec().unwrap());
    let resp = report.response.unwrap();
    for (_, a) in resp.arms.iter() {
        let pct = |x: f64| format!("{:.0}%", 100.0 * x);
        assert_shows(
            &h,
            &format!("{} ({}–{})", pct(a.dcr), pct(a.dcr_ci[0]), pct(a.dcr_ci[1])),
        );
    }
}

#[test]
fn a_bad_file_keeps_the_previous_cohort() {
    let mut h = harness();
    h.run();
    let dir = std::env::temp_dir().join(format!("se-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("broken.csv");
    std::fs::write(&bad, "").unwrap();
    h.state_mut().open_file(&bad);
    h.run();
    assert!(h.state().loaded.is_demo, "the demo cohort stays loaded");
    assert_shows(&h, "broken.csv");
    h.get_by_label("OK").click();
    h.run();
    assert!(h.state().error.is_none());
}

#[test]
fn spec_save_and_open_restore_the_analysis_and_figures_export() {
    let mut h = harness();
    h.run();
    h.get_by_label("Primary resistance to A+B (PD) only")
        .click();
    h.run();
    let dir = std::env::temp_dir().join(format!("se-ui-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.toml");
    h.state_mut().save_spec(&path);
    let saved_spec = h.state().current_spec();

    let mut other = harness();
    other.run();
    assert_ne!(other.state().current_spec(), saved_spec);
    other.state_mut().open_spec(&path);
    other.run();
    assert_eq!(other.state().current_spec(), saved_spec);
    assert_shows(&other, "subgroup: prior_io_response = PD");

    let svg = dir.join("fig.svg");
    other
        .state()
        .write_figure(
            &svg,
            survival_explorer::export::Format::Svg,
            survival_explorer::export::FigureSize::SLIDE_16_9,
        )
        .unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("Number at risk") && text.contains("prior_io_response = PD"));
}

#[test]
fn copying_a_figure_never_panics() {
    let mut h = harness();
    h.run();
    h.state_mut().copy_figure();
    // Headless there is usually no clipboard: then the window says so instead of failing.
    if let Some(e) = &h.state().error {
        assert!(e.contains("clipboard") || e.contains("copy"), "{e}");
    }
}

#[test]
fn the_columns_dialog_maps_a_role_and_a_bad_map_keeps_the_cohort() {
    use survival_explorer::cohort::LoadOptions;
    let mut h = harness();
    // The dialog lists every role with the column it is read from now.
    h.get_by_label("Columns…").click();
    h.run();
    for label in [
        "Treatment arm",
        "OS time (months)",
        "Date of death",
        "Start of A+B (date)",
    ] {
        h.get_by_label(label);
    }
    h.get_by_label("Cancel").click();
    h.run();
    assert!(h.state().columns_dialog.is_none());

    // Mapping OS to the PFS columns: the window's OS numbers are the core's on a cohort
    // with that map (CLI --map os_months=pfs_months --map os_event=pfs_event), i.e. PFS's.
    let map = |pairs: &[(&str, &str)]| LoadOptions {
        column_map: pairs
            .iter()
            .map(|(r, c)| (r.to_string(), c.to_string()))
            .collect(),
        ..LoadOptions::default()
    };
    let os_from_pfs = [("os_months", "pfs_months"), ("os_event", "pfs_event")];
    h.state_mut().apply_load_options(map(&os_from_pfs));
    h.state_mut().settings.endpoint = "os".to_string();
    h.run();
    let mut mapped = (*demo_cohort().raw).clone();
    mapped.prepare(&map(&os_from_pfs)).unwrap();
    let spec = h.state().settings.matched_spec().unwrap();
    let report = analyze(&mapped, &spec).unwrap();
    let pfs = core(&spec);
    assert_eq!(
        report.endpoints.get("os").unwrap().cox.hr,
        pfs.endpoints.get("pfs").unwrap().cox.hr,
        "OS read from the PFS columns"
    );
    for text in expected_survival_texts(&report, "os") {
        assert_shows(&h, &text);
    }
    assert_eq!(
        h.state()
            .settings
            .spec
            .column_map
            .get("os_months")
            .map(String::as_str),
        Some("pfs_months")
    );
    // A map to a column that does not exist: an error, the mapped cohort stays.
    let rows_before = h.state().loaded.cohort.n_rows;
    h.state_mut()
        .apply_load_options(map(&[("arm", "no_such_column")]));
    h.run();
    let e = h.state().error.clone().expect("an error is shown");
    assert!(e.contains("no_such_column"), "{e}");
    assert_eq!(h.state().loaded.cohort.n_rows, rows_before);
    assert_eq!(
        h.state()
            .settings
            .spec
            .column_map
            .get("os_months")
            .map(String::as_str),
        Some("pfs_months")
    );
}

#[test]
fn a_workbook_opens_in_the_window_with_the_demo_numbers() {
    let mut h = harness();
    let xlsx = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats/demo.xlsx");
    h.state_mut().open_file(&xlsx);
    h.run();
    assert!(h.state().error.is_none(), "{:?}", h.state().error);
    assert_eq!(h.state().loaded.cohort.n_rows, 230);
    assert_eq!(h.state().loaded.raw.sheets, vec!["Cohort", "Codebook"]);
    // The workbook holds the cohort it was made from, tests/fixtures/demo_0.3.0.csv.
    let source =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo_0.3.0.csv");
    assert_survival_matches(
        &h,
        &survival_explorer::cohort::Cohort::load(&source).unwrap(),
    );
}

#[test]
fn the_sensitivity_view_exports_its_figure() {
    let mut h = harness();
    h.state_mut().settings.view = View::Sensitivity;
    // The status bar's analysis time comes from the worker's run too.
    h.state_mut().last_analysis_ms = -1.0;
    h.step();
    for _ in 0..600 {
        if !h.state().is_busy() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.step();
    }
    assert!(!h.state().is_busy(), "the sweep did not finish");
    assert!(
        h.state().last_analysis_ms > 0.0,
        "{}",
        h.state().last_analysis_ms
    );
    let dir = std::env::temp_dir().join(format!("se-ui-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("sweep.svg");
    h.state()
        .write_figure(
            &svg,
            survival_explorer::export::Format::Svg,
            survival_explorer::export::FigureSize::SLIDE_16_9,
        )
        .unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    let endpoint = h.state().settings.endpoint.clone();
    let report = core(&h.state().settings.matched_spec().unwrap());
    let label = report.endpoints.get(&endpoint).unwrap().label.clone();
    assert!(text.contains(&format!("{label}: hazard ratio by caliper")));
}

/// The speed issue's frame budget: while the caliper moves every frame on a 100,000-patient
/// cohort, no frame's UI work exceeds 16 ms (the analysis runs on the worker, one at a time),
/// nor does the frame in which the file's reading ends (its analysis goes to the worker too),
/// and the curves follow the slider: analyses of several calipers are shown during the drag,
/// at a 60 Hz display's pace never more than two frames behind it (issue #24's target), and
/// once the slider rests the whole report of its last caliper comes (the rest of the views
/// wait while it moves). Meaningful in release only:
/// `cargo test --release --test it -- --ignored frame_budget`.
#[test]
#[ignore]
fn frame_budget_while_dragging_the_caliper_at_100000() {
    let dir = std::env::temp_dir().join(format!("se-ui-frames-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("c100000.csv");
    std::fs::write(
        &file,
        survival_explorer::simulate::simulate_csv(100_000, 42),
    )
    .unwrap();
    let mut h = harness();
    h.step();
    h.state_mut().frames.max_frame_ms = 0.0;
    h.state_mut().open_file(&file);
    for _ in 0..2000 {
        h.step();
        if h.state().loading().is_none() && !h.state().is_busy() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(h.state().loaded.cohort.n_rows, 100_000);
    let loading_max = h.state().frames.max_frame_ms;
    h.state_mut().frames.max_frame_ms = 0.0;
    let mut slowest = 0.0f64;
    let shown_caliper = |h: &Harness<'static, App>| {
        let matched = h.state().reports.as_ref().and_then(|r| r.matched.clone());
        match matched {
            Some(Ok(report)) => report.matching.as_ref().map(|m| m.caliper.to_bits()),
            _ => None,
        }
    };
    let before = shown_caliper(&h);
    let mut shown = std::collections::BTreeSet::new();
    // The caliper set in each frame, and how many frames the curves shown are behind it.
    let mut set = Vec::new();
    let mut lags = Vec::new();
    let frame = std::time::Duration::from_micros(16_667);
    for k in 0..120 {
        let start = std::time::Instant::now();
        // 0.051, 0.056, …: none is the caliper shown before the drag.
        let caliper = 0.051 + 0.005 * (k % 60) as f64;
        h.state_mut().settings.matching_mut().caliper = caliper;
        set.push(caliper.to_bits());
        let t = std::time::Instant::now();
        h.step();
        slowest = slowest.max(t.elapsed().as_secs_f64() * 1e3);
        let now = shown_caliper(&h).filter(|&c| Some(c) != before);
        shown.extend(now);
        // Frames since the slider was where the curves are (the latest frame that set it).
        if let Some(c) = now {
            if let Some(i) = set.iter().rposition(|&b| b == c) {
                lags.push(set.len() - 1 - i);
            }
        }
        // A 60 Hz display: the next frame ~16.7 ms after this one began (a 2-second drag).
        std::thread::sleep(frame.saturating_sub(start.elapsed()));
    }
    let ui_max = h.state().frames.max_frame_ms;
    let lag_max = lags.iter().copied().max().unwrap_or(usize::MAX);
    let lag_counts: Vec<usize> = (0..=lag_max.min(10))
        .map(|l| lags.iter().filter(|&&x| x == l).count())
        .collect();
    eprintln!("while the file was read: slowest UI work {loading_max:.1} ms; 120 frames (60 Hz) while dragging: slowest UI work {ui_max:.1} ms, slowest whole frame (with kittest's rendering) {slowest:.1} ms; {} calipers shown; the curves at most {lag_max} frames behind the slider (frames 0, 1, 2 … behind: {lag_counts:?})", shown.len());
    assert!(
        loading_max <= 16.0,
        "a frame took {loading_max:.1} ms while the file was read"
    );
    assert!(ui_max <= 16.0, "a frame took {ui_max:.1} ms");
    assert!(
        shown.len() >= 3,
        "only {} calipers shown while dragging",
        shown.len()
    );
    assert!(
        lag_max <= 2,
        "the curves were {lag_max} frames behind the slider"
    );
    // The slider rests: the whole report of the last caliper follows.
    let last = *set.last().unwrap();
    for _ in 0..400 {
        h.step();
        if !h.state().is_busy() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(shown_caliper(&h), Some(last));
    assert!(
        h.state().reports.as_ref().is_some_and(|r| r.complete()),
        "the whole report did not come after the drag"
    );
}

/// The demo as a clinician's export: arms coded 1 (lenvatinib) / 2, an `os_days` column,
/// deaths "Deceased"/"Alive" (issue #19).
fn clinic_file(name: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo_cohort.csv"),
    )
    .unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |n: &str| header.iter().position(|c| *c == n).unwrap();
    let (arm, os, ev) = (at("arm"), at("os_months"), at("os_event"));
    let mut out = format!("{},os_days,vital_status,hospital_no\n", header.join(","));
    for l in lines {
        let mut cells: Vec<String> = l.split(',').map(String::from).collect();
        let days = format!("{}", (cells[os].parse::<f64>().unwrap() * 30.4375).round());
        let status = if cells[ev] == "1" {
            "Deceased"
        } else {
            "Alive"
        }
        .to_string();
        cells[arm] = if cells[arm] == "lenvatinib" { "1" } else { "2" }.to_string();
        let number = format!("{}", 70_000 + 7 * out.len() % 100_003);
        cells.push(days);
        cells.push(status);
        cells.push(number);
        out += &(cells.join(",") + "\n");
    }
    let dir = std::env::temp_dir().join(format!("se-ui-own-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

/// A new file whose arm column has exactly two levels is analysed at once with those two;
/// its id and time columns are not offered as subgroup filters; a label typed for an arm
/// is what the window shows.
#[test]
fn a_new_file_picks_its_two_arms_and_offers_no_id_or_time_filters() {
    let mut h = harness();
    h.run();
    let path = clinic_file("clinic.csv");
    h.state_mut().open_file(&path);
    h.run();
    assert!(h.state().error.is_none(), "{:?}", h.state().error);
    let spec = &h.state().settings.spec;
    assert_eq!((spec.treated.as_str(), spec.control.as_str()), ("1", "2"));
    let settings = h.state().settings.clone();
    let cohort = h.state().loaded.cohort.clone();
    let spec = settings
        .matched_spec()
        .unwrap_or_else(|| settings.unmatched_spec());
    let report = analyze(&cohort, &spec).unwrap();
    for t in expected_survival_texts(&report, &settings.endpoint) {
        assert_shows(&h, &t);
    }
    // Subgroup filters: covariates yes; the ids (patient_id, a hospital number: every value
    // different) and times (os_days) no.
    assert!(h.query_all_by_label_contains("ECOG PS").count() > 0);
    for hidden in ["os_days", "patient_id", "hospital_no"] {
        assert!(
            h.query_by_label_contains(hidden).is_none(),
            "'{hidden}' is offered as a subgroup filter"
        );
    }
    // A label for arm "1".
    h.get_by_label("Treated shown as").focus();
    h.run();
    h.get_by_label("Treated shown as").type_text("Lenvatinib");
    h.run();
    h.run();
    assert_eq!(
        h.state().settings.spec.labels.get("1").map(String::as_str),
        Some("Lenvatinib")
    );
    let r = h
        .state()
        .reports
        .as_ref()
        .unwrap()
        .unmatched
        .clone()
        .unwrap();
    assert_eq!(r.sample.treated_label, "Lenvatinib");
    // The text field and the plot's legend and tables.
    assert!(h.query_all_by_label_contains("Lenvatinib").count() >= 2);
}

/// A spec file given as the file to open opens its cohort with its settings (it was read
/// as a CSV: "line 21: 2 fields…").
#[test]
fn a_spec_file_opened_as_a_file_opens_its_cohort_and_settings() {
    let mut h = harness();
    h.run();
    let path = clinic_file("clinic_spec.csv");
    h.state_mut().open_file(&path);
    h.state_mut().settings.spec.subgroups = vec![survival_explorer::analysis::Subgroup::Levels {
        column: "prior_io_response".into(),
        values: vec!["PD".into()],
    }];
    h.run();
    let spec_path = path.with_file_name("clinic.toml");
    h.state_mut().save_spec(&spec_path);
    let saved = h.state().current_spec();

    let mut other = harness();
    other.run();
    other.state_mut().open_file(&spec_path);
    other.run();
    assert!(other.state().error.is_none(), "{:?}", other.state().error);
    assert!(!other.state().loaded.is_demo);
    assert_eq!(other.state().current_spec(), saved);
    assert_shows(&other, "subgroup: prior_io_response = PD");
}

/// Event values declared in Columns… ("Deceased" for OS) are used by the analysis.
#[test]
fn event_values_declared_in_the_columns_dialog() {
    let mut h = harness();
    h.run();
    let path = clinic_file("clinic_events.csv");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("Deceased", "Expired");
    std::fs::write(&path, text).unwrap();
    h.state_mut().open_file(&path);
    h.state_mut().settings.spec.endpoints = vec![survival_explorer::analysis::EndpointSpec::new(
        "os",
        &["os_days"],
        "vital_status",
    )];
    h.state_mut().settings.endpoint = "os".into();
    h.run();
    let shown = h.state().error.clone().unwrap_or_default()
        + &format!(
            "{:?}",
            h.state()
                .reports
                .as_ref()
                .map(|r| r.unmatched.clone().err())
        );
    assert!(
        shown.contains("'vital_status'") && shown.contains("Expired"),
        "{shown}"
    );
    h.get_by_label("Columns…").click();
    h.run();
    h.state_mut()
        .columns_dialog
        .as_mut()
        .unwrap()
        .event_values
        .insert("vital_status".into(), "Expired".into());
    h.get_by_label("Apply").click();
    h.run();
    assert_eq!(
        h.state().settings.spec.event_values.get("vital_status"),
        Some(&vec!["Expired".to_string()])
    );
    let r = h.state().reports.as_ref().unwrap().unmatched.clone();
    assert!(r.is_ok(), "{:?}", r.err());
}

#[test]
fn the_window_exports_journal_sizes_and_formats_and_remembers_the_choice() {
    use survival_explorer::export::Format;
    let mut h = harness();
    h.run();
    {
        let app = h.state_mut();
        app.settings.export.size = "single-column".into();
        app.settings.export.dpi = Some(600);
        app.settings.export.format = Format::Pdf;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = h.state();
    assert_eq!(app.figure_name(), format!("km_{}", app.settings.endpoint));
    let size = app.settings.export.figure_size().unwrap();
    assert!((size.width_mm() - 85.0).abs() < 0.1);
    for format in Format::ALL {
        let path = dir.path().join(format!("fig.{}", format.ext()));
        app.write_figure(&path, format, size).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let magic: &[u8] = match format {
            Format::Svg => b"<svg",
            Format::Png => b"\x89PNG",
            Format::Pdf => b"%PDF",
            Format::Tiff => b"II*\0",
        };
        assert!(bytes.starts_with(magic), "{format:?}");
    }
    // The choice persists with the settings (eframe stores them as RON/JSON alike).
    let json = serde_json::to_string(&app.settings).unwrap();
    let back: survival_explorer::app::Settings = serde_json::from_str(&json).unwrap();
    assert_eq!(back.export, app.settings.export);
    assert_eq!(back.export.format, Format::Pdf);
    // An old settings file without the choice still loads, with the default.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v.as_object_mut().unwrap().remove("export");
    let old: survival_explorer::app::Settings = serde_json::from_value(v).unwrap();
    assert_eq!(old.export.size, "slide");
}
