//! Real-world formats (tests/fixtures/formats/, written by make_fixtures.py from the demo
//! cohort): a European-Excel CSV, .xlsx/.xls/.ods workbooks and Parquet give exactly the
//! demo's analysis; dates give the times Python's calendar gives; sheets, title rows and date
//! orders are chosen as documented, and what cannot be read is named with its row.

use std::path::{Path, PathBuf};

use survival_explorer::cli::{run_analysis, AnalyzeArgs};
use survival_explorer::cohort::{Cohort, ColumnData, DateFormat, LoadOptions};

fn formats(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name)
}

/// The cohort the format fixtures were made from (`make_fixtures.py`): the demo cohort of
/// version 0.3.0, kept so that the fixtures need not follow the bundled demo.
fn demo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo_0.3.0.csv")
}

/// The matched demo analysis of a file, as JSON, without what names the file or times it.
fn matched_analysis(file: PathBuf, extra: impl FnOnce(&mut AnalyzeArgs)) -> serde_json::Value {
    let mut args = AnalyzeArgs {
        file: Some(file.clone()),
        match_covariates: Some(vec![
            "ecog".into(),
            "albi_grade".into(),
            "prior_io_response".into(),
        ]),
        ..AnalyzeArgs::default()
    };
    extra(&mut args);
    let report = run_analysis(&args).unwrap_or_else(|e| panic!("{}: {e:#}", file.display()));
    let mut v = serde_json::to_value(&report).unwrap();
    v.as_object_mut().unwrap().remove("timing");
    v.as_object_mut().unwrap().remove("cohort");
    v
}

#[test]
fn every_format_of_the_demo_gives_exactly_the_demo_analysis() {
    let reference = matched_analysis(demo(), |_| {});
    assert!(reference["endpoints"]["os"]["arms"]["lenvatinib"]["median"].is_number());
    for name in [
        "demo_excel_eu.csv",
        "demo.xlsx",
        "demo.ods",
        "demo.xls",
        "demo.parquet",
    ] {
        let v = matched_analysis(formats(name), |_| {});
        assert!(
            v == reference,
            "{name}: the analysis differs from the demo's"
        );
    }
}

#[test]
fn the_european_csv_is_read_with_its_title_line_and_clinical_names() {
    let c = Cohort::load(&formats("demo_excel_eu.csv")).unwrap();
    let w = c.warnings.join(" | ");
    for needle in [
        "1 line(s) above the header skipped",
        "semicolon-separated, with decimal commas",
        "Latin-1",
        "'OS (months)' is read as os_months",
        "'Death' is read as os_event",
        "'Treatment' is read as arm",
    ] {
        assert!(w.contains(needle), "warnings '{w}' lack '{needle}'");
    }
    assert_eq!(c.n_rows, 230);
}

#[test]
fn a_workbook_skips_its_title_rows_and_names_sheet_rows() {
    let c = Cohort::load(&formats("demo.xlsx")).unwrap();
    assert_eq!(c.n_rows, 230);
    let w = c.warnings.join(" | ");
    assert!(w.contains("header on row 3 of sheet 'Cohort'"), "{w}");
    assert!(w.contains("'Codebook'"), "{w}");
    // Data row 0 is row 4 of the sheet (title, blank, header above it).
    assert_eq!(c.row_number(0), 4);
    assert_eq!(c.row_number(229), 233);
}

#[test]
fn sheets_are_chosen_by_name_or_number() {
    let open = |sheet: &str| {
        Cohort::load_with(
            &formats("demo.xlsx"),
            &LoadOptions {
                sheet: Some(sheet.to_string()),
                ..LoadOptions::default()
            },
        )
    };
    assert_eq!(open("codebook").unwrap().n_rows, 1);
    assert_eq!(open("2").unwrap().n_rows, 1);
    assert_eq!(open("Cohort").unwrap().n_rows, 230);
    let e = open("Patients").unwrap_err().to_string();
    assert!(e.contains("demo.xlsx"), "{e}");
    assert!(e.contains("'Patients'"), "{e}");
    assert!(e.contains("'Cohort', 'Codebook'"), "{e}");
    // Through the CLI and the spec.
    let v = matched_analysis(formats("demo.xlsx"), |a| a.sheet = Some("1".into()));
    assert!(v["endpoints"]["pfs"].is_object());
}

fn numeric(c: &Cohort, name: &str) -> Vec<f64> {
    match &c.column(name).unwrap_or_else(|| panic!("no {name}")).data {
        ColumnData::Numeric(v) => v.clone(),
        ColumnData::Text { .. } => panic!("{name} is text"),
    }
}

#[test]
fn times_derived_from_dates_equal_the_calendar() {
    let expected = Cohort::load(&formats("demo_dates_expected.csv")).unwrap();
    for (name, format) in [
        ("demo_dates_iso.csv", DateFormat::Auto),
        ("demo_dates_dmy.csv", DateFormat::Auto),
        ("demo_dates_dmy.csv", DateFormat::Dmy),
        ("demo_dates.xlsx", DateFormat::Auto),
    ] {
        let c = Cohort::load_with(
            &formats(name),
            &LoadOptions {
                date_format: format,
                ..LoadOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let w = c.warnings.join(" | ");
        assert!(
            w.contains("os_months, os_event, pfs_months, pfs_event, first_line_months derived from dates (months = days / 30.4375)"),
            "{name}: {w}"
        );
        for col in [
            "os_months",
            "os_event",
            "pfs_months",
            "pfs_event",
            "first_line_months",
        ] {
            let (got, want) = (numeric(&c, col), numeric(&expected, col));
            assert_eq!(got.len(), want.len());
            for (row, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    g == w || (g.is_nan() && w.is_nan()),
                    "{name} {col} row {}: {g} vs {w}",
                    row + 1
                );
            }
        }
    }
    // The dmy file says why it was read day first.
    let c = Cohort::load(&formats("demo_dates_dmy.csv")).unwrap();
    assert!(c
        .warnings
        .join(" | ")
        .contains("dates read as day/month/year"));
}

#[test]
fn a_dates_file_is_analysed() {
    let v = matched_analysis(formats("demo_dates_iso.csv"), |_| {});
    for ep in ["pfs", "os", "seq_os"] {
        assert!(
            v["endpoints"][ep]["cox"]["hr"].is_number(),
            "{ep}: no hazard ratio"
        );
    }
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("se-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn load_err(path: &Path, format: DateFormat) -> String {
    Cohort::load_with(
        path,
        &LoadOptions {
            date_format: format,
            ..LoadOptions::default()
        },
    )
    .err()
    .unwrap_or_else(|| panic!("{} was accepted", path.display()))
    .to_string()
}

#[test]
fn bad_dates_are_named_with_their_row() {
    let header = "arm,start_date,death_date,last_followup_date\n";
    let before = tmp(
        "before.csv",
        &format!("{header}lenvatinib,2024-01-10,2024-03-01,\nsorafenib,2024-02-01,2024-01-05,\n"),
    );
    let e = load_err(&before, DateFormat::Auto);
    assert!(e.contains("before.csv"), "{e}");
    assert!(e.contains("'death_date', row 2"), "{e}");
    assert!(e.contains("before start_date"), "{e}");

    let ambiguous = tmp(
        "ambiguous.csv",
        &format!("{header}lenvatinib,03/04/2024,05/06/2024,\nsorafenib,01/02/2024,,07/08/2024\n"),
    );
    let e = load_err(&ambiguous, DateFormat::Auto);
    assert!(e.contains("--date-format dmy"), "{e}");
    // Said explicitly, both orders read, and give different times.
    let months = |f: DateFormat| {
        let c = Cohort::load_with(
            &ambiguous,
            &LoadOptions {
                date_format: f,
                ..LoadOptions::default()
            },
        )
        .unwrap();
        numeric(&c, "os_months")
    };
    let (dmy, mdy) = (months(DateFormat::Dmy), months(DateFormat::Mdy));
    // 03/04 → 05/06: 3 April → 5 June (63 days) or 4 March → 6 May (63 days); 01/02 → 07/08:
    // 1 February → 7 August (188 days) or 2 January → 8 July (188 days).
    assert_eq!(dmy[0], 63.0 / 30.4375);
    assert_eq!(mdy[0], 63.0 / 30.4375);
    assert_eq!(dmy[1], 188.0 / 30.4375);
    assert_eq!(mdy[1], 188.0 / 30.4375);

    let mixed = tmp(
        "mixed.csv",
        &format!("{header}lenvatinib,13/04/2024,05/06/2024,\nsorafenib,01/02/2024,,07/28/2024\n"),
    );
    let e = load_err(&mixed, DateFormat::Auto);
    assert!(e.contains("both day first"), "{e}");

    let text = tmp(
        "text_date.csv",
        &format!("{header}lenvatinib,2024-01-10,soon,\nsorafenib,2024-02-01,2024-03-05,\n"),
    );
    let e = load_err(&text, DateFormat::Auto);
    assert!(e.contains("'death_date', row 1"), "{e}");
    assert!(e.contains("expected a date"), "{e}");
    assert!(e.contains("'soon'"), "{e}");

    let impossible = tmp(
        "impossible.csv",
        &format!("{header}lenvatinib,2023-02-29,2024-03-05,\nsorafenib,2024-02-01,2024-03-05,\n"),
    );
    let e = load_err(&impossible, DateFormat::Auto);
    assert!(e.contains("'start_date', row 1"), "{e}");
    assert!(e.contains("not a calendar date"), "{e}");

    let short_year = tmp(
        "short_year.csv",
        &format!("{header}lenvatinib,10/01/24,05/03/24,\nsorafenib,01/02/24,05/03/24,\n"),
    );
    let e = load_err(&short_year, DateFormat::Dmy);
    assert!(e.contains("four-digit year"), "{e}");
}

#[test]
fn a_renamed_workbook_is_read_by_its_content_and_a_plain_zip_is_refused() {
    let bytes = std::fs::read(formats("demo.xlsx")).unwrap();
    let dir = std::env::temp_dir().join(format!("se-formats-zip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let renamed = dir.join("cohort.csv");
    std::fs::write(&renamed, &bytes).unwrap();
    assert_eq!(Cohort::load(&renamed).unwrap().n_rows, 230);
    // A workbook cut short is a message, not a panic.
    let cut = dir.join("cut.xlsx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = Cohort::load(&cut).unwrap_err().to_string();
    assert!(e.contains("cut.xlsx"), "{e}");
    let cut_parquet = dir.join("cut.parquet");
    let pq = std::fs::read(formats("demo.parquet")).unwrap();
    std::fs::write(&cut_parquet, &pq[..pq.len() / 2]).unwrap();
    let e = Cohort::load(&cut_parquet).unwrap_err().to_string();
    assert!(e.contains("cut.parquet"), "{e}");
}

#[test]
fn spreadsheet_cells_are_typed_like_csv_cells() {
    let c = Cohort::load(&formats("demo.ods")).unwrap();
    let csv = Cohort::load(&demo()).unwrap();
    for col in &csv.columns {
        let other = c.column(&col.name).unwrap();
        for row in 0..csv.n_rows {
            assert_eq!(
                col.text_at(row),
                other.text_at(row),
                "{} row {}",
                col.name,
                row + 1
            );
        }
        assert_eq!(col.is_numeric(), other.is_numeric(), "{}", col.name);
    }
}

#[test]
fn an_excel_error_cell_is_missing_and_named_by_its_sheet_row() {
    let c = Cohort::load(&formats("demo_error_cell.xlsx")).unwrap();
    let age = c.column("age").unwrap();
    assert!(age.is_numeric(), "one #DIV/0! must not turn age into text");
    // Sheet row 10 is data row 6 (title, blank, header above).
    assert_eq!(age.text_at(6), None);
    assert_eq!(c.row_number(6), 10);
    let w = c.warnings.join(" | ");
    assert!(
        w.contains("1 Excel error cell(s) read as missing (first: #DIV/0! on row 10"),
        "{w}"
    );
}

#[test]
fn a_title_line_with_a_date_beside_it_is_still_a_title() {
    let demo = std::fs::read_to_string(demo()).unwrap();
    let text = format!("Coorte LEVIATHAN,26/11/2026,,,\n{demo}");
    let c = survival_explorer::cohort::read_csv_bytes("titled.csv", text.into_bytes()).unwrap();
    assert_eq!(c.n_rows, 230);
    assert!(c.column("arm").is_some());
    assert!(c
        .warnings
        .join(" | ")
        .contains("1 line(s) above the header skipped"));
}
