//! What the text does not say outright: its encoding (UTF-8, else Windows-1252 as old Excel
//! writes it; binary data, archives and UTF-16 refused), the title lines above the header, the
//! separator, and whether numbers are written with a decimal comma.

use crate::cohort::CohortError;

pub(super) fn sep_name(b: u8) -> &'static str {
    match b {
        b';' => "semicolon",
        b'\t' => "tab",
        _ => "comma",
    }
}

/// The file's text: UTF-8 as read (the BOM skipped by `start`), or Latin-1 decoded.
pub(super) struct Text {
    pub text: String,
    /// Where the text starts (3 after a UTF-8 byte order mark).
    pub start: usize,
    pub latin1: bool,
}

/// Whether the bytes hold a NUL byte, and whether they are UTF-8: a large text's halves
/// checked side by side (cut where a character starts; two UTF-8 halves make UTF-8 text).
fn checked(bytes: &[u8]) -> (bool, bool) {
    let check = |b: &[u8]| (b.contains(&0), std::str::from_utf8(b).is_ok());
    if bytes.len() < 1 << 20 {
        return check(bytes);
    }
    let mut half = bytes.len() / 2;
    while half > 0 && (0x80..0xC0).contains(&bytes[half]) {
        half -= 1;
    }
    let (head, tail) = bytes.split_at(half);
    let ((nul_a, utf8_a), (nul_b, utf8_b)) = rayon::join(|| check(head), || check(tail));
    (nul_a || nul_b, utf8_a && utf8_b)
}

/// Decodes the bytes as UTF-8 (BOM skipped), or as Windows-1252 with a warning; refuses binary
/// data, archives and UTF-16 with a message that says what the file is.
pub(super) fn decode(
    file: &str,
    bytes: Vec<u8>,
    warnings: &mut Vec<String>,
) -> Result<Text, CohortError> {
    let fail = |message: String| CohortError::Format {
        file: file.to_string(),
        message,
    };
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Err(fail(
            "this is a ZIP archive that holds no .xlsx or .ods workbook, not CSV text: unzip it first".to_string(),
        ));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(fail(
            "the file is UTF-16 text: save it as CSV in UTF-8 (\"CSV UTF-8\" in Excel)".to_string(),
        ));
    }
    let (has_nul, utf8) = checked(&bytes);
    if let Some(pos) = has_nul
        .then(|| bytes.iter().position(|&b| b == 0))
        .flatten()
    {
        let line = bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(fail(format!(
            "line {line}: binary data (a NUL byte), not CSV text"
        )));
    }
    let start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    if utf8 {
        // SAFETY: `checked` found the bytes to be UTF-8.
        let text = unsafe { String::from_utf8_unchecked(bytes) };
        return Ok(Text {
            text,
            start,
            latin1: false,
        });
    }
    // Not UTF-8: old Excel text in Windows-1252.
    let bytes = bytes.get(start..).unwrap_or_default();
    // Control characters other than tab/CR/LF mean binary content, not old Excel text.
    if bytes
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n'))
    {
        return Err(fail("binary data, not CSV text".to_string()));
    }
    warnings.push(
        "the file is not UTF-8; it was read as Latin-1 (Windows-1252), as old Excel writes it"
            .to_string(),
    );
    Ok(Text {
        text: bytes.iter().map(|&b| cp1252(b)).collect(),
        start: 0,
        latin1: true,
    })
}

/// A Windows-1252 byte as a character (Latin-1 but for 0x80–0x9F: €, ‚, „, …, –, —, ’ …).
fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// The header's separator: the one of comma, semicolon and tab with the most fields outside
/// quotes (comma on a tie).
pub(super) fn guess_separator(header: &str) -> u8 {
    let count_outside_quotes = |sep: u8| {
        let mut inside = false;
        header
            .bytes()
            .filter(|&b| {
                if b == b'"' {
                    inside = !inside;
                }
                !inside && b == sep
            })
            .count()
    };
    let (mut separator, mut best) = (b',', count_outside_quotes(b','));
    for sep in [b';', b'\t'] {
        let c = count_outside_quotes(sep);
        if c > best {
            separator = sep;
            best = c;
        }
    }
    separator
}

/// A field written with a decimal comma ("3,5", "-12,25"): digits, one comma, digits.
pub(super) fn is_decimal_comma_number(field: &[u8]) -> bool {
    let Some((a, b)) = std::str::from_utf8(field)
        .ok()
        .and_then(|f| f.trim().split_once(','))
    else {
        return false;
    };
    let a = a.strip_prefix('-').unwrap_or(a);
    !a.is_empty()
        && !b.is_empty()
        && a.bytes().all(|c| c.is_ascii_digit())
        && b.bytes().all(|c| c.is_ascii_digit())
}

/// How many lines at the top are a title, not the header: blank lines and lines with at most
/// one non-empty field whichever separator is used ("Cohort March 2026;;;;"), when a line with
/// several fields follows within the first 30 lines.
pub(super) fn title_lines(text: &str) -> usize {
    let fields = |line: &str| {
        [',', ';', '\t']
            .iter()
            .map(|&sep| {
                line.split(sep)
                    .filter(|f| !f.trim().trim_matches('"').trim().is_empty())
                    .count()
            })
            .max()
            .unwrap_or(0)
    };
    // The header names at least half as many fields as the widest of these lines (a title
    // with a date beside it, "Cohort;26/11/2026;;;", is still a title).
    let counts: Vec<usize> = text.lines().take(30).map(fields).collect();
    let widest = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .position(|&c| c >= 2 && 2 * c >= widest)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::checked;

    /// The halves' checks say what checking the whole text says, whatever character, stray
    /// byte or NUL lies across or beside the cut.
    #[test]
    fn halves_check_as_the_whole() {
        let n = (1 << 20) + 10;
        let inserts: [&[u8]; 7] = [
            b"\xC3\xA9",
            "€".as_bytes(),
            "😀".as_bytes(),
            b"\xE9",
            b"\x00",
            b"\xA9",
            b"\xF0\x9F",
        ];
        for insert in inserts {
            for at in n / 2 - 6..n / 2 + 6 {
                let mut bytes = vec![b'a'; n];
                bytes[at..at + insert.len()].copy_from_slice(insert);
                let whole = (bytes.contains(&0), std::str::from_utf8(&bytes).is_ok());
                assert_eq!(checked(&bytes), whole, "{insert:?} at {at}");
            }
        }
    }
}
