//! The records: the csv crate's tokenizer (`csv-core`: RFC 4180 quoting, `""` inside quotes)
//! splits the text into fields, unquoted, stored one after another per stretch of the text.
//! A stretch without a quote is split in place instead: its fields are the text's bytes
//! between separators, which is what the tokenizer gives for such text, without the copy.
//!
//! A large text is cut at line ends into stretches that are read side by side (rayon). A cut
//! may fall inside a quoted field that spans lines; so a stretch's records are kept only when
//! the stretch starts exactly where the records before it ended, else it is read again from
//! there. The records, and so the cohort, are the same whatever the number of threads.

use std::borrow::Cow;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder, Terminator};
use rayon::prelude::*;

use super::sniff::is_decimal_comma_number;

/// Stretches of the text read side by side are about this long.
const STRETCH_BYTES: usize = 1 << 20;

/// The fields of consecutive records, unquoted, one after another.
pub(super) struct Fields<'t> {
    /// Where reading began (a record's start) and where it ended (after the last record).
    start: usize,
    pub end: usize,
    /// Fields' bytes, unquoted, concatenated; or, split in place, the stretch's text.
    pub bytes: Cow<'t, [u8]>,
    /// End of each field in `bytes`, `width` per record.
    pub ends: Vec<u32>,
    /// Split in place: where each record starts in `bytes` (a field after the first starts
    /// just past the separator that ends the one before). Empty when the fields were copied.
    pub starts: Vec<u32>,
    pub n_records: usize,
    /// A field written with a decimal comma was seen (checked only when asked).
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
fn is_blank(fields: &[u8], raw: &[u8]) -> bool {
    fields.iter().all(|&b| b.is_ascii_whitespace() || b >= 0x80)
        && std::str::from_utf8(raw).is_ok_and(|s| s.trim().is_empty())
}

/// Reads the records from `start` (a record's start) until one ends at or after `stop`, each
/// of `width` fields; stops at the first problem. Text without quotes is split in place
/// ([`read_plain`]); it may stop at `stop`'s line end where the tokenizer would go on past
/// empty lines, which the caller's "read again from where the last one ended" absorbs.
fn read_stretch(
    text: &[u8],
    start: usize,
    stop: usize,
    separator: u8,
    width: usize,
    check_decimal_comma: bool,
) -> Fields<'_> {
    if let Some(fields) = read_plain(text, start, stop, separator, width, check_decimal_comma) {
        return fields;
    }
    read_tokenized(text, start, stop, separator, width, check_decimal_comma)
}

/// A UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// [`read_stretch`] for text from `start` to the end of `stop`'s line with no quote, nor a
/// byte order mark at `start` (which a fresh tokenizer would skip): records are lines (empty
/// ones skipped), fields the bytes between separators — the tokenizer's reading of such
/// text, split in place. `None` for any other text.
fn read_plain(
    text: &[u8],
    start: usize,
    stop: usize,
    separator: u8,
    width: usize,
    check_decimal_comma: bool,
) -> Option<Fields<'_>> {
    let stop = stop.min(text.len());
    // The whole line `stop` falls in.
    let end_of_line = match stop.checked_sub(1).map(|i| text[i]) {
        None | Some(b'\n') => stop,
        Some(_) => text[stop..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |k| stop + k + 1),
    };
    let region = text.get(start..end_of_line)?;
    if region.contains(&b'"') || region.starts_with(BOM) || u32::try_from(region.len()).is_err() {
        return None;
    }
    let mut fields = Fields {
        start,
        end: start,
        bytes: Cow::Borrowed(region),
        ends: Vec::with_capacity(width * (region.len() / 32 + 1)),
        starts: Vec::with_capacity(region.len() / 32 + 1),
        n_records: 0,
        decimal_comma: false,
        problem: None,
    };
    let stop = stop - start;
    let mut pos = 0;
    while pos < stop {
        let begin = pos;
        pos += region[pos..].iter().take_while(|&&b| b == b'\n').count();
        if pos == region.len() {
            break; // empty lines only: no record here
        }
        let line = pos;
        let n_before = fields.ends.len();
        pos = push_separators(region, pos, separator, &mut fields.ends);
        fields.ends.push(pos as u32);
        let line_end = pos;
        pos = (pos + 1).min(region.len());
        let n = fields.ends.len() - n_before;
        if is_blank(&region[line..line_end], &region[begin..pos]) {
            fields.ends.truncate(n_before);
            fields.end = start + pos;
            continue;
        }
        if n != width {
            fields.ends.truncate(n_before);
            fields.problem = Some(Problem::Ragged {
                at: start + line,
                fields: n,
            });
            break;
        }
        fields.starts.push(line as u32);
        if check_decimal_comma && !fields.decimal_comma {
            let mut from = line;
            for &e in &fields.ends[n_before..] {
                fields.decimal_comma |= is_decimal_comma_number(&region[from..e as usize]);
                from = e as usize + 1;
            }
        }
        fields.n_records += 1;
        fields.end = start + pos;
    }
    Some(fields)
}

/// Pushes onto `ends` the position of each `separator` from `pos` to the line's end, and
/// returns where the line ends (its '\n', or the end of `text`). Eight bytes at a time: a
/// word's bytes equal to the separator or '\n' are found together, exactly, and taken in
/// order.
fn push_separators(text: &[u8], mut pos: usize, separator: u8, ends: &mut Vec<u32>) -> usize {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    // The high bit of each byte of `v` that is zero (and no other bit).
    let zero_bytes = |v: u64| !(((v & LOW7) + LOW7) | v | LOW7);
    let (sep, newline) = (
        u64::from_le_bytes([separator; 8]),
        u64::from_le_bytes([b'\n'; 8]),
    );
    while let Some(word) = text.get(pos..pos + 8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let mut found = zero_bytes(w ^ sep) | zero_bytes(w ^ newline);
        while found != 0 {
            let at = pos + (found.trailing_zeros() / 8) as usize;
            if text[at] == b'\n' {
                return at;
            }
            ends.push(at as u32);
            found &= found - 1;
        }
        pos += 8;
    }
    while pos < text.len() && text[pos] != b'\n' {
        if text[pos] == separator {
            ends.push(pos as u32);
        }
        pos += 1;
    }
    pos
}

/// [`read_stretch`] by the csv crate's tokenizer, the fields copied out unquoted.
fn read_tokenized(
    text: &[u8],
    start: usize,
    stop: usize,
    separator: u8,
    width: usize,
    check_decimal_comma: bool,
) -> Fields<'_> {
    let mut records = Records::new(text, start, separator);
    let mut out = vec![0u8; (stop.saturating_sub(start) + 4096).min(text.len() + 4096)];
    let mut used = 0;
    let mut fields = Fields {
        start,
        end: start,
        bytes: Cow::Borrowed(&[]),
        ends: Vec::with_capacity(width * (stop.saturating_sub(start) / 32 + 1)),
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
        if check_decimal_comma && !fields.decimal_comma {
            let mut from = base;
            for &e in ends {
                fields.decimal_comma |= is_decimal_comma_number(&out[from..base + e]);
                from = base + e;
            }
        }
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
    // Cuts just after a line end; never before a byte order mark, which a fresh tokenizer
    // would skip.
    let mut cuts = vec![start];
    let mut at = start + STRETCH_BYTES;
    while at < text.len() {
        let Some(nl) = text[at..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let cut = at + nl + 1;
        if cut < text.len() && !text[cut..].starts_with(BOM) {
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

    /// Every record's fields, the problem, the decimal-comma flag and where reading ended.
    fn summary(f: &Fields, width: usize) -> (Vec<Vec<Vec<u8>>>, Option<Problem>, bool, usize) {
        let records = (0..f.n_records)
            .map(|r| (0..width).map(|c| f.field(r, c, width).to_vec()).collect())
            .collect();
        (records, f.problem, f.decimal_comma, f.end)
    }

    #[test]
    fn text_without_quotes_split_in_place_is_what_the_tokenizer_reads() {
        // Random lines of random cells: numbers with decimal commas, spaces, tabs, CR,
        // non-ASCII letters and Unicode spaces, blank and empty lines, ragged lines.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        // "¬", "»", "É" and "Ê" end in the bytes ',', ';', '\t' and '\n' with the high bit
        // set (0xAC, 0xBB, 0x89, 0x8A): the word-at-a-time search must not take them.
        let cells = [
            "1", "2,5", "a", "", " ", "\t", "NA", "é", "\u{a0}", "x\r", "3.25", "¬", "»É", "Ê",
        ];
        let mut plain_used = 0;
        for case in 0..3000 {
            let width = 1 + next(3) as usize;
            let separator = [b',', b';', b'\t'][next(3) as usize];
            let mut text = String::new();
            for _ in 0..next(12) {
                let n = match next(12) {
                    0 => 0,
                    1 => width + 1,
                    _ => width,
                };
                let line: Vec<&str> = (0..n)
                    .map(|_| cells[next(cells.len() as u64) as usize])
                    .collect();
                text.push_str(&line.join(&(separator as char).to_string()));
                if next(8) != 0 || case % 2 == 0 {
                    text.push('\n');
                }
            }
            let text = text.as_bytes();
            // Stops at line ends (as the stretches' cuts are), in the middle of a line, and
            // the end of the text; the whole text's `end` must agree too.
            let mut stops = vec![text.len(), next(text.len() as u64 + 1) as usize];
            stops.extend(text.iter().positions_of_newlines().take(2));
            for stop in stops {
                let plain = read_plain(text, 0, stop, separator, width, true).unwrap();
                let tokenized = read_tokenized(text, 0, stop, separator, width, true);
                let (a, b) = (summary(&plain, width), summary(&tokenized, width));
                plain_used += 1;
                if stop == text.len() {
                    assert_eq!(a, b, "{:?} stop {stop}", String::from_utf8_lossy(text));
                } else {
                    // The tokenizer may read on past empty lines after `stop`: the records
                    // of the plain reading are the first of the tokenizer's.
                    assert!(b.0.starts_with(&a.0) && a.3 <= b.3, "{text:?} stop {stop}");
                    if a.1.is_some() {
                        assert_eq!(a.1, b.1);
                    }
                }
            }
        }
        assert!(plain_used > 3000);
        // Quotes and a byte order mark go to the tokenizer.
        assert!(read_plain(b"a,\"b\"\n", 0, 7, b',', 2, false).is_none());
        assert!(read_plain(b"\xEF\xBB\xBFa,b\n", 0, 7, b',', 2, false).is_none());
    }

    trait Newlines {
        fn positions_of_newlines(self) -> impl Iterator<Item = usize>;
    }

    impl<'a, I: Iterator<Item = &'a u8>> Newlines for I {
        fn positions_of_newlines(self) -> impl Iterator<Item = usize> {
            self.enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1)
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
