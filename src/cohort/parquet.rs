//! Parquet → [`Cohort`], read with polars. Numeric columns (integers and floats) stay numbers,
//! nulls become missing; every other column is read as text and typed like a CSV column, so
//! that event words and response codes mean the same in every format.
//!
//! Before polars sees the file, [`check_pages`] reads the footer and every page header itself
//! and refuses sizes and counts no writer produces: polars trusts them, and a damaged one can
//! make it ask for more memory than exists, which aborts the process (a panic is caught; an
//! allocation failure is not).

use std::io::Cursor;

use polars::prelude::*;

use super::{build_column, column_names, guard_reader, Cohort, CohortError, Column, ColumnData};

/// Reads a Parquet file given as bytes.
pub fn read_parquet_bytes(file: &str, bytes: Vec<u8>) -> Result<Cohort, CohortError> {
    let fail = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    let frame = guard_reader(file, "Parquet", || {
        check_pages(&bytes).map_err(|e| fail(format!("damaged Parquet file: {e}")))?;
        ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map_err(|e| fail(format!("not a readable Parquet file: {e}")))
    })?;
    let n_rows = frame.height();
    if n_rows == 0 {
        return Err(CohortError::Empty {
            file: file.to_string(),
        });
    }
    let mut warnings = Vec::new();
    let names = column_names(
        file,
        frame
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        &mut warnings,
    )?;
    let mut columns = Vec::with_capacity(names.len());
    for (col, name) in frame.columns().iter().zip(names) {
        let dtype = col.dtype();
        let column = if dtype.is_primitive_numeric() {
            let values = col
                .cast(&DataType::Float64)
                .map_err(|e| fail(format!("column '{name}': {e}")))?;
            let values = values
                .f64()
                .map_err(|e| fail(format!("column '{name}': {e}")))?
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect();
            Column::new(name, ColumnData::Numeric(values))
        } else {
            let text = col.cast(&DataType::String).map_err(|_| {
                fail(format!(
                    "column '{name}': values of type {dtype} cannot be read; store numbers or text"
                ))
            })?;
            let strings = text
                .str()
                .map_err(|e| fail(format!("column '{name}': {e}")))?;
            let cells: Vec<Option<&str>> = strings.iter().collect();
            build_column(name, &cells)
        };
        columns.push(column);
    }
    Ok(Cohort {
        source: file.to_string(),
        n_rows,
        columns,
        warnings,
        read_info: super::ReadInfo {
            kind: super::FileKind::Parquet,
            ..Default::default()
        },
        sheets: Vec::new(),
        sheet_rows: None,
        orders: Default::default(),
    })
}

// ---------------------------------------------------------------------------------------------
// The pre-check: the footer and the page headers, read before polars reads them.
//
// polars-parquet 0.55 takes a data page's `num_values` (an i32) `as usize`: a negative count
// becomes about 2^64, and reserving the validity bitmap for it (`decode_page_validity`) asks
// for 2^61 bytes and aborts. A dictionary page's `num_values` sizes the dictionary
// (`Vec::with_capacity`, times 8 or 16 bytes a value), an `uncompressed_page_size` is the
// buffer a page is decompressed into (zero-filled), and every list in the footer is
// pre-allocated from its declared length. Each is checked here against what the file can hold.
//
// Thrift compact protocol, read defensively: every read is bounds-checked, varints are capped at
// the length their type allows and must fit it, lengths must fit the bytes left, nesting is
// capped. Where polars' own readers would read a field differently (a field of the wrong wire
// type, which polars reads as its declared type anyway), the file is refused, so that what is
// checked here is what polars will use.
// ---------------------------------------------------------------------------------------------

/// A page may decompress to more than its column chunk's total only below this size.
const PAGE_SIZE_FLOOR: i64 = 64 << 20;
/// Thrift structs nested deeper than this are refused (polars stops at 64).
const MAX_NESTING: u32 = 32;
/// Schemas nested deeper than this are refused (polars builds them recursively).
const MAX_SCHEMA_DEPTH: usize = 256;

// Compact-protocol type codes.
const STOP: u8 = 0;
const TRUE: u8 = 1;
const FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const STRUCT: u8 = 12;

/// polars reads the footer and the page headers with two different Thrift readers, which
/// differ in one place: a boolean inside a list takes no byte in the first, one in the second.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Footer,
    Page,
}

/// A struct whose fields polars reads by their declared types (the others it skips).
#[derive(Clone, Copy)]
enum Kind {
    /// No field read: every field skipped by its wire type.
    Any,
    Statistics,
    KeyValue,
    SortingColumn,
    /// ColumnOrder and TimeUnit: unions of empty structs.
    EmptyUnion,
    LogicalType,
    Decimal,
    TimeType,
    IntType,
}

/// How polars reads a field.
#[derive(Clone, Copy)]
enum Want {
    Bool,
    Byte,
    I16,
    I32,
    I64,
    Binary,
    ListOf(u8),
    Struct(Kind),
}

fn want(kind: Kind, id: i16) -> Option<Want> {
    use Want::*;
    Some(match (kind, id) {
        (Kind::Statistics, 1 | 2 | 5 | 6) => Binary,
        (Kind::Statistics, 3 | 4) => I64,
        (Kind::Statistics, 7 | 8) => Bool,
        (Kind::KeyValue, 1 | 2) => Binary,
        (Kind::SortingColumn, 1) => I32,
        (Kind::SortingColumn, 2 | 3) => Bool,
        (Kind::EmptyUnion, 1..=3) => Struct(Kind::Any),
        (Kind::LogicalType, 1..=4 | 6 | 11..=15) => Struct(Kind::Any),
        (Kind::LogicalType, 5) => Struct(Kind::Decimal),
        (Kind::LogicalType, 7 | 8) => Struct(Kind::TimeType),
        (Kind::LogicalType, 10) => Struct(Kind::IntType),
        (Kind::Decimal, 1 | 2) => I32,
        (Kind::TimeType, 1) => Bool,
        (Kind::TimeType, 2) => Struct(Kind::EmptyUnion),
        (Kind::IntType, 1) => Byte,
        (Kind::IntType, 2) => Bool,
        _ => return None,
    })
}

type Checked<T> = Result<T, String>;

fn type_name(ty: u8) -> &'static str {
    match ty {
        TRUE | FALSE => "a boolean",
        BYTE => "a byte",
        I16 => "a 16-bit number",
        I32 => "a 32-bit number",
        I64 => "a 64-bit number",
        DOUBLE => "a double",
        BINARY => "a text",
        LIST => "a list",
        STRUCT => "a struct",
        _ => "a set or map",
    }
}

struct Thrift<'a> {
    buf: &'a [u8],
    pos: usize,
    mode: Mode,
}

impl<'a> Thrift<'a> {
    fn new(buf: &'a [u8], mode: Mode) -> Self {
        Thrift { buf, pos: 0, mode }
    }

    fn left(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn byte(&mut self) -> Checked<u8> {
        let b = *self.buf.get(self.pos).ok_or("it ends early")?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Checked<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or("it ends early")?;
        let bytes = self.buf.get(self.pos..end).ok_or("it ends early")?;
        self.pos = end;
        Ok(bytes)
    }

    /// An unsigned varint of at most `max_bytes` bytes (10 for 64 bits).
    fn varint(&mut self, max_bytes: u32) -> Checked<u64> {
        let mut v = 0u64;
        for i in 0..max_bytes.min(10) {
            let b = self.byte()?;
            if i == 9 && b > 1 {
                break;
            }
            v |= u64::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number in it runs on too long".into())
    }

    fn zigzag(&mut self, max_bytes: u32) -> Checked<i64> {
        let u = self.varint(max_bytes)?;
        Ok((u >> 1) as i64 ^ -((u & 1) as i64))
    }

    fn i16(&mut self) -> Checked<i16> {
        i16::try_from(self.zigzag(3)?).map_err(|_| "a 16-bit number in it is out of range".into())
    }

    fn i32(&mut self) -> Checked<i32> {
        i32::try_from(self.zigzag(5)?).map_err(|_| "a 32-bit number in it is out of range".into())
    }

    fn i64(&mut self) -> Checked<i64> {
        self.zigzag(10)
    }

    /// A byte length or an element count: no more than the bytes left.
    fn length(&mut self) -> Checked<usize> {
        let n = self.varint(5)?;
        match usize::try_from(n) {
            Ok(n) if n <= self.left() => Ok(n),
            _ => Err(format!(
                "it declares {n} bytes or entries where {} bytes are left",
                self.left()
            )),
        }
    }

    fn binary(&mut self) -> Checked<&'a [u8]> {
        let n = self.length()?;
        self.take(n)
    }

    /// The next field's id and wire type; `None` at the struct's end.
    fn field(&mut self, last: &mut i16) -> Checked<Option<(i16, u8)>> {
        let b = self.byte()?;
        let ty = b & 0x0F;
        if ty == STOP {
            return Ok(None);
        }
        if ty > STRUCT {
            return Err(format!("a field has the unknown type {ty}"));
        }
        let delta = b >> 4;
        let id = if delta == 0 {
            self.i16()?
        } else {
            last.checked_add(i16::from(delta))
                .ok_or("its field numbers overflow")?
        };
        *last = id;
        Ok(Some((id, ty)))
    }

    /// A list's element type and length.
    fn list(&mut self) -> Checked<(u8, usize)> {
        let h = self.byte()?;
        let (short, ty) = (h >> 4, h & 0x0F);
        if short == 0 && ty == 0 {
            return Ok((BYTE, 0));
        }
        if !(ty == TRUE || ty == FALSE || (BYTE..=STRUCT).contains(&ty)) || ty == 10 || ty == 11 {
            return Err(format!("a list has the element type {ty}"));
        }
        let n = if short == 15 {
            self.length()?
        } else {
            usize::from(short)
        };
        Ok((ty, n))
    }

    fn expect(&self, got: u8, want: u8) -> Checked<()> {
        let bool_type = |t| t == TRUE || t == FALSE;
        if got == want || (bool_type(got) && bool_type(want)) {
            Ok(())
        } else {
            Err(format!(
                "it holds {} where {} belongs",
                type_name(got),
                type_name(want)
            ))
        }
    }

    fn nest(depth: u32) -> Checked<u32> {
        if depth >= MAX_NESTING {
            Err("it nests too deeply".into())
        } else {
            Ok(depth + 1)
        }
    }

    /// Skips a value by its wire type (a field polars does not read).
    fn skip(&mut self, ty: u8, depth: u32) -> Checked<()> {
        let depth = Self::nest(depth)?;
        match ty {
            TRUE | FALSE => Ok(()),
            BYTE => self.byte().map(drop),
            I16 => self.i16().map(drop),
            I32 => self.i32().map(drop),
            I64 => self.i64().map(drop),
            DOUBLE => self.take(8).map(drop),
            BINARY => self.binary().map(drop),
            LIST => {
                let (elem, n) = self.list()?;
                for _ in 0..n {
                    self.skip_element(elem, depth)?;
                }
                Ok(())
            }
            STRUCT => self.skip_struct(Kind::Any, depth),
            _ => Err(format!(
                "a value has the type {ty}, which has no place here"
            )),
        }
    }

    fn skip_element(&mut self, ty: u8, depth: u32) -> Checked<()> {
        if ty == TRUE || ty == FALSE {
            if self.mode == Mode::Page {
                self.byte()?;
            }
            return Ok(());
        }
        self.skip(ty, depth)
    }

    /// Skips a struct, reading the fields polars reads by their declared types.
    fn skip_struct(&mut self, kind: Kind, depth: u32) -> Checked<()> {
        let depth = Self::nest(depth)?;
        let mut last = 0;
        while let Some((id, ty)) = self.field(&mut last)? {
            match want(kind, id) {
                Some(w) => self.skip_as(w, ty, depth)?,
                None => self.skip(ty, depth)?,
            }
        }
        Ok(())
    }

    /// Skips a field polars reads as `w`, refusing another wire type.
    fn skip_as(&mut self, w: Want, ty: u8, depth: u32) -> Checked<()> {
        match w {
            Want::Bool => self.expect(ty, TRUE),
            Want::Byte => self.expect(ty, BYTE).and_then(|_| self.byte().map(drop)),
            Want::I16 => self.expect(ty, I16).and_then(|_| self.i16().map(drop)),
            Want::I32 => self.expect(ty, I32).and_then(|_| self.i32().map(drop)),
            Want::I64 => self.expect(ty, I64).and_then(|_| self.i64().map(drop)),
            Want::Binary => self
                .expect(ty, BINARY)
                .and_then(|_| self.binary().map(drop)),
            Want::ListOf(elem) => {
                self.expect(ty, LIST)?;
                let (got, n) = self.list()?;
                if n > 0 {
                    self.expect(got, elem)?;
                }
                for _ in 0..n {
                    self.skip_element(got, depth)?;
                }
                Ok(())
            }
            Want::Struct(kind) => {
                self.expect(ty, STRUCT)?;
                self.skip_struct(kind, depth)
            }
        }
    }

    /// Reads an i32 field (refusing another wire type).
    fn read_i32(&mut self, ty: u8) -> Checked<i32> {
        self.expect(ty, I32)?;
        self.i32()
    }

    fn read_i64(&mut self, ty: u8) -> Checked<i64> {
        self.expect(ty, I64)?;
        self.i64()
    }

    /// A list of structs: its length, each element read by `one`.
    fn read_list<T>(
        &mut self,
        ty: u8,
        mut one: impl FnMut(&mut Self) -> Checked<T>,
    ) -> Checked<Vec<T>> {
        self.expect(ty, LIST)?;
        let (elem, n) = self.list()?;
        if n > 0 {
            self.expect(elem, STRUCT)?;
        }
        let mut items = Vec::new();
        for _ in 0..n {
            items.push(one(self)?);
        }
        Ok(items)
    }
}

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
                let nulls = v2.num_nulls.unwrap_or(0);
                let page_rows = v2.num_rows.unwrap_or(0);
                let levels = i64::from(v2.definition_bytes.unwrap_or(0))
                    + i64::from(v2.repetition_bytes.unwrap_or(0));
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
                seen = seen.saturating_add(values);
            }
            _ => {} // index pages, unknown types: polars refuses these itself
        }
        pos = data_start + packed as usize;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DEMO: &[u8] = include_bytes!("../../tests/fixtures/formats/demo.parquet");

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
