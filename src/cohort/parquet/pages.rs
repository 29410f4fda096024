//! The page pre-check: a Parquet file's footer and page headers are read with our own
//! bounded Thrift reader before polars sees the file, so counts, sizes and list lengths that
//! no writer produces become a message naming the file, column and page instead of an abort.

use super::thrift::*;

/// What the pre-check needs of a schema element.
#[derive(Default)]
struct SchemaElement {
    physical_type: Option<i32>,
    type_length: Option<i32>,
    repetition: Option<i32>,
    name: String,
    num_children: Option<i32>,
}

/// What the pre-check needs of a column chunk's metadata.
#[derive(Default)]
struct ChunkMeta {
    codec: Option<i32>,
    num_values: Option<i64>,
    total_uncompressed_size: Option<i64>,
    total_compressed_size: Option<i64>,
    data_page_offset: Option<i64>,
    dictionary_page_offset: Option<i64>,
}

#[derive(Default)]
struct RowGroup {
    num_rows: Option<i64>,
    columns: Vec<Option<ChunkMeta>>,
}

#[derive(Default)]
struct Footer {
    schema: Vec<SchemaElement>,
    row_groups: Vec<RowGroup>,
}

fn read_footer(t: &mut Thrift) -> Checked<Footer> {
    let mut footer = Footer::default();
    let mut last = 0;
    while let Some((id, ty)) = t.field(&mut last)? {
        match id {
            1 => drop(t.read_i32(ty)?),
            2 => footer.schema = t.read_list(ty, read_schema_element)?,
            3 => drop(t.read_i64(ty)?),
            4 => footer.row_groups = t.read_list(ty, read_row_group)?,
            5 => drop(t.read_list(ty, |t| t.skip_struct(Kind::KeyValue, 1))?),
            6 => t.skip_as(Want::Binary, ty, 0)?,
            7 => drop(t.read_list(ty, |t| t.skip_struct(Kind::EmptyUnion, 1))?),
            _ => t.skip(ty, 0)?,
        }
    }
    Ok(footer)
}

fn read_schema_element(t: &mut Thrift) -> Checked<SchemaElement> {
    let mut e = SchemaElement::default();
    let mut last = 0;
    while let Some((id, ty)) = t.field(&mut last)? {
        match id {
            1 => e.physical_type = Some(t.read_i32(ty)?),
            2 => e.type_length = Some(t.read_i32(ty)?),
            3 => e.repetition = Some(t.read_i32(ty)?),
            4 => {
                t.expect(ty, BINARY)?;
                e.name = String::from_utf8_lossy(t.binary()?).into_owned();
            }
            5 => e.num_children = Some(t.read_i32(ty)?),
            6..=9 => drop(t.read_i32(ty)?),
            10 => t.skip_as(Want::Struct(Kind::LogicalType), ty, 1)?,
            _ => t.skip(ty, 1)?,
        }
    }
    Ok(e)
}

fn read_row_group(t: &mut Thrift) -> Checked<RowGroup> {
    let mut rg = RowGroup::default();
    let mut last = 0;
    while let Some((id, ty)) = t.field(&mut last)? {
        match id {
            1 => rg.columns = t.read_list(ty, read_column_chunk)?,
            2 => drop(t.read_i64(ty)?),
            3 => rg.num_rows = Some(t.read_i64(ty)?),
            4 => drop(t.read_list(ty, |t| t.skip_struct(Kind::SortingColumn, 1))?),
            5 | 6 => drop(t.read_i64(ty)?),
            7 => t.skip_as(Want::I16, ty, 1)?,
            _ => t.skip(ty, 1)?,
        }
    }
    Ok(rg)
}

fn read_column_chunk(t: &mut Thrift) -> Checked<Option<ChunkMeta>> {
    let mut meta = None;
    let mut last = 0;
    while let Some((id, ty)) = t.field(&mut last)? {
        match id {
            1 => t.skip_as(Want::Binary, ty, 1)?,
            2 | 4 | 6 => drop(t.read_i64(ty)?),
            3 => {
                t.expect(ty, STRUCT)?;
                meta = Some(read_column_meta(t)?);
            }
            5 | 7 => drop(t.read_i32(ty)?),
            _ => t.skip(ty, 1)?,
        }
    }
    Ok(meta)
}

fn read_column_meta(t: &mut Thrift) -> Checked<ChunkMeta> {
    let mut m = ChunkMeta::default();
    let mut last = 0;
    while let Some((id, ty)) = t.field(&mut last)? {
        match id {
            1 | 15 => drop(t.read_i32(ty)?),
            2 => t.skip_as(Want::ListOf(I32), ty, 2)?,
            3 => t.skip_as(Want::ListOf(BINARY), ty, 2)?,
            4 => m.codec = Some(t.read_i32(ty)?),
            5 => m.num_values = Some(t.read_i64(ty)?),
            6 => m.total_uncompressed_size = Some(t.read_i64(ty)?),
            7 => m.total_compressed_size = Some(t.read_i64(ty)?),
            9 => m.data_page_offset = Some(t.read_i64(ty)?),
            10 | 14 => drop(t.read_i64(ty)?),
            11 => m.dictionary_page_offset = Some(t.read_i64(ty)?),
            12 => t.skip_as(Want::Struct(Kind::Statistics), ty, 2)?,
            _ => t.skip(ty, 2)?,
        }
    }
    Ok(m)
}

/// A leaf column of the schema, in the order of the column chunks.
struct Leaf {
    name: String,
    /// Inside a repeated field: a page may hold more values than the row group has rows.
    repeated: bool,
    physical_type: Option<i32>,
    type_length: Option<i32>,
}

/// The schema's leaves, read the way polars reads the tree (depth first, `num_children`
/// absent or 0 for a leaf).
fn leaves(schema: &[SchemaElement]) -> Checked<Vec<Leaf>> {
    let mut leaves = Vec::new();
    let Some(root) = schema.first() else {
        return Ok(leaves);
    };
    // (children still to read, inside a repeated field, the group's name)
    let mut stack: Vec<(i64, bool, &str)> =
        vec![(i64::from(root.num_children.unwrap_or(0)), false, "")];
    let mut next = 1;
    while let Some(top) = stack.last_mut() {
        if top.0 <= 0 {
            stack.pop();
            continue;
        }
        top.0 -= 1;
        let parent_repeated = top.1;
        let e = schema
            .get(next)
            .ok_or("the schema lists fewer fields than its groups hold")?;
        next += 1;
        let repeated = parent_repeated || e.repetition == Some(2);
        match e.num_children {
            None | Some(0) => {
                let mut path: Vec<&str> = stack[1..].iter().map(|g| g.2).collect();
                path.push(&e.name);
                leaves.push(Leaf {
                    name: path.join("."),
                    repeated,
                    physical_type: e.physical_type,
                    type_length: e.type_length,
                });
            }
            Some(n) => {
                if stack.len() > MAX_SCHEMA_DEPTH {
                    return Err(format!(
                        "its schema nests deeper than {MAX_SCHEMA_DEPTH} levels"
                    ));
                }
                stack.push((i64::from(n), repeated, &e.name));
            }
        }
    }
    Ok(leaves)
}

/// What the pre-check needs of a page header.
#[derive(Default)]
struct PageHeader {
    page_type: Option<i32>,
    uncompressed: Option<i32>,
    compressed: Option<i32>,
    /// A v1 data page's `num_values`.
    data_v1: Option<Option<i32>>,
    /// A dictionary page's `num_values`.
    dictionary: Option<Option<i32>>,
    data_v2: Option<DataV2>,
}

#[derive(Default)]
struct DataV2 {
    num_values: Option<i32>,
    num_nulls: Option<i32>,
    num_rows: Option<i32>,
    definition_bytes: Option<i32>,
    repetition_bytes: Option<i32>,
}

fn read_page_header(t: &mut Thrift) -> Checked<PageHeader> {
    let mut h = PageHeader::default();
    let mut last = 0;
    while let Some((id, ty)) = t.field(&mut last)? {
        match id {
            1 => h.page_type = Some(t.read_i32(ty)?),
            2 => h.uncompressed = Some(t.read_i32(ty)?),
            3 => h.compressed = Some(t.read_i32(ty)?),
            4 => drop(t.read_i32(ty)?),
            5 => {
                t.expect(ty, STRUCT)?;
                h.data_v1 = Some(read_data_v1(t)?);
            }
            6 => t.skip_as(Want::Struct(Kind::Any), ty, 1)?,
            7 => {
                t.expect(ty, STRUCT)?;
                h.dictionary = Some(read_dictionary_header(t)?);
            }
            8 => {
                t.expect(ty, STRUCT)?;
                h.data_v2 = Some(read_data_v2(t)?);
            }
            _ => t.skip(ty, 1)?,
        }
    }
    Ok(h)
}

/// A v1 data page header's `num_values` (its other fields: three encodings, statistics).
fn read_data_v1(t: &mut Thrift) -> Checked<Option<i32>> {
    let mut num_values = None;
    let mut last = 0;
    while let Some((id, ty)) = t.field(&mut last)? {
        match id {
            1 => num_values = Some(t.read_i32(ty)?),
            2..=4 => drop(t.read_i32(ty)?),
            5 => t.skip_as(Want::Struct(Kind::Statistics), ty, 2)?,
            _ => t.skip(ty, 2)?,
        }
    }
    Ok(num_values)
}

/// A dictionary page header's `num_values` (its other fields: the encoding, `is_sorted`).
fn read_dictionary_header(t: &mut Thrift) -> Checked<Option<i32>> {
    let mut num_values = None;
    let mut last = 0;
    while let Some((id, ty)) = t.field(&mut last)? {
        match id {
            1 => num_values = Some(t.read_i32(ty)?),
            2 => drop(t.read_i32(ty)?),
            3 => t.expect(ty, TRUE)?,
            _ => t.skip(ty, 2)?,
        }
    }
    Ok(num_values)
}

fn read_data_v2(t: &mut Thrift) -> Checked<DataV2> {
    let mut h = DataV2::default();
    let mut last = 0;
    while let Some((id, ty)) = t.field(&mut last)? {
        match id {
            1 => h.num_values = Some(t.read_i32(ty)?),
            2 => h.num_nulls = Some(t.read_i32(ty)?),
            3 => h.num_rows = Some(t.read_i32(ty)?),
            4 => drop(t.read_i32(ty)?),
            5 => h.definition_bytes = Some(t.read_i32(ty)?),
            6 => h.repetition_bytes = Some(t.read_i32(ty)?),
            7 => t.expect(ty, TRUE)?,
            8 => t.skip_as(Want::Struct(Kind::Statistics), ty, 2)?,
            _ => t.skip(ty, 2)?,
        }
    }
    Ok(h)
}

/// Reads the footer and every page header of a Parquet file and refuses counts and sizes
/// that no writer produces and that polars would trust: a message naming the column and the
/// page. Files polars cannot even open (no footer, a footer length beyond the file) are left to
/// polars' own message.
pub(crate) fn check_pages(bytes: &[u8]) -> Result<(), String> {
    let n = bytes.len();
    if n < 12 || !bytes.starts_with(b"PAR1") || !bytes.ends_with(b"PAR1") {
        return Ok(());
    }
    let len_bytes = [bytes[n - 8], bytes[n - 7], bytes[n - 6], bytes[n - 5]];
    let footer_len = u32::from_le_bytes(len_bytes) as usize;
    let data_end = match (n - 8).checked_sub(footer_len) {
        Some(start) if start >= 4 => start,
        _ => return Ok(()),
    };
    let mut t = Thrift::new(&bytes[data_end..n - 8], Mode::Footer);
    let footer =
        read_footer(&mut t).map_err(|e| format!("the file's metadata cannot be read: {e}"))?;
    let leaves =
        leaves(&footer.schema).map_err(|e| format!("the file's schema is damaged: {e}"))?;
    for (g, rg) in footer.row_groups.iter().enumerate() {
        let Some(rows) = rg.num_rows else { continue };
        if rows < 0 {
            return Err(format!("row group {} has {rows} rows", g + 1));
        }
        for (c, meta) in rg.columns.iter().enumerate() {
            let Some(meta) = meta else { continue };
            let leaf = leaves.get(c);
            let name = leaf.map_or_else(
                || format!("column {}", c + 1),
                |l| format!("column '{}'", l.name),
            );
            let place = if footer.row_groups.len() > 1 {
                format!("{name}, row group {}", g + 1)
            } else {
                name
            };
            check_chunk(bytes, data_end, rows, meta, leaf).map_err(|e| format!("{place}: {e}"))?;
        }
    }
    Ok(())
}

/// Bits a dictionary value takes at the least, by physical type.
fn min_value_bits(leaf: Option<&Leaf>) -> u64 {
    match leaf.and_then(|l| l.physical_type) {
        Some(1 | 4 | 6) => 32, // INT32, FLOAT, BYTE_ARRAY (its 4-byte length)
        Some(2 | 5) => 64,     // INT64, DOUBLE
        Some(3) => 96,         // INT96
        Some(7) => match leaf.and_then(|l| l.type_length) {
            Some(len) if len > 0 => 8 * len as u64,
            _ => 1,
        },
        _ => 1, // BOOLEAN, or unknown
    }
}

/// Walks a column chunk's pages as polars will: a dictionary page first if there is one, then
/// data pages until the chunk's `num_values` are read.
fn check_chunk(
    bytes: &[u8],
    data_end: usize,
    rows: i64,
    meta: &ChunkMeta,
    leaf: Option<&Leaf>,
) -> Checked<()> {
    let (Some(total_values), Some(chunk_len), Some(data_offset)) = (
        meta.num_values,
        meta.total_compressed_size,
        meta.data_page_offset,
    ) else {
        return Ok(()); // polars names the missing field
    };
    if total_values < 0 {
        return Err(format!(
            "the metadata says the column holds {total_values} values"
        ));
    }
    let start = meta.dictionary_page_offset.unwrap_or(data_offset);
    let end = start.checked_add(chunk_len);
    let (start, end) = match end {
        Some(end) if start >= 4 && chunk_len >= 0 && end <= data_end as i64 => {
            (start as usize, end as usize)
        }
        _ => {
            return Err(format!(
                "the metadata puts its {chunk_len} bytes at byte {start}, outside the file's \
                 data (bytes 4 to {data_end})"
            ))
        }
    };
    let compressed_codec = meta.codec.is_some_and(|c| c != 0);
    let unpacked_limit = meta
        .total_uncompressed_size
        .unwrap_or(0)
        .max(PAGE_SIZE_FLOOR);
    // A flat column has one value (or null) a row; a repeated one any number.
    let repeated = leaf.is_none_or(|l| l.repeated);
    let max_values = if repeated {
        total_values
    } else {
        total_values.min(rows)
    };

    let chunk = &bytes[start..end];
    let mut pos = 0;
    let mut seen: i64 = 0;
    let mut first = true;
    while pos < chunk.len() && (first || seen < total_values) {
        first = false;
        let at = start + pos;
        let mut t = Thrift::new(&chunk[pos..], Mode::Page);
        let h = read_page_header(&mut t)
            .map_err(|e| format!("the page header at byte {at} cannot be read: {e}"))?;
        let page = |what: String| format!("the page at byte {at} {what}");
        let (Some(page_type), Some(unpacked), Some(packed)) =
            (h.page_type, h.uncompressed, h.compressed)
        else {
            return Err(page("has an incomplete header".into()));
        };
        let data_start = pos + t.pos;
        let room = chunk.len() - data_start;
        if packed < 0 || packed as usize > room {
            return Err(page(format!(
                "says it takes {packed} bytes, but the column's data ends {room} bytes after \
                 its header"
            )));
        }
        if unpacked < 0 || (compressed_codec && i64::from(unpacked) > unpacked_limit) {
            return Err(page(format!(
                "says it decompresses to {unpacked} bytes (the whole column: {} bytes)",
                meta.total_uncompressed_size.unwrap_or(0)
            )));
        }
        let values_in = |count: Option<i32>, max: i64| match count {
            Some(v) if v >= 0 && i64::from(v) <= max => Ok(i64::from(v)),
            Some(v) => Err(page(format!(
                "says it holds {v} values (a page of this column holds 0 to {max})"
            ))),
            None => Err(page("has an incomplete header".into())),
        };
        match page_type {
            0 => {
                let count = h
                    .data_v1
                    .ok_or_else(|| page("has an incomplete header".into()))?;
                seen = seen.saturating_add(values_in(count, max_values)?);
            }
            2 => {
                let count = h
                    .dictionary
                    .ok_or_else(|| page("has an incomplete header".into()))?;
                // The page's bytes as polars decodes them (uncompressed: the stored bytes).
                let plain = if compressed_codec { unpacked } else { packed };
                let max = (plain as u64 * 8 / min_value_bits(leaf)) as i64;
                match count {
                    Some(v) if v >= 0 && i64::from(v) <= max => {}
                    Some(v) => {
                        return Err(page(format!(
                            "is a dictionary of {v} values, but its {plain} bytes hold at \
                             most {max}"
                        )))
                    }
                    None => return Err(page("has an incomplete header".into())),
                }
            }
            3 => {
                let v2 = h
                    .data_v2
                    .ok_or_else(|| page("has an incomplete header".into()))?;
                let values = values_in(v2.num_values, max_values)?;
                check_v2_counts(&v2, values, rows, packed, &page)?;
                seen = seen.saturating_add(values);
            }
            _ => {} // index pages, unknown types: polars refuses these itself
        }
        pos = data_start + packed as usize;
    }
    Ok(())
}

/// A data page v2's null, row and level counts against its values, the row group's rows
/// and its bytes.
fn check_v2_counts(
    v2: &DataV2,
    values: i64,
    rows: i64,
    packed: i32,
    page: &dyn Fn(String) -> String,
) -> Checked<()> {
    let nulls = v2.num_nulls.unwrap_or(0);
    let page_rows = v2.num_rows.unwrap_or(0);
    let levels =
        i64::from(v2.definition_bytes.unwrap_or(0)) + i64::from(v2.repetition_bytes.unwrap_or(0));
    if nulls < 0 || i64::from(nulls) > values {
        return Err(page(format!(
            "says {nulls} of its {values} values are null"
        )));
    }
    if page_rows < 0 || i64::from(page_rows) > rows {
        return Err(page(format!(
            "says it holds {page_rows} rows (the row group has {rows})"
        )));
    }
    if v2.definition_bytes.unwrap_or(0) < 0
        || v2.repetition_bytes.unwrap_or(0) < 0
        || levels > i64::from(packed)
    {
        return Err(page(format!(
            "says its levels take {levels} of its {packed} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DEMO: &[u8] = include_bytes!("../../../tests/fixtures/formats/demo.parquet");

    #[test]
    fn the_demo_file_passes() {
        assert_eq!(check_pages(DEMO), Ok(()));
    }

    #[test]
    fn a_list_claiming_more_entries_than_bytes_is_refused() {
        // The schema list's length, made 2^31 - 1: polars would reserve 2^31 schema elements.
        let n = DEMO.len();
        let footer_len = u32::from_le_bytes([DEMO[n - 8], DEMO[n - 7], DEMO[n - 6], DEMO[n - 5]]);
        let start = n - 8 - footer_len as usize;
        assert_eq!(&DEMO[start..start + 5], b"\x15\x04\x19\xfc\x10");
        let mut footer = DEMO[start..start + 4].to_vec();
        footer.extend([0xFF, 0xFF, 0xFF, 0xFF, 0x07]);
        footer.extend(&DEMO[start + 5..n - 8]);
        let mut file = DEMO[..start].to_vec();
        file.extend(&footer);
        file.extend((footer.len() as u32).to_le_bytes());
        file.extend(b"PAR1");
        let e = check_pages(&file).unwrap_err();
        assert!(
            e.starts_with("the file's metadata cannot be read: it declares 2147483647"),
            "{e}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Damaged anywhere (pages and footer): a message or a pass, never a panic.
        #[test]
        fn damaged_files_never_panic_the_check(
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)
        ) {
            let mut bytes = DEMO.to_vec();
            for (at, b, kind) in edits {
                let i = at.index(bytes.len());
                match kind {
                    0 => bytes[i] = b,
                    1 => bytes[i] ^= 1 << (b % 8),
                    _ => bytes[i] = [0x00, 0xFF, 0x7F, 0x80, 0x15, 0x19, 0x1C][b as usize % 7],
                }
            }
            let _ = check_pages(&bytes);
        }

        #[test]
        fn random_bytes_never_panic_the_check(
            body in prop::collection::vec(any::<u8>(), 0..600),
            footer_len in 0u32..700
        ) {
            let mut bytes = b"PAR1".to_vec();
            bytes.extend(&body);
            bytes.extend(footer_len.to_le_bytes());
            bytes.extend(b"PAR1");
            let _ = check_pages(&bytes);
        }
    }
}
