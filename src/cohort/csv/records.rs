//! The records: the csv crate's tokenizer (`csv-core`: RFC 4180 quoting, `""` inside quotes)
//! splits the text into fields, unquoted, stored one after another per stretch of the text.
//! A stretch without a quote is split in place instead ([`super::plain`]): its fields are the
//! text's bytes between separators, which is what the tokenizer gives for such text.
//!
//! A large text is cut at line ends into stretches that are read side by side (rayon). A cut
//! may fall inside a quoted field that spans lines; so a stretch's records are kept only when
//! the stretch starts exactly where the records before it ended, else it is read again from
//! there. The records, and so the cohort, are the same whatever the number of threads and
//! wherever the cuts fall: a reader of the records reads on as one reader that began at the
//! header would (a byte order mark inside the text is text, not skipped as at a file's start).

use std::borrow::Cow;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder, Terminator};
use rayon::prelude::*;

use super::sniff::is_decimal_comma_number;

/// Stretches of the text read side by side are about this long.
const STRETCH_BYTES: usize = 1 << 20;

/// The fields of consecutive records, unquoted, one after another.
pub(super) struct Fields<'t> {
    /// Where reading began (a record's start) and where it ended (after the last record).
    pub start: usize,
    pub end: usize,
    /// Fields' bytes, unquoted, concatenated; or, split in place, the stretch's text.
    pub bytes: Cow<'t, [u8]>,
    /// End of each field in `bytes`, `width` per record.
    pub ends: Vec<u32>,
    /// Split in place: where each record starts in `bytes` (a field after the first starts
    /// just past the separator that ends the one before). Empty when the fields were copied.
    pub starts: Vec<u32>,
    pub n_records: usize,
    /// A field written with a decimal comma was seen (checked only when asked, once the
    /// records are read: [`Fields::has_decimal_comma`]).
    pub decimal_comma: bool,
    /// The first thing that stopped the reading.
    pub problem: Option<Problem>,
}

impl Fields<'_> {
    /// The bytes of field `column` of record `record` (both from 0).
    #[inline]
    pub fn field(&self, record: usize, column: usize, width: usize) -> &[u8] {
        let k = record * width + column;
        let from = if self.starts.is_empty() {
            if k == 0 {
                0
            } else {
                self.ends[k - 1] as usize
            }
        } else if column == 0 {
            self.starts[record] as usize
        } else {
            self.ends[k - 1] as usize + 1
        };
        &self.bytes[from..self.ends[k] as usize]
    }

    /// A field written with a decimal comma ("3,5") among the records.
    pub fn has_decimal_comma(&self, width: usize) -> bool {
        (0..self.n_records)
            .any(|r| (0..width).any(|c| is_decimal_comma_number(self.field(r, c, width))))
    }
}

/// Why the records cannot be read as a table; offsets are bytes of the text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Problem {
    /// The record starting at `at` has `fields` fields, not the header's number.
    Ragged { at: usize, fields: usize },
    /// The quote at `at` is never closed.
    Unterminated { at: usize },
    /// A record longer than 4 GiB.
    TooLong { at: usize },
}

/// Reads one record at a time from a position of the text.
pub(super) struct Records<'t> {
    text: &'t [u8],
    pub pos: usize,
    core: Reader,
    ends: Vec<usize>,
}

impl<'t> Records<'t> {
    pub fn new(text: &'t [u8], pos: usize, separator: u8) -> Records<'t> {
        let core = ReaderBuilder::new()
            .delimiter(separator)
            // Lines end at '\n'; a '\r' before it is trimmed with the field's spaces.
            .terminator(Terminator::Any(b'\n'))
            .build();
        Records {
            text,
            pos,
            core,
            ends: vec![0; 64],
        }
    }

    /// A reader at `pos`, a record's start after the header, reading on as the reader that
    /// read the header would: one that has read a line end. (A fresh tokenizer skips a byte
    /// order mark where it begins, which only the file's start may have.)
    pub fn after_header(text: &'t [u8], pos: usize, separator: u8) -> Records<'t> {
        let mut records = Records::new(text, pos, separator);
        // An empty line, skipped: nothing is written, the state stays "at a record's start".
        let (mut out, mut ends) = ([0u8; 1], [0usize; 1]);
        let _ = records.core.read_record(b"\n", &mut out, &mut ends);
        records
    }

    /// Appends the next record's fields to `out[*used..]` (grown as needed) and returns how
    /// many there are (their ends: [`Records::ends`]); `None` at the end of the text. Empty
    /// lines are skipped.
    pub fn next(&mut self, out: &mut Vec<u8>, used: &mut usize) -> Option<usize> {
        let mut n_ends = 0;
        loop {
            if out.len() <= *used {
                out.resize((2 * out.len()).max(*used + 4096), 0);
            }
            if self.ends.len() <= n_ends {
                self.ends.resize(2 * self.ends.len(), 0);
            }
            let input = self.text.get(self.pos..).unwrap_or_default();
            let (result, n_in, n_out, n_end) =
                self.core
                    .read_record(input, &mut out[*used..], &mut self.ends[n_ends..]);
            self.pos += n_in;
            *used += n_out;
            n_ends += n_end;
            match result {
                ReadRecordResult::Record => return Some(n_ends),
                ReadRecordResult::End => return None,
                ReadRecordResult::InputEmpty
                | ReadRecordResult::OutputFull
                | ReadRecordResult::OutputEndsFull => {}
            }
        }
    }

    /// The ends of the last record's `n` fields in `out`, from where it was appended.
    pub fn ends(&self, n: usize) -> &[usize] {
        &self.ends[..n]
    }
}

/// The offset in `raw` (a record's text up to the end of the file) of a quote that is never
/// closed, following the tokenizer's rules: a quote opens a field only as its first byte, and
/// inside it `""` is a quote.
pub(super) fn unclosed_quote(raw: &[u8], separator: u8) -> Option<usize> {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Field,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut opened = 0;
    for (i, &b) in raw.iter().enumerate() {
        let boundary = b == separator || b == b'\n';
        state = match state {
            State::FieldStart if b == b'"' => {
                opened = i;
                State::Quoted
            }
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            _ if boundary => State::FieldStart,
            _ => State::Field,
        };
    }
    (state == State::Quoted).then_some(opened)
}

/// A record whose line holds nothing but spaces (skipped, not a row of missing values).
pub(super) fn is_blank(fields: &[u8], raw: &[u8]) -> bool {
    fields.iter().all(|&b| b.is_ascii_whitespace() || b >= 0x80)
        && std::str::from_utf8(raw).is_ok_and(|s| s.trim().is_empty())
}

/// Reads the records from `start` (a record's start) until one ends at or after `stop`, each
/// of `width` fields; stops at the first problem. Text without quotes is split in place
/// ([`super::plain::read_plain`]); it may stop at `stop`'s line end where the tokenizer
/// would go on past empty lines, which the caller's "read again from where the last one
/// ended" absorbs.
fn read_stretch(
    text: &[u8],
    start: usize,
    stop: usize,
    separator: u8,
    width: usize,
    check_decimal_comma: bool,
) -> Fields<'_> {
    let mut fields = super::plain::read_plain(text, start, stop, separator, width)
        .unwrap_or_else(|| read_tokenized(text, start, stop, separator, width));
    fields.decimal_comma = check_decimal_comma && fields.has_decimal_comma(width);
    fields
}

/// [`read_stretch`] by the csv crate's tokenizer, the fields copied out unquoted.
pub(super) fn read_tokenized(
    text: &[u8],
    start: usize,
    stop: usize,
    separator: u8,
    width: usize,
) -> Fields<'_> {
    let mut records = Records::after_header(text, start, separator);
    let mut out = vec![0u8; (stop.saturating_sub(start) + 4096).min(text.len() + 4096)];
    let mut used = 0;
    let mut fields = Fields {
        start,
        end: start,
        bytes: Cow::Borrowed(&[]),
        ends: Vec::with_capacity(
            (width * (stop.saturating_sub(start) / 32 + 1)).min(stop.saturating_sub(start) + 1),
        ),
        starts: Vec::new(),
        n_records: 0,
        decimal_comma: false,
        problem: None,
    };
    while records.pos < stop {
        let begin = records.pos;
        let base = used;
        let Some(n) = records.next(&mut out, &mut used) else {
            break;
        };
        let ends = records.ends(n);
        let raw = &text[begin..records.pos];
        if is_blank(&out[base..used], raw) {
            used = base;
            fields.end = records.pos;
            continue;
        }
        // Where the record's first line starts (empty lines before it were skipped).
        let at = begin + raw.iter().take_while(|&&b| b == b'\n').count();
        if records.pos == text.len() {
            if let Some(q) = unclosed_quote(raw, separator) {
                fields.problem = Some(Problem::Unterminated { at: begin + q });
                break;
            }
        }
        if ends.len() != width {
            fields.problem = Some(Problem::Ragged {
                at,
                fields: ends.len(),
            });
            break;
        }
        let Ok(top) = u32::try_from(used) else {
            fields.problem = Some(Problem::TooLong { at });
            break;
        };
        // Every end is at most `used`, which fits.
        fields
            .ends
            .extend(ends.iter().map(|&e| (base + e).min(top as usize) as u32));
        fields.n_records += 1;
        fields.end = records.pos;
    }
    out.truncate(used);
    fields.bytes = Cow::Owned(out);
    fields
}

/// Every record from `start` to the end of the text, each of `width` fields, in stretches in
/// text order; the reading stops at the first problem, which the last stretch holds.
pub(super) fn read_records(
    text: &[u8],
    start: usize,
    separator: u8,
    width: usize,
    check_decimal_comma: bool,
) -> Vec<Fields<'_>> {
    // Cuts just after a line end.
    let mut cuts = vec![start];
    let mut at = start + STRETCH_BYTES;
    while at < text.len() {
        let Some(nl) = text[at..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let cut = at + nl + 1;
        if cut < text.len() {
            cuts.push(cut);
        }
        at = cut + STRETCH_BYTES;
    }
    cuts.push(text.len());
    let read = |&(from, to): &(usize, usize)| {
        read_stretch(text, from, to, separator, width, check_decimal_comma)
    };
    let spans: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    let stretches: Vec<Fields> = if spans.len() > 1 {
        spans.par_iter().map(read).collect()
    } else {
        spans.iter().map(read).collect()
    };
    // Keep a stretch only where the one before it ended; read again from there otherwise.
    let mut kept: Vec<Fields> = Vec::with_capacity(stretches.len());
    let mut pos = start;
    for (stretch, &(_, to)) in stretches.into_iter().zip(&spans) {
        if to <= pos {
            continue; // read already, by a record that ran past it
        }
        let stretch = if stretch.start == pos {
            stretch
        } else {
            read(&(pos, to))
        };
        pos = stretch.end;
        let stop = stretch.problem.is_some();
        kept.push(stretch);
        if stop {
            break;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, width: usize) -> (Vec<Vec<String>>, Option<Problem>) {
        let mut all = Vec::new();
        let mut problem = None;
        for f in read_records(text.as_bytes(), 0, b',', width, false) {
            for r in 0..f.n_records {
                all.push(
                    (0..width)
                        .map(|c| String::from_utf8_lossy(f.field(r, c, width)).into_owned())
                        .collect(),
                );
            }
            problem = problem.or(f.problem);
        }
        (all, problem)
    }

    #[test]
    fn quotes_blank_lines_and_problems() {
        let (r, p) = rows("a,\"b,\"\"c\"\"\nd\"\n\n  \r\ne,f\r\n", 2);
        assert_eq!(p, None);
        assert_eq!(r, vec![vec!["a", "b,\"c\"\nd"], vec!["e", "f\r"]]);
        assert_eq!(
            rows("a,b\nc,d,e\n", 2).1,
            Some(Problem::Ragged { at: 4, fields: 3 })
        );
        assert_eq!(
            rows("a,b\nc,\"d\n", 2).1,
            Some(Problem::Unterminated { at: 6 })
        );
        assert_eq!(unclosed_quote(b"x\"y,\"z\"\"", b','), Some(4));
        assert_eq!(unclosed_quote(b"\"z\"\"\"", b','), None);
    }

    #[test]
    fn a_byte_order_mark_inside_the_text_is_read_wherever_the_cuts_fall() {
        // A cut just after an empty line: the first stretch's tokenizer reads on past it
        // (the record after the empty line), and the next stretch is read again from there
        // — at a line that starts with a byte order mark. One reader over the whole text
        // keeps the mark as text; so must the stretches, with quotes or without.
        for quote in ["\"", ""] {
            let mut text = String::new();
            let mut i = 0;
            while text.len() < STRETCH_BYTES - 20 {
                text.push_str(&format!("{i},{quote}x{quote}\n"));
                i += 1;
            }
            // The last row padded so that the empty line's '\n' is the cut's search start.
            let pad = "y".repeat(STRETCH_BYTES - text.len() - 3 - 2 * quote.len());
            text.push_str(&format!("0,{quote}{pad}{quote}\n"));
            assert_eq!(text.len(), STRETCH_BYTES);
            text.push_str("\n7,x\n\u{feff}5,x\n");
            for j in 0..1000 {
                text.push_str(&format!("{j},{quote}z{quote}\n"));
            }
            let one = read_tokenized(text.as_bytes(), 0, text.len(), b',', 2);
            let (records, problem) = rows(&text, 2);
            assert_eq!(problem, None);
            assert_eq!(records.len(), one.n_records);
            for (r, record) in records.iter().enumerate() {
                assert_eq!(record[0].as_bytes(), one.field(r, 0, 2), "row {r}");
            }
            let marked = records
                .iter()
                .filter(|r| r[0].starts_with('\u{feff}'))
                .count();
            assert_eq!(marked, 1, "quote {quote:?}");
        }
    }

    #[test]
    fn a_very_wide_file_asks_for_room_by_its_length() {
        // 300,000 empty columns: room for a field per 32 bytes of each was 45 GB (an abort).
        let width = 300_000;
        let row = format!("{}\n", ",".repeat(width - 1));
        for quote in ["", "\"\""] {
            let text = format!("{quote}{row}{row}{row}");
            let (records, problem) = rows(&text, width);
            assert_eq!(problem, None);
            assert_eq!(records.len(), 3);
        }
    }

    #[test]
    fn stretches_read_side_by_side_give_the_records_read_in_one() {
        // Quoted fields spanning the cuts: every stretch but the first starts inside quotes.
        let mut text = String::new();
        for i in 0..120_000 {
            text.push_str(&format!("{i},\"x\n{i}\"\n"));
        }
        let (r, p) = rows(&text, 2);
        assert_eq!(p, None);
        assert_eq!(r.len(), 120_000);
        assert_eq!(
            r[119_999],
            vec!["119999".to_string(), "x\n119999".to_string()]
        );
    }
}
