//! The CSV loader on large texts: read in stretches side by side, it gives the cohort read in
//! one, whatever the number of threads; problems past the first stretch are named with their
//! line; numbers are read as Rust's parser reads them.

use proptest::prelude::*;
use survival_explorer::cohort::{parse_number, read_csv_bytes, Cohort, ColumnData};

/// A text of `n` rows (several stretches of the reader from about 40,000 rows), with a
/// quoted field spanning lines, decimals, missing codes and a text column.
fn big_csv(n: usize, separator: char) -> String {
    let mut text =
        format!("patient_id{separator}arm{separator}note{separator}age{separator}os_months\n");
    for i in 0..n {
        let arm = ["lenvatinib", "sorafenib"][i % 2];
        let note = if i % 7 == 0 { "\"two\nlines\"" } else { "x" };
        let age = if i % 11 == 0 {
            "NA".to_string()
        } else {
            (30 + i % 50).to_string()
        };
        let months = format!("{}.{:02}", i % 40, i % 100);
        text.push_str(&format!(
            "{i}{separator}{arm}{separator}{note}{separator}{age}{separator}{months}\n"
        ));
    }
    text
}

fn same_cohort(a: &Cohort, b: &Cohort) {
    assert_eq!(a.n_rows, b.n_rows);
    assert_eq!(a.warnings, b.warnings);
    assert_eq!(a.columns.len(), b.columns.len());
    for (x, y) in a.columns.iter().zip(&b.columns) {
        assert_eq!(x.name, y.name);
        match (&x.data, &y.data) {
            (ColumnData::Numeric(u), ColumnData::Numeric(v)) => {
                let bits = |w: &[f64]| w.iter().map(|z| z.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(u), bits(v), "{}", x.name);
            }
            (
                ColumnData::Text { codes, levels },
                ColumnData::Text {
                    codes: c2,
                    levels: l2,
                },
            ) => {
                assert_eq!(levels, l2, "{}", x.name);
                assert_eq!(codes, c2, "{}", x.name);
            }
            _ => panic!("{}: typed differently", x.name),
        }
    }
}

#[test]
fn one_thread_or_many_read_the_same_cohort() {
    let text = big_csv(120_000, ',');
    let read = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| read_csv_bytes("big.csv", text.clone().into_bytes()).unwrap())
    };
    let one = read(1);
    assert_eq!(one.n_rows, 120_000);
    assert!(one.column("age").unwrap().is_numeric());
    assert_eq!(
        one.column("note").unwrap().text_at(7).as_deref(),
        Some("two\nlines")
    );
    // Row by row, the text of each cell is what was written.
    let months = one.column("os_months").unwrap();
    for row in [0, 1, 99_999, 119_999] {
        let want = format!("{}.{:02}", row % 40, row % 100)
            .parse::<f64>()
            .unwrap();
        assert_eq!(
            months.text_at(row),
            Some(survival_explorer::cohort::format_number(want))
        );
    }
    same_cohort(&one, &read(4));
}

#[test]
fn a_large_file_read_in_halves_is_the_file() {
    // Over 4 MiB, the file is read as two halves side by side; the cut falls inside a row.
    let text = big_csv(200_000, ',');
    assert!(text.len() > 4 << 20);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    std::fs::write(&path, &text).unwrap();
    let read = Cohort::read(&path, None).unwrap();
    let name = path.display().to_string();
    same_cohort(&read, &read_csv_bytes(&name, text.into_bytes()).unwrap());
    assert_eq!(read.n_rows, 200_000);
}

#[test]
fn a_column_with_text_only_in_its_last_row_is_text() {
    let mut text = big_csv(100_000, ';');
    text.push_str("100000;sorafenib;x;abc;1,5\n");
    let c = read_csv_bytes("late.csv", text.into_bytes()).unwrap();
    let age = c.column("age").unwrap();
    assert!(!age.is_numeric());
    assert_eq!(age.text_at(100_000).as_deref(), Some("abc"));
    assert_eq!(age.text_at(1).as_deref(), Some("31"));
    assert_eq!(age.text_at(0), None);
    // One decimal comma in the last row makes the whole semicolon file's commas decimal.
    assert!(c.read_info.decimal_comma);
    let months = c.column("os_months").unwrap();
    assert!(months.is_numeric());
    assert_eq!(months.text_at(100_000).as_deref(), Some("1.5"));
}

#[test]
fn problems_far_into_the_file_are_named_with_their_line() {
    // Row i starts on line 2 + i + (rows before it with a two-line note: i / 7 rounded up).
    let line_of_row = |i: usize| 2 + i + i.div_ceil(7);
    let mut text = big_csv(90_000, ',');
    text.push_str("90000,sorafenib,x,40\n");
    let e = read_csv_bytes("ragged.csv", text.into_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("ragged.csv: "), "{e}");
    let line = line_of_row(90_000);
    assert!(
        e.contains(&format!("line {line}: 4 fields, but the header has 5")),
        "{e}"
    );
    let mut text = big_csv(90_000, ',');
    text.push_str("90000,sorafenib,\"open,40,1\n90001,sorafenib,x,40,1\n");
    let e = read_csv_bytes("quote.csv", text.into_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("line {line}: a quoted field is never closed")),
        "{e}"
    );
}

#[test]
fn classic_mac_line_ends_are_read() {
    let c = read_csv_bytes(
        "mac.csv",
        b"arm,os_months\rlenvatinib,3.5\rsorafenib,4\r".to_vec(),
    )
    .unwrap();
    assert_eq!(c.n_rows, 2);
    assert_eq!(
        c.column("os_months").unwrap().text_at(0).as_deref(),
        Some("3.5")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Short decimals are read by a fast path: it must give Rust's parser's double, bit for
    /// bit, and refuse what the parser refuses.
    #[test]
    fn numbers_are_read_as_rusts_parser_reads_them(s in "[-+]?[0-9]{0,17}(\\.[0-9]{0,17})?") {
        let ours = parse_number(&s).map(f64::to_bits);
        let rust = s.parse::<f64>().ok().map(f64::to_bits);
        prop_assert_eq!(ours, rust, "{}", s);
    }
}

/// Texts a few bytes apart — the same first eight bytes, one a prefix of another, the same
/// letters in another order, spaces around them — are each their own level, and every row
/// keeps its own text, with few texts and with more than the sixteen compared one by one.
#[test]
fn texts_alike_in_their_first_bytes_are_told_apart() {
    let few = [
        "lenvatinib",
        "lenvatinia",
        "lenvatini",
        "lenvatinj",
        "lenvatin",
        "lenvati",
        "l",
        "le",
        "el",
        "sorafenib",
        "sorafenib 2",
        "CR",
        "RC",
        "ab\u{e9}",
    ];
    let many: Vec<String> = (0..40).map(|k| format!("level-{:02}-of-many", k)).collect();
    for texts in [few.iter().map(|s| s.to_string()).collect::<Vec<_>>(), many] {
        let mut csv = String::from("id,t\n");
        let mut expected = Vec::new();
        for i in 0..600 {
            let t = &texts[(i * 7 + i / 13) % texts.len()];
            let written = if i % 5 == 0 {
                format!(" {t} ")
            } else {
                t.clone()
            };
            csv.push_str(&format!("{i},{written}\n"));
            expected.push(t.clone());
        }
        let cohort = read_csv_bytes("alike.csv", csv.into_bytes()).unwrap();
        let ColumnData::Text { codes, levels } = &cohort.column("t").unwrap().data else {
            panic!("t is not text");
        };
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(levels, &sorted);
        let read: Vec<&String> = codes.iter().map(|&c| &levels[c as usize]).collect();
        assert_eq!(read, expected.iter().collect::<Vec<_>>());
    }
}

/// A column's type is decided by all its cells, wherever they are: a text cell, a decimal
/// comma, a missing code or a new level far down a large file (in its last stretch and a
/// late block of it) counts as much as one in the first row.
#[test]
fn cells_far_down_a_large_file_decide_its_columns() {
    let n = 100_000;
    let mut csv = String::from("id;late_text;comma;missing;many\n");
    let mut late_text = Vec::with_capacity(n);
    let many_text = |i: usize| format!("level {:02}", (i / 4_000).min(24) * (i % 3 + 1) % 25);
    for i in 0..n {
        let t = if i == 97_001 {
            "x".to_string()
        } else {
            (i % 10).to_string()
        };
        let comma = if i == 96_003 {
            "3,5".to_string()
        } else {
            i.to_string()
        };
        let missing = if i == n - 1 {
            "NA".to_string()
        } else {
            (i % 7).to_string()
        };
        csv.push_str(&format!("{i};{t};{comma};{missing};{}\n", many_text(i)));
        late_text.push(t);
    }
    let cohort = read_csv_bytes("late.csv", csv.into_bytes()).unwrap();
    let ColumnData::Text { codes, levels } = &cohort.column("late_text").unwrap().data else {
        panic!("late_text is not text");
    };
    let read: Vec<&str> = codes.iter().map(|&c| levels[c as usize].as_str()).collect();
    assert_eq!(
        read,
        late_text.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let ColumnData::Numeric(comma) = &cohort.column("comma").unwrap().data else {
        panic!("comma is not numeric");
    };
    for (i, &v) in comma.iter().enumerate() {
        assert_eq!(v, if i == 96_003 { 3.5 } else { i as f64 }, "row {i}");
    }
    let ColumnData::Numeric(missing) = &cohort.column("missing").unwrap().data else {
        panic!("missing is not numeric");
    };
    assert!(missing[n - 1].is_nan());
    assert!(missing[..n - 1]
        .iter()
        .enumerate()
        .all(|(i, &v)| v == (i % 7) as f64));
    let ColumnData::Text { codes, levels } = &cohort.column("many").unwrap().data else {
        panic!("many is not text");
    };
    assert_eq!(levels.len(), 25);
    assert!(codes
        .iter()
        .enumerate()
        .all(|(i, &c)| levels[c as usize] == many_text(i)));
    // Comma-separated, a quoted "3,5" is not a number: the column is text.
    let mut csv = String::from("id,q\n");
    for i in 0..n {
        let q = if i == 96_003 {
            "\"3,5\"".to_string()
        } else {
            i.to_string()
        };
        csv.push_str(&format!("{i},{q}\n"));
    }
    let cohort = read_csv_bytes("quoted.csv", csv.into_bytes()).unwrap();
    let ColumnData::Text { codes, levels } = &cohort.column("q").unwrap().data else {
        panic!("q is not text");
    };
    assert_eq!(levels[codes[96_003] as usize], "3,5");
}
