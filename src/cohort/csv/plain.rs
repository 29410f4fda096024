//! Records of text without quotes, split in place: the fields are the text's bytes between
//! separators, which is what the csv crate's tokenizer gives for such text, without the copy
//! ([`super::records`] reads text with quotes).

use std::borrow::Cow;

use super::records::{is_blank, Fields, Problem};

/// The records from `start` until one ends at or after `stop` (a stretch of
/// [`super::records`]) when the text from `start` to the end of `stop`'s line has no quote:
/// records are lines (empty ones skipped), fields the bytes between separators — the
/// tokenizer's reading of such text, split in place. `None` for any other text.
pub(super) fn read_plain(
    text: &[u8],
    start: usize,
    stop: usize,
    separator: u8,
    width: usize,
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
    if region.contains(&b'"') || u32::try_from(region.len()).is_err() {
        return None;
    }
    let mut fields = Fields {
        start,
        end: start,
        bytes: Cow::Borrowed(region),
        // Room for a field per 32 bytes; never more ends than bytes (a file of 300,000
        // empty columns asked for 45 GB).
        ends: Vec::with_capacity((width * (region.len() / 32 + 1)).min(region.len() + 1)),
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

#[cfg(test)]
mod tests {
    use super::super::records::read_tokenized;
    use super::*;

    /// Every record's fields, the problem, the decimal-comma flag and where reading ended.
    fn summary(f: &Fields, width: usize) -> (Vec<Vec<Vec<u8>>>, Option<Problem>, bool, usize) {
        let records = (0..f.n_records)
            .map(|r| (0..width).map(|c| f.field(r, c, width).to_vec()).collect())
            .collect();
        (records, f.problem, f.has_decimal_comma(width), f.end)
    }

    #[test]
    fn text_without_quotes_split_in_place_is_what_the_tokenizer_reads() {
        // Random lines of random cells: numbers with decimal commas, spaces, tabs, CR,
        // non-ASCII letters and Unicode spaces, blank and empty lines, ragged lines.
        let mut rng = crate::rng::SplitMix64::new(0x2545_f491_4f6c_dd1d);
        let mut next = |n: u64| rng.below(n as usize) as u64;
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
            let line_ends = (1..=text.len()).filter(|&i| text[i - 1] == b'\n');
            stops.extend(line_ends.take(2));
            for stop in stops {
                let plain = read_plain(text, 0, stop, separator, width).unwrap();
                let tokenized = read_tokenized(text, 0, stop, separator, width);
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
        // Quotes go to the tokenizer; a byte order mark after the header is text both ways.
        assert!(read_plain(b"a,\"b\"\n", 0, 7, b',', 2).is_none());
        let bom = b"\xEF\xBB\xBFa,b\n";
        let plain = read_plain(bom, 0, bom.len(), b',', 2).unwrap();
        let tokenized = read_tokenized(bom, 0, bom.len(), b',', 2);
        assert_eq!(plain.field(0, 0, 2), b"\xEF\xBB\xBFa");
        assert_eq!(summary(&plain, 2), summary(&tokenized, 2));
    }
}
