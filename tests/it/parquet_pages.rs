//! Parquet page headers are checked before polars reads a file (`check_pages` in
//! src/cohort/parquet.rs): polars trusts a page's counts and sizes, and a damaged one can make it
//! ask for more memory than exists, which aborts the process. A count or size no writer produces
//! is a one-line message naming the file, the column and the page; every file polars and
//! pyarrow write still loads (every codec, dictionary or plain pages, several row groups, small
//! pages, nulls).

use std::io::Cursor;

use polars::prelude::*;
use survival_explorer::cohort::{read_bytes, ColumnData};

/// The demo cohort, read by polars with its own types (integers, floats, text).
fn demo_frame() -> DataFrame {
    let csv = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/demo_cohort.csv"
    ))
    .unwrap();
    CsvReadOptions::default()
        .with_has_header(true)
        .into_reader_with_file_handle(Cursor::new(csv))
        .finish()
        .unwrap()
}

fn write(
    frame: &mut DataFrame,
    compression: ParquetCompression,
    layout: (usize, usize),
) -> Vec<u8> {
    let mut out = Vec::new();
    let (row_group, page) = layout;
    ParquetWriter::new(&mut out)
        .with_compression(compression)
        .with_row_group_size((row_group > 0).then_some(row_group))
        .with_data_page_size((page > 0).then_some(page))
        .finish(frame)
        .unwrap();
    out
}

#[test]
fn files_written_by_polars_and_pyarrow_pass_the_page_check() {
    let mut frame = demo_frame();
    // Nulls in a number and a text column.
    let age: Vec<Option<i64>> = (0..frame.height() as i64)
        .map(|i| (i % 7 != 3).then_some(40 + i % 30))
        .collect();
    let bclc: Vec<Option<&str>> = (0..frame.height())
        .map(|i| (i % 5 != 1).then_some(if i % 2 == 0 { "B" } else { "C" }))
        .collect();
    frame
        .with_column(Series::new("age".into(), age).into_column())
        .unwrap();
    frame
        .with_column(Series::new("bclc".into(), bclc).into_column())
        .unwrap();
    let codecs = [
        ParquetCompression::Uncompressed,
        ParquetCompression::Snappy,
        ParquetCompression::Zstd(None),
        ParquetCompression::Gzip(None),
        ParquetCompression::Lz4Raw,
        ParquetCompression::Brotli(None),
    ];
    // (rows a row group, bytes a data page; 0: polars' default): one row group and page a
    // column, 7 row groups, pages of ~256 bytes (many a column chunk).
    let layouts = [(0, 0), (37, 0), (0, 256), (50, 64)];
    for codec in codecs {
        for layout in layouts {
            let bytes = write(&mut frame, codec, layout);
            let label = format!("{codec:?} {layout:?}");
            let c = read_bytes("polars.parquet", bytes, None)
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            assert_eq!(c.n_rows, 230, "{label}");
            let age = c.columns.iter().find(|c| c.name == "age").unwrap();
            let ColumnData::Numeric(age) = &age.data else {
                panic!("{label}: age not numeric")
            };
            assert_eq!(age.iter().filter(|v| v.is_nan()).count(), 33, "{label}");
        }
    }
    // pyarrow (dictionary pages, snappy, statistics in the page headers).
    let fixture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/formats/demo.parquet"
    ))
    .unwrap();
    assert_eq!(
        read_bytes("demo.parquet", fixture, None).unwrap().n_rows,
        230
    );
    // A list column passes the check (pages of a repeated column may hold more values than
    // the row group has rows); the cohort reader then refuses its type, by name.
    let mut lists = df!("patient_id" => [1i64, 2, 3]).unwrap();
    let tags = Series::new(
        "tags".into(),
        [
            Series::new("".into(), [1i64, 2, 3, 4]),
            Series::new("".into(), [5i64]),
            Series::new("".into(), [6i64, 7, 8, 9, 10, 11]),
        ],
    );
    lists.with_column(tags.into_column()).unwrap();
    let bytes = write(&mut lists, ParquetCompression::Snappy, (0, 0));
    let e = read_bytes("lists.parquet", bytes, None)
        .err()
        .map(|e| e.to_string());
    assert!(e.as_ref().is_none_or(|e| !e.contains("damaged")), "{e:?}");
}

// ---- A Parquet file written by hand, so that any header field can be set. -------------------

/// Thrift compact values: enough for a footer and page headers.
enum V {
    I32(i32),
    I64(i64),
    Bin(Vec<u8>),
    List(u8, Vec<V>),
    Struct(Vec<(i16, V)>),
}

fn varint(mut u: u64, out: &mut Vec<u8>) {
    while u >= 0x80 {
        out.push(u as u8 | 0x80);
        u >>= 7;
    }
    out.push(u as u8);
}

impl V {
    fn wire_type(&self) -> u8 {
        match self {
            V::I32(_) => 5,
            V::I64(_) => 6,
            V::Bin(_) => 8,
            V::List(..) => 9,
            V::Struct(_) => 12,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            V::I32(v) => varint(((v << 1) ^ (v >> 31)) as u32 as u64, out),
            V::I64(v) => varint(((v << 1) ^ (v >> 63)) as u64, out),
            V::Bin(b) => {
                varint(b.len() as u64, out);
                out.extend_from_slice(b);
            }
            V::List(elem, items) => {
                out.push((items.len() as u8) << 4 | elem);
                items.iter().for_each(|v| v.write(out));
            }
            V::Struct(fields) => {
                let mut last = 0;
                for (id, v) in fields {
                    out.push(((id - last) as u8) << 4 | v.wire_type());
                    last = *id;
                    v.write(out);
                }
                out.push(0);
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }
}

/// Raw Snappy of a short block: its length, then one literal.
fn snappy(block: &[u8]) -> Vec<u8> {
    assert!((1..=60).contains(&block.len()));
    let mut out = Vec::new();
    varint(block.len() as u64, &mut out);
    out.push(((block.len() - 1) as u8) << 2);
    out.extend_from_slice(block);
    out
}

/// Header fields to set instead of the true ones.
#[derive(Default, Clone, Copy)]
struct Damage {
    data_num_values: Option<i32>,
    data_uncompressed: Option<i32>,
    data_compressed: Option<i32>,
    dictionary_num_values: Option<i32>,
}

const OS: [f64; 5] = [3.5, 7.25, 3.5, 12.0, 7.25];

/// A Snappy-compressed file of one optional DOUBLE column 'os_months' holding `OS`: a plain
/// data page, or a dictionary page and a data page of indices.
fn hand_built(dictionary: bool, damage: Damage) -> Vec<u8> {
    let n = OS.len() as i32;
    // Definition levels: one RLE run of n ones, after its 4-byte length.
    let mut data = vec![2, 0, 0, 0, (n as u8) << 1, 1];
    let mut dict = Vec::new();
    if dictionary {
        let distinct = [3.5f64, 7.25, 12.0];
        distinct.iter().for_each(|v| dict.extend(v.to_le_bytes()));
        // Bit width 2, then one RLE run of one index per value.
        data.push(2);
        for v in OS {
            let index = distinct.iter().position(|d| *d == v).unwrap() as u8;
            data.extend([2, index]);
        }
    } else {
        OS.iter().for_each(|v| data.extend(v.to_le_bytes()));
    }
    let page = |page_type: i32, plain: &[u8], sub: (i16, V), c: Option<i32>, u: Option<i32>| {
        let packed = snappy(plain);
        let header = V::Struct(vec![
            (1, V::I32(page_type)),
            (2, V::I32(u.unwrap_or(plain.len() as i32))),
            (3, V::I32(c.unwrap_or(packed.len() as i32))),
            sub,
        ])
        .bytes();
        let total_unpacked = (header.len() + plain.len()) as i64;
        ([header, packed].concat(), total_unpacked)
    };
    let mut file = b"PAR1".to_vec();
    let mut total_unpacked = 0;
    let mut dictionary_offset = None;
    if dictionary {
        let count = damage.dictionary_num_values.unwrap_or(3);
        let sub = (7, V::Struct(vec![(1, V::I32(count)), (2, V::I32(0))]));
        let (bytes, unpacked) = page(2, &dict, sub, None, None);
        dictionary_offset = Some(file.len() as i64);
        file.extend(bytes);
        total_unpacked += unpacked;
    }
    let data_offset = file.len() as i64;
    let encoding = if dictionary { 8 } else { 0 };
    let sub = (
        5,
        V::Struct(vec![
            (1, V::I32(damage.data_num_values.unwrap_or(n))),
            (2, V::I32(encoding)),
            (3, V::I32(3)),
            (4, V::I32(3)),
        ]),
    );
    let (bytes, unpacked) = page(
        0,
        &data,
        sub,
        damage.data_compressed,
        damage.data_uncompressed,
    );
    file.extend(bytes);
    total_unpacked += unpacked;
    let chunk_start = dictionary_offset.unwrap_or(data_offset);
    let total_packed = file.len() as i64 - chunk_start;

    let mut meta = vec![
        (1, V::I32(5)),
        (2, V::List(5, vec![V::I32(encoding), V::I32(3)])),
        (3, V::List(8, vec![V::Bin(b"os_months".to_vec())])),
        (4, V::I32(1)),
        (5, V::I64(n as i64)),
        (6, V::I64(total_unpacked)),
        (7, V::I64(total_packed)),
        (9, V::I64(data_offset)),
    ];
    if let Some(offset) = dictionary_offset {
        meta.push((11, V::I64(offset)));
    }
    let chunk = V::Struct(vec![(2, V::I64(chunk_start)), (3, V::Struct(meta))]);
    let footer = V::Struct(vec![
        (1, V::I32(1)),
        (
            2,
            V::List(
                12,
                vec![
                    V::Struct(vec![(4, V::Bin(b"schema".to_vec())), (5, V::I32(1))]),
                    V::Struct(vec![
                        (1, V::I32(5)),
                        (3, V::I32(1)),
                        (4, V::Bin(b"os_months".to_vec())),
                    ]),
                ],
            ),
        ),
        (3, V::I64(n as i64)),
        (
            4,
            V::List(
                12,
                vec![V::Struct(vec![
                    (1, V::List(12, vec![chunk])),
                    (2, V::I64(total_unpacked)),
                    (3, V::I64(n as i64)),
                ])],
            ),
        ),
    ])
    .bytes();
    file.extend(&footer);
    file.extend((footer.len() as u32).to_le_bytes());
    file.extend(b"PAR1");
    file
}

fn refusal(dictionary: bool, damage: Damage) -> String {
    let Err(e) = read_bytes("hand.parquet", hand_built(dictionary, damage), None) else {
        panic!("a damaged page header was accepted");
    };
    let e = e.to_string();
    assert!(
        e.starts_with("hand.parquet: damaged Parquet file: column 'os_months': "),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    e
}

#[test]
fn the_hand_built_file_is_a_valid_parquet_file() {
    for dictionary in [false, true] {
        let c = read_bytes(
            "hand.parquet",
            hand_built(dictionary, Damage::default()),
            None,
        )
        .unwrap_or_else(|e| panic!("dictionary {dictionary}: {e}"));
        let ColumnData::Numeric(os) = &c.columns[0].data else {
            panic!("os_months not numeric")
        };
        assert_eq!(os, &OS, "dictionary {dictionary}");
    }
}

#[test]
fn absurd_page_header_sizes_and_counts_are_refused_by_name() {
    // A negative count of values: polars-parquet takes it `as usize` (about 2^64) and reserves
    // a validity bitmap of 2^61 bytes for it, which aborts: about 1 randomly damaged file in 2,200.
    let e = refusal(
        false,
        Damage {
            data_num_values: Some(-1),
            ..Damage::default()
        },
    );
    assert!(
        e.ends_with(
            "the page at byte 4 says it holds -1 values (a page of this column holds 0 to 5)"
        ),
        "{e}"
    );
    let e = refusal(
        true,
        Damage {
            data_num_values: Some(1 << 30),
            ..Damage::default()
        },
    );
    assert!(e.contains("says it holds 1073741824 values"), "{e}");
    // The size a page decompresses to: polars allocates and zero-fills it.
    let e = refusal(
        false,
        Damage {
            data_uncompressed: Some(i32::MAX),
            ..Damage::default()
        },
    );
    assert!(
        e.ends_with("the page at byte 4 says it decompresses to 2147483647 bytes (the whole column: 67 bytes)"),
        "{e}"
    );
    // A dictionary's count of values: polars reserves 8 bytes a value (16 for text).
    let e = refusal(
        true,
        Damage {
            dictionary_num_values: Some(i32::MAX),
            ..Damage::default()
        },
    );
    assert!(
        e.ends_with("is a dictionary of 2147483647 values, but its 24 bytes hold at most 3"),
        "{e}"
    );
    // Stored size past the column's end, or negative.
    for size in [10_000, -5] {
        let e = refusal(
            false,
            Damage {
                data_compressed: Some(size),
                ..Damage::default()
            },
        );
        assert!(e.contains(&format!("says it takes {size} bytes")), "{e}");
    }
}
