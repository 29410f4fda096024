//! A bounded reader of the Thrift compact protocol, enough to read a Parquet footer and page
//! headers without trusting their counts and sizes (see `pages`).

/// A page may decompress to more than its column chunk's total only below this size.
pub(super) const PAGE_SIZE_FLOOR: i64 = 64 << 20;
/// Thrift structs nested deeper than this are refused (polars stops at 64).
pub(super) const MAX_NESTING: u32 = 32;
/// Schemas nested deeper than this are refused (polars builds them recursively).
pub(super) const MAX_SCHEMA_DEPTH: usize = 256;

// Compact-protocol type codes.
pub(super) const STOP: u8 = 0;
pub(super) const TRUE: u8 = 1;
pub(super) const FALSE: u8 = 2;
pub(super) const BYTE: u8 = 3;
pub(super) const I16: u8 = 4;
pub(super) const I32: u8 = 5;
pub(super) const I64: u8 = 6;
pub(super) const DOUBLE: u8 = 7;
pub(super) const BINARY: u8 = 8;
pub(super) const LIST: u8 = 9;
pub(super) const STRUCT: u8 = 12;

/// polars reads the footer and the page headers with two different Thrift readers, which
/// differ in one place: a boolean inside a list takes no byte in the first, one in the second.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Mode {
    Footer,
    Page,
}

/// A struct whose fields polars reads by their declared types (the others it skips).
#[derive(Clone, Copy)]
pub(super) enum Kind {
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
pub(super) enum Want {
    Bool,
    Byte,
    I16,
    I32,
    I64,
    Binary,
    ListOf(u8),
    Struct(Kind),
}

pub(super) fn want(kind: Kind, id: i16) -> Option<Want> {
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

pub(super) type Checked<T> = Result<T, String>;

pub(super) fn type_name(ty: u8) -> &'static str {
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

pub(super) struct Thrift<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
    pub(super) mode: Mode,
}

impl<'a> Thrift<'a> {
    pub(super) fn new(buf: &'a [u8], mode: Mode) -> Self {
        Thrift { buf, pos: 0, mode }
    }

    pub(super) fn left(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(super) fn byte(&mut self) -> Checked<u8> {
        let b = *self.buf.get(self.pos).ok_or("it ends early")?;
        self.pos += 1;
        Ok(b)
    }

    pub(super) fn take(&mut self, n: usize) -> Checked<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or("it ends early")?;
        let bytes = self.buf.get(self.pos..end).ok_or("it ends early")?;
        self.pos = end;
        Ok(bytes)
    }

    /// An unsigned varint of at most `max_bytes` bytes (10 for 64 bits).
    pub(super) fn varint(&mut self, max_bytes: u32) -> Checked<u64> {
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

    pub(super) fn zigzag(&mut self, max_bytes: u32) -> Checked<i64> {
        let u = self.varint(max_bytes)?;
        Ok((u >> 1) as i64 ^ -((u & 1) as i64))
    }

    pub(super) fn i16(&mut self) -> Checked<i16> {
        i16::try_from(self.zigzag(3)?).map_err(|_| "a 16-bit number in it is out of range".into())
    }

    pub(super) fn i32(&mut self) -> Checked<i32> {
        i32::try_from(self.zigzag(5)?).map_err(|_| "a 32-bit number in it is out of range".into())
    }

    pub(super) fn i64(&mut self) -> Checked<i64> {
        self.zigzag(10)
    }

    /// A byte length or an element count: no more than the bytes left.
    pub(super) fn length(&mut self) -> Checked<usize> {
        let n = self.varint(5)?;
        match usize::try_from(n) {
            Ok(n) if n <= self.left() => Ok(n),
            _ => Err(format!(
                "it declares {n} bytes or entries where {} bytes are left",
                self.left()
            )),
        }
    }

    pub(super) fn binary(&mut self) -> Checked<&'a [u8]> {
        let n = self.length()?;
        self.take(n)
    }

    /// The next field's id and wire type; `None` at the struct's end.
    pub(super) fn field(&mut self, last: &mut i16) -> Checked<Option<(i16, u8)>> {
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
    pub(super) fn list(&mut self) -> Checked<(u8, usize)> {
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

    pub(super) fn expect(&self, got: u8, want: u8) -> Checked<()> {
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

    pub(super) fn nest(depth: u32) -> Checked<u32> {
        if depth >= MAX_NESTING {
            Err("it nests too deeply".into())
        } else {
            Ok(depth + 1)
        }
    }

    /// Skips a value by its wire type (a field polars does not read).
    pub(super) fn skip(&mut self, ty: u8, depth: u32) -> Checked<()> {
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

    pub(super) fn skip_element(&mut self, ty: u8, depth: u32) -> Checked<()> {
        if ty == TRUE || ty == FALSE {
            if self.mode == Mode::Page {
                self.byte()?;
            }
            return Ok(());
        }
        self.skip(ty, depth)
    }

    /// Skips a struct, reading the fields polars reads by their declared types.
    pub(super) fn skip_struct(&mut self, kind: Kind, depth: u32) -> Checked<()> {
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
    pub(super) fn skip_as(&mut self, w: Want, ty: u8, depth: u32) -> Checked<()> {
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
    pub(super) fn read_i32(&mut self, ty: u8) -> Checked<i32> {
        self.expect(ty, I32)?;
        self.i32()
    }

    pub(super) fn read_i64(&mut self, ty: u8) -> Checked<i64> {
        self.expect(ty, I64)?;
        self.i64()
    }

    /// A list of structs: its length, each element read by `one`.
    pub(super) fn read_list<T>(
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
