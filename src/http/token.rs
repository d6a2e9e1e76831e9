//! Small shared lexical helpers for HTTP tokens and comma-separated header lists.

/// True if `b` is an RFC 9110 `tchar` (a byte allowed in a token such as a header name).
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// [`is_tchar`] for every byte value: one load per byte instead of a chain of comparisons
/// (subprotocol names and response header names are checked byte by byte).
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < table.len() {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        i += 1;
    }
    table
};

/// True if `s` is a non-empty RFC 9110 token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Trim ASCII spaces and horizontal tabs (HTTP optional whitespace) from both ends.
pub(crate) fn trim_ows(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if *first == b' ' || *first == b'\t' {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if *last == b' ' || *last == b'\t' {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// True if the comma-separated `value` has an element equal to `token` (ASCII
/// case-insensitive, whitespace-trimmed); an empty `token` matches nothing.
pub(crate) fn list_contains(value: &[u8], token: &[u8]) -> bool {
    !token.is_empty()
        && value
            .split(|&b| b == b',')
            .any(|item| trim_ows(item).eq_ignore_ascii_case(token))
}

/// Iterate over the trimmed, non-empty elements of a comma-separated header value.
pub(crate) fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|item| !item.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchar_table() {
        for (b, want) in [
            (b'a', true),
            (b'Z', true),
            (b'7', true),
            (b'-', true),
            (b'~', true),
            (b' ', false),
            (b':', false),
            (b'\r', false),
            (b'\n', false),
            (b'"', false),
            (b',', false),
            (0u8, false),
            (0x80u8, false),
        ] {
            assert_eq!(is_tchar(b), want, "byte {b:#x}");
        }
    }

    #[test]
    fn is_token_table() {
        assert!(is_token("chat.v1"));
        assert!(!is_token(""));
        assert!(!is_token("a b"));
        assert!(!is_token("x\r\nSet-Cookie: y"));
    }

    #[test]
    fn trim_and_split() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        let items: Vec<&[u8]> = list_items(b" a ,, b,\tc ,").collect();
        assert_eq!(items, vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(list_items(b" , ,").count(), 0);
        assert!(list_contains(b"keep-alive, Upgrade", b"upgrade"));
        assert!(!list_contains(b"keep-alive, Upgrade", b"upgrad"));
        assert!(!list_contains(b"a,,b", b""));
    }
}
