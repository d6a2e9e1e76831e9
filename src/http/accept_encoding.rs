//! Precompressed variants of a file (`FILE.br`, `FILE.gz` beside `FILE`, as nginx'
//! `gzip_static` and `brotli_static` serve them) and which one an `Accept-Encoding` header
//! allows (RFC 9110 §12.5.3). Pure functions over the header value.

/// A content coding the server can send a precompressed variant in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// Brotli, from `FILE.br`.
    Br,
    /// gzip, from `FILE.gz`.
    Gzip,
}

impl Coding {
    /// Every coding, in the server's order of preference (smaller files first).
    pub const ALL: [Coding; 2] = [Coding::Br, Coding::Gzip];

    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Gzip => "gzip",
        }
    }

    /// What the variant's file name adds to the plain file's.
    pub fn suffix(self) -> &'static str {
        match self {
            Coding::Br => ".br",
            Coding::Gzip => ".gz",
        }
    }

    /// True if `name` (a coding token from a request) means this coding; `x-gzip` is gzip
    /// (RFC 9110 §8.4.1.3).
    fn is_named(self, name: &[u8]) -> bool {
        name.eq_ignore_ascii_case(self.token().as_bytes())
            || (self == Coding::Gzip && name.eq_ignore_ascii_case(b"x-gzip"))
    }
}

/// The coding to send, from those `available` (in preference order): the one the client gives
/// the highest quality above 0, the first available on a tie; `None` for the plain file.
///
/// A coding the header does not name takes the quality of `*` if there is one, else it is not
/// acceptable; `q=0` refuses it. Without an `Accept-Encoding` header the plain file is sent
/// (the RFC would allow any coding, but a client that sends none may not decode one).
pub fn choose(
    accept_encoding: Option<&[u8]>,
    available: impl IntoIterator<Item = Coding>,
) -> Option<Coding> {
    let header = accept_encoding?;
    let mut best: Option<(Coding, u16)> = None;
    for coding in available {
        let quality = quality_of(header, coding);
        if quality > 0 && best.is_none_or(|(_, q)| quality > q) {
            best = Some((coding, quality));
        }
    }
    best.map(|(coding, _)| coding)
}

/// The quality (in thousandths) the header gives `coding`: its own member's, else `*`'s,
/// else 0. A member whose parameters cannot be read counts as refused.
fn quality_of(header: &[u8], coding: Coding) -> u16 {
    let mut wildcard = None;
    for member in header.split(|&b| b == b',') {
        let mut parts = member.split(|&b| b == b';');
        let name = parts.next().unwrap_or_default().trim_ascii();
        if coding.is_named(name) {
            return parts.try_fold(1000, weight).unwrap_or(0);
        }
        if name == b"*" {
            wildcard = Some(parts.try_fold(1000, weight).unwrap_or(0));
        }
    }
    wildcard.unwrap_or(0)
}

/// Fold one parameter into the quality: `q=VALUE` sets it; other parameters are ignored.
fn weight(quality: u16, parameter: &[u8]) -> Option<u16> {
    let (name, value) = match parameter.iter().position(|&b| b == b'=') {
        Some(eq) => (&parameter[..eq], &parameter[eq + 1..]),
        None => (parameter, &[][..]),
    };
    if name.trim_ascii().eq_ignore_ascii_case(b"q") {
        parse_qvalue(value.trim_ascii())
    } else {
        Some(quality)
    }
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn parse_qvalue(value: &[u8]) -> Option<u16> {
    let (whole, fraction) = match value.split_first()? {
        (b'0', rest) => (0, rest),
        (b'1', rest) => (1000, rest),
        _ => return None,
    };
    let digits = match fraction {
        [] => &[][..],
        [b'.', digits @ ..] if digits.len() <= 3 => digits,
        _ => return None,
    };
    let mut thousandths = 0u16;
    for (i, &d) in digits.iter().enumerate() {
        if !d.is_ascii_digit() {
            return None;
        }
        thousandths += u16::from(d - b'0') * [100, 10, 1][i];
    }
    if whole == 1000 && thousandths > 0 {
        return None;
    }
    Some(whole + thousandths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Coding::*;

    #[test]
    fn choice_table() {
        let both = &[Br, Gzip][..];
        let gzip_only = &[Gzip][..];
        for (header, available, want) in [
            (None, both, None),
            (Some("gzip, deflate, br, zstd"), both, Some(Br)),
            (Some("gzip, deflate, br, zstd"), gzip_only, Some(Gzip)),
            (Some("gzip"), both, Some(Gzip)),
            (Some("GZIP"), both, Some(Gzip)),
            (Some("x-gzip"), both, Some(Gzip)),
            (Some("br"), gzip_only, None),
            (Some("identity"), both, None),
            (Some(""), both, None),
            (Some("gzip, br"), &[][..], None),
            // Quality: the highest wins, a tie goes to the server's order.
            (Some("gzip;q=1, br;q=0.5"), both, Some(Gzip)),
            (Some("br;q=0.5, gzip;q=0.5"), both, Some(Br)),
            (Some("gzip; q=0.001"), both, Some(Gzip)),
            // q=0 refuses, in any spelling.
            (Some("gzip;q=0"), both, None),
            (Some("gzip;q=0.000, br;q=0"), both, None),
            (Some("br;q=0, gzip"), both, Some(Gzip)),
            // The wildcard covers codings not named, and only those.
            (Some("*"), both, Some(Br)),
            (Some("*;q=0.5, br;q=0"), both, Some(Gzip)),
            (Some("gzip;q=0, *"), both, Some(Br)),
            (Some("*;q=0"), both, None),
            (Some("gzip;q=0, *"), gzip_only, None),
            // Unreadable quality values refuse their member.
            (Some("gzip;q=2"), both, None),
            (Some("gzip;q=1.5"), both, None),
            (Some("gzip;q=0.5555"), both, None),
            (Some("gzip;q="), both, None),
            (Some("gzip;q=abc"), both, None),
            (Some("gzip;level=9"), both, Some(Gzip)),
            (Some("gzip;q=1.000"), both, Some(Gzip)),
        ] {
            assert_eq!(
                choose(header.map(str::as_bytes), available.iter().copied()),
                want,
                "{header:?} with {available:?}"
            );
        }
    }

    #[test]
    fn qvalues() {
        for (text, want) in [
            ("0", Some(0)),
            ("1", Some(1000)),
            ("0.5", Some(500)),
            ("0.25", Some(250)),
            ("0.125", Some(125)),
            ("1.0", Some(1000)),
            ("0.", Some(0)),
            ("1.001", None),
            (".5", None),
            ("0.1234", None),
            ("", None),
        ] {
            assert_eq!(parse_qvalue(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn names_and_suffixes() {
        assert_eq!(Coding::ALL.map(Coding::token), ["br", "gzip"]);
        assert_eq!(Coding::ALL.map(Coding::suffix), [".br", ".gz"]);
    }
}
