//! The report as JSON, as `analyze` prints it and `report` writes `summary.json`: indented
//! like `serde_json`'s pretty printer, except that an array's numbers, strings and other
//! scalars stay on one line (`[3.0, 58809.0]`). A matched pair, a confidence interval or a
//! row of a table then reads as one line, and the 42,670 pairs of a cohort of 100,000 take
//! 42,670 lines, not 170,680 (half the bytes, and half the time to write them). An array
//! whose values are scalars first and then an array or object (the report has none) keeps
//! those first scalars on its opening line and puts the rest on lines of their own. The
//! JSON is the same value either way; only the spaces and line ends differ. `analyze` writes
//! its report with [`report_to_writer`]: the same text, the matched pairs written side by
//! side.

use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

use crate::analysis::Report;
use crate::cohort::PatientId;

/// Writes `value` as JSON to `out` (no final line end).
pub fn to_writer<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, ReportFormatter::default());
    value.serialize(&mut ser)
}

/// Matched pairs per piece written side by side by [`report_to_writer`].
const PAIRS_PER_PIECE: usize = 2048;

/// The report as [`to_writer`] writes it, to the byte, with its matched pairs (three
/// quarters of the text at 100,000 patients) written side by side on rayon's threads: the
/// report is written without its pairs, and their lines go where the empty list stands.
/// The pairs are taken out of `report` meanwhile and put back.
pub fn report_to_writer<W: Write>(mut out: W, report: &mut Report) -> serde_json::Result<()> {
    let Some(pairs) = report
        .matching
        .as_mut()
        .map(|m| std::mem::take(&mut m.pairs))
    else {
        return to_writer(out, &*report);
    };
    let mut text = Vec::with_capacity(64 << 10);
    let written = to_writer(&mut text, &*report);
    let no_pairs = pairs.is_empty();
    // Where the pairs go in the text, and their lines.
    let placed = (written.is_ok() && !no_pairs)
        .then(|| empty_pairs_at(&text))
        .flatten()
        .map(|at| {
            let pieces = pairs
                .par_chunks(PAIRS_PER_PIECE)
                .enumerate()
                .map(|(k, chunk)| pair_lines(chunk, k == 0))
                .collect::<serde_json::Result<Vec<Vec<u8>>>>();
            (at, pieces)
        });
    if let Some(m) = report.matching.as_mut() {
        m.pairs = pairs;
    }
    written?;
    let io = serde_json::Error::io;
    if no_pairs {
        // Nothing taken out: the text is the report's.
        return out.write_all(&text).map_err(io);
    }
    let Some((at, pieces)) = placed else {
        return to_writer(out, &*report);
    };
    let pieces = pieces?;
    // `at` is the empty list's '[': its ']' follows, on a line of its own.
    out.write_all(&text[..=at]).map_err(io)?;
    for piece in &pieces {
        out.write_all(piece).map_err(io)?;
    }
    ReportFormatter::new_line(&mut out, PAIRS_DEPTH - 1).map_err(io)?;
    out.write_all(&text[at + 1..]).map_err(io)
}

/// The depth of the matched pairs' lines: in the report, its matching, the list of pairs.
const PAIRS_DEPTH: usize = 3;

/// Where the matching's empty list of pairs opens in a report's text (its '['): the matching
/// is a field of the report, its pairs a field of the matching (no other key sits at their
/// depths under those names).
fn empty_pairs_at(text: &[u8]) -> Option<usize> {
    let find = |from: usize, what: &[u8]| {
        text.get(from..)?
            .windows(what.len())
            .position(|w| w == what)
            .map(|k| from + k)
    };
    let line = |depth: usize, rest: &[u8]| [b"\n".as_slice(), &INDENT.repeat(depth), rest].concat();
    let matching = find(0, &line(PAIRS_DEPTH - 2, b"\"matching\": {"))?;
    let key = line(PAIRS_DEPTH - 1, b"\"pairs\": []");
    Some(find(matching, &key)? + key.len() - 2)
}

/// The lines of `pairs` inside the pairs' list (each on a line of its own, as [`to_writer`]
/// puts them), the first one `first` in the list.
fn pair_lines(pairs: &[(PatientId, PatientId)], first: bool) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(pairs.len() * 24);
    for (k, pair) in pairs.iter().enumerate() {
        if !(first && k == 0) {
            out.push(b',');
        }
        ReportFormatter::new_line(&mut out, PAIRS_DEPTH).map_err(serde_json::Error::io)?;
        // A pair is an array of scalars: one line, whatever its depth. Identifiers that are
        // whole numbers (row numbers, most files' ids) are written directly, as serde_json
        // writes them; any other pair through serde_json.
        match pair {
            (PatientId::Number(a), PatientId::Number(b))
                if is_plain_whole(*a) && is_plain_whole(*b) =>
            {
                out.push(b'[');
                push_whole(&mut out, *a);
                out.extend_from_slice(b", ");
                push_whole(&mut out, *b);
                out.push(b']');
            }
            _ => to_writer(&mut out, pair)?,
        }
    }
    Ok(out)
}

/// A whole number from 0 to 10^15 (exclusive), which serde_json writes as its digits and
/// ".0" (`58809.0`); -0 is written "-0.0", so it is not one.
fn is_plain_whole(v: f64) -> bool {
    (0.0..1e15).contains(&v) && v.fract() == 0.0 && v.is_sign_positive()
}

/// Writes a [`is_plain_whole`] number as serde_json does: its digits (serde_json's own
/// integer writer), then ".0".
fn push_whole(out: &mut Vec<u8>, v: f64) {
    // Writing to a vector cannot fail.
    let _ = CompactFormatter.write_u64(out, v as u64);
    out.extend_from_slice(b".0");
}

/// `value` as JSON text.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(4096);
    to_writer(&mut out, value)?;
    // serde_json writes UTF-8 only.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// An open array or object.
struct Open {
    array: bool,
    /// Its values are on lines of their own: an object always, an array from its first
    /// value that is an array or object.
    lines: bool,
    /// It has a value (or, an object, a key).
    any: bool,
}

#[derive(Default)]
struct ReportFormatter {
    open: Vec<Open>,
    /// An array's next value is coming (`Some(first)`); the separator before it is written
    /// once it is known whether the value is a scalar or an array/object.
    pending: Option<bool>,
}

const INDENT: &[u8] = b"  ";

impl ReportFormatter {
    fn new_line<W: ?Sized + Write>(out: &mut W, depth: usize) -> io::Result<()> {
        out.write_all(b"\n")?;
        for _ in 0..depth {
            out.write_all(INDENT)?;
        }
        Ok(())
    }

    /// What goes before a value: in an array, the separator, and a new line unless the
    /// array's values so far are all scalars and this is one too.
    fn before<W: ?Sized + Write>(&mut self, out: &mut W, container: bool) -> io::Result<()> {
        let Some(first) = self.pending.take() else {
            return Ok(());
        };
        let depth = self.open.len();
        let Some(array) = self.open.last_mut() else {
            return Ok(());
        };
        array.any = true;
        array.lines |= container;
        if !first {
            out.write_all(b",")?;
        }
        if array.lines {
            Self::new_line(out, depth)
        } else if first {
            Ok(())
        } else {
            out.write_all(b" ")
        }
    }

    fn begin<W: ?Sized + Write>(&mut self, out: &mut W, array: bool) -> io::Result<()> {
        self.before(out, true)?;
        self.open.push(Open {
            array,
            lines: !array,
            any: false,
        });
        out.write_all(if array { b"[" } else { b"{" })
    }

    fn end<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        let Some(closed) = self.open.pop() else {
            return Ok(());
        };
        if closed.lines && closed.any {
            Self::new_line(out, self.open.len())?;
        }
        out.write_all(if closed.array { b"]" } else { b"}" })
    }
}

/// The scalar writers: the separator, then the value as serde_json's compact form writes it.
macro_rules! scalars {
    ($($name:ident($t:ty)),* $(,)?) => {
        $(
            fn $name<W: ?Sized + Write>(&mut self, out: &mut W, value: $t) -> io::Result<()> {
                self.before(out, false)?;
                CompactFormatter.$name(out, value)
            }
        )*
    };
}

impl Formatter for ReportFormatter {
    scalars!(
        write_bool(bool),
        write_i8(i8),
        write_i16(i16),
        write_i32(i32),
        write_i64(i64),
        write_i128(i128),
        write_u8(u8),
        write_u16(u16),
        write_u32(u32),
        write_u64(u64),
        write_u128(u128),
        write_f32(f32),
        write_f64(f64),
        write_number_str(&str),
        write_raw_fragment(&str),
    );

    fn write_null<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.before(out, false)?;
        CompactFormatter.write_null(out)
    }

    fn begin_string<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.before(out, false)?;
        CompactFormatter.begin_string(out)
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        out: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        CompactFormatter.write_string_fragment(out, fragment)
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        out: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        CompactFormatter.write_char_escape(out, escape)
    }

    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.begin(out, true)
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.end(out)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, _: &mut W, first: bool) -> io::Result<()> {
        self.pending = Some(first);
        Ok(())
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.begin(out, false)
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.end(out)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        if let Some(object) = self.open.last_mut() {
            object.any = true;
        }
        if !first {
            out.write_all(b",")?;
        }
        Self::new_line(out, self.open.len())
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Arrays of scalars on one line, everything else as serde_json's pretty printer lays it
    /// out, exactly.
    #[test]
    fn scalar_arrays_stay_on_one_line() {
        let v = json!({
            "pairs": [[3.0, 58809.0], [5.0, 1172.0]],
            "ci": [0.5, null, "a \"b\"", true, -2],
            "empty": [],
            "none": {},
            "nested": [[], [[1]], {"k": [1, {"x": 2}, 3]}],
            "text": "é\n"
        });
        let printed = to_string(&v).unwrap();
        let expected = r#"{
  "ci": [0.5, null, "a \"b\"", true, -2],
  "empty": [],
  "nested": [
    [],
    [
      [1]
    ],
    {
      "k": [1,
        {
          "x": 2
        },
        3
      ]
    }
  ],
  "none": {},
  "pairs": [
    [3.0, 58809.0],
    [5.0, 1172.0]
  ],
  "text": "é\n"
}"#;
        assert_eq!(printed, expected);
        let back: Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(back, v);
    }

    /// Without arrays the text is serde_json's pretty text, byte for byte.
    #[test]
    fn objects_print_as_serde_json_prints_them() {
        let v = json!({"a": 1, "b": {"c": null, "d": {"e": "f"}}, "g": {}, "h": 1.5e300});
        assert_eq!(
            to_string(&v).unwrap(),
            serde_json::to_string_pretty(&v).unwrap()
        );
    }

    /// Pairs of whole numbers written directly are what serde_json writes for them: numbers
    /// around every power of ten up to and past 10^15, random ones, -0, fractions and text.
    #[test]
    fn pair_lines_are_serde_jsons() {
        let mut values = vec![0.0, -0.0, 1.0, 0.5, -3.0, 1e15, 1e15 - 1.0, 1e16, 2.5e-7];
        for e in 0..17 {
            let p = 10f64.powi(e);
            values.extend([p - 1.0, p, p + 1.0]);
        }
        let mut rng = crate::rng::SplitMix64::new(31);
        for _ in 0..2000 {
            let scale = 10f64.powi(rng.below(17) as i32);
            values.push((rng.next_f64() * scale).floor());
        }
        let id = |v: f64, k: usize| match k % 11 {
            0 => PatientId::Text(format!("P-{v}")),
            _ => PatientId::Number(v),
        };
        let pairs: Vec<(PatientId, PatientId)> = values
            .iter()
            .enumerate()
            .map(|(k, &v)| (id(v, k), id(values[(k * 7) % values.len()], k + 1)))
            .collect();
        for first in [true, false] {
            let mut want = Vec::new();
            for (k, pair) in pairs.iter().enumerate() {
                if !(first && k == 0) {
                    want.push(b',');
                }
                ReportFormatter::new_line(&mut want, PAIRS_DEPTH).unwrap();
                to_writer(&mut want, pair).unwrap();
            }
            let got = pair_lines(&pairs, first).unwrap();
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
        let whole = |id: &PatientId| matches!(id, PatientId::Number(v) if is_plain_whole(*v));
        let direct = pairs.iter().filter(|(a, b)| whole(a) && whole(b)).count();
        assert!(direct > 1000, "{direct} pairs written directly");
    }
}
