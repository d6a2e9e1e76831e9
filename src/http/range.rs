//! `Range: bytes=...` (RFC 9110 §14.1.2, §14.2) against a file of known length: the one byte
//! range to send, the whole file, or `416`. A pure function over the header value.

/// An inclusive byte range within a file, as `Content-Range` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub first: u64,
    /// Last byte (inclusive).
    pub last: u64,
}

impl ByteRange {
    /// Bytes in the range (at least 1).
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Never true: a range holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `Content-Range` value for a file of `size` bytes: `bytes 0-499/1234`.
    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{size}", self.first, self.last)
    }
}

/// What a `Range` header asks of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// Send the whole file with `200`: the header is not one we act on (another unit, a
    /// malformed or invalid set, several ranges: the RFC lets a server ignore all of those).
    Whole,
    /// Send this one range with `206`.
    Part(ByteRange),
    /// `416 Range Not Satisfiable`, `Content-Range: bytes */SIZE`: every range starts past
    /// the end (or is an empty suffix).
    Unsatisfiable,
}

/// Parse a `Range` value for a file of `size` bytes.
///
/// One range is served as asked, even when it covers the whole file (media players probe
/// with `bytes=0-` and want a `206`): `bytes=FIRST-LAST` (LAST clipped to the end),
/// `bytes=FIRST-` (to the end) and `bytes=-N` (the last N bytes). Several ranges are answered
/// with the whole file (a multipart response buys little for its complexity), unless none of
/// them is satisfiable: then `416`, as for one. Numbers too large for a `u64` mean "past any
/// end".
pub fn parse_range(value: &[u8], size: u64) -> RangeRequest {
    let value = value.trim_ascii();
    let Some(set) = strip_unit(value) else {
        return RangeRequest::Whole;
    };
    let specs = set
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|spec| !spec.is_empty());
    let (mut count, mut satisfiable, mut first) = (0, false, None);
    for spec in specs {
        let Some(spec) = parse_spec(spec) else {
            return RangeRequest::Whole;
        };
        count += 1;
        satisfiable |= spec.is_satisfiable(size);
        first.get_or_insert(spec);
    }
    match (count, first) {
        (0, _) => RangeRequest::Whole,
        _ if !satisfiable => RangeRequest::Unsatisfiable,
        // A suffix of an empty file is satisfiable but holds no byte: the whole (empty) file.
        (1, Some(spec)) => spec
            .within(size)
            .map_or(RangeRequest::Whole, RangeRequest::Part),
        _ => RangeRequest::Whole,
    }
}

/// The range set after `bytes=` (the unit is case-insensitive).
fn strip_unit(value: &[u8]) -> Option<&[u8]> {
    let (unit, set) = value.split_at_checked(6)?;
    unit.eq_ignore_ascii_case(b"bytes=").then_some(set)
}

/// One `range-spec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `FIRST-` or `FIRST-LAST`.
    From { first: u64, last: Option<u64> },
    /// `-N`: the last N bytes.
    Suffix(u64),
}

impl Spec {
    /// RFC 9110 §14.1.2: a first position inside the file, or a suffix of at least a byte.
    fn is_satisfiable(self, size: u64) -> bool {
        match self {
            Spec::From { first, .. } => first < size,
            Spec::Suffix(n) => n > 0,
        }
    }

    /// The bytes of a `size`-byte file this spec selects, if any.
    fn within(self, size: u64) -> Option<ByteRange> {
        let end = size.checked_sub(1)?;
        match self {
            Spec::From { first, last } if first <= end => Some(ByteRange {
                first,
                last: last.map_or(end, |last| last.min(end)),
            }),
            Spec::From { .. } | Spec::Suffix(0) => None,
            Spec::Suffix(n) => Some(ByteRange {
                first: size.saturating_sub(n),
                last: end,
            }),
        }
    }
}

/// `first-pos "-" [ last-pos ]` or `"-" suffix-length`; `None` if malformed or invalid
/// (LAST before FIRST).
fn parse_spec(spec: &[u8]) -> Option<Spec> {
    let dash = spec.iter().position(|&b| b == b'-')?;
    let (first, last) = (&spec[..dash], &spec[dash + 1..]);
    if first.is_empty() {
        return Some(Spec::Suffix(parse_digits(last)?));
    }
    let first = parse_digits(first)?;
    let last = if last.is_empty() {
        None
    } else {
        Some(parse_digits(last)?)
    };
    match last {
        Some(last) if last < first => None,
        _ => Some(Spec::From { first, last }),
    }
}

/// `1*DIGIT`, saturating at `u64::MAX`.
fn parse_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeRequest::*;

    fn part(first: u64, last: u64) -> RangeRequest {
        Part(ByteRange { first, last })
    }

    #[test]
    fn ranges_of_a_thousand_byte_file() {
        for (value, want) in [
            ("bytes=0-499", part(0, 499)),
            ("bytes=500-999", part(500, 999)),
            ("bytes=500-", part(500, 999)),
            ("bytes=500-5000", part(500, 999)),
            ("bytes=-200", part(800, 999)),
            ("bytes=999-999", part(999, 999)),
            ("bytes=0-0", part(0, 0)),
            ("BYTES=1-2", part(1, 2)),
            ("  bytes=1-2  ", part(1, 2)),
            ("bytes= 1-2 ,", part(1, 2)),
            // The whole file asked for as a range is still a 206.
            ("bytes=0-", part(0, 999)),
            ("bytes=0-999", part(0, 999)),
            ("bytes=-1000", part(0, 999)),
            ("bytes=-5000", part(0, 999)),
            ("bytes=0-18446744073709551616", part(0, 999)),
            // Unsatisfiable: starts at or past the end, or an empty suffix.
            ("bytes=1000-", Unsatisfiable),
            ("bytes=1000-2000", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=99999999999999999999999-", Unsatisfiable),
            ("bytes=1000-1001, 2000-", Unsatisfiable),
            // Several ranges: the whole file.
            ("bytes=0-1,5-6", Whole),
            ("bytes=0-1, 2000-3000", Whole),
            // Ignored: another unit, malformed, invalid (last before first).
            ("items=0-1", Whole),
            ("bytes 0-1", Whole),
            ("bytes=", Whole),
            ("bytes=,", Whole),
            ("bytes=a-b", Whole),
            ("bytes=1", Whole),
            ("bytes=--1", Whole),
            ("bytes=1-2-3", Whole),
            ("bytes=+1-2", Whole),
            ("bytes=5-4", Whole),
            ("bytes=0-1,x", Whole),
            ("bytes=1000-,x", Whole),
            ("", Whole),
            ("bytes", Whole),
        ] {
            assert_eq!(parse_range(value.as_bytes(), 1000), want, "{value:?}");
        }
    }

    #[test]
    fn an_empty_file_is_sent_whole_or_refused() {
        assert_eq!(parse_range(b"bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range(b"bytes=0-0", 0), Unsatisfiable);
        // A suffix of an empty file is satisfiable (RFC 9110 §14.1.2) but has no bytes.
        assert_eq!(parse_range(b"bytes=-5", 0), Whole);
    }

    #[test]
    fn one_byte_files() {
        assert_eq!(parse_range(b"bytes=0-0", 1), part(0, 0));
        assert_eq!(parse_range(b"bytes=-1", 1), part(0, 0));
        assert_eq!(parse_range(b"bytes=1-", 1), Unsatisfiable);
    }

    #[test]
    fn content_range_text() {
        let range = ByteRange {
            first: 0,
            last: 499,
        };
        assert_eq!(range.len(), 500);
        assert_eq!(range.content_range(1234), "bytes 0-499/1234");
    }
}
