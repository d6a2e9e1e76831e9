//! Request-target forms (RFC 9112 §3.2): which ones a request may use, and where the
//! origin-form part (path and query) lies in the target. Origin-form `/a?b` is what clients
//! send; absolute-form `http://host/a?b` must be accepted by every server (§3.2.2);
//! asterisk-form `*` only with `OPTIONS` (§3.2.4). Authority-form is only for `CONNECT`, which
//! the request parser refuses with 501 before a target is looked at.

use super::request::HeadError;

/// Where the origin-form part of `target` starts (its length for an absolute-form target
/// without a path, whose path is then `/`), or why the target is refused (400).
pub(crate) fn path_start(method: &str, target: &str) -> Result<usize, HeadError> {
    if target.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(HeadError::Malformed("control character in request target"));
    }
    if target.starts_with('/') {
        return Ok(0);
    }
    if target == "*" {
        return if method == "OPTIONS" {
            Ok(0)
        } else {
            Err(HeadError::Malformed("'*' is a target for OPTIONS only"))
        };
    }
    absolute_path_start(target).ok_or(HeadError::Malformed(
        "request target is not origin- or absolute-form",
    ))
}

/// `http://authority[/path][?query]` (scheme case-insensitive, `https` too): where the part
/// after the authority starts. The authority must be present and carry no userinfo (RFC 9110
/// §4.2.4 asks recipients to treat `user@` as an error).
fn absolute_path_start(target: &str) -> Option<usize> {
    let scheme_len = target.find("://")?;
    let scheme = target.get(..scheme_len)?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority_start = scheme_len + 3;
    let rest = target.get(authority_start..)?;
    let authority_len = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = rest.get(..authority_len)?;
    if authority.is_empty() || authority.contains(['@', '#']) {
        return None;
    }
    Some(authority_start + authority_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_accepted_and_where_the_path_starts() {
        for (method, target, path) in [
            ("GET", "/", "/"),
            ("GET", "/a/b?c=d", "/a/b?c=d"),
            ("GET", "http://example.com/a?b", "/a?b"),
            ("GET", "HTTP://example.com:8080/x", "/x"),
            ("POST", "https://[::1]:9/p", "/p"),
            ("GET", "http://example.com", ""),
            ("GET", "http://example.com?q", "?q"),
            ("OPTIONS", "*", "*"),
            ("OPTIONS", "/x", "/x"),
        ] {
            let start = path_start(method, target).unwrap_or_else(|e| panic!("{target}: {e}"));
            assert_eq!(&target[start..], path, "{method} {target}");
        }
    }

    #[test]
    fn forms_refused() {
        for (method, target) in [
            ("GET", "*"),
            ("POST", "*"),
            ("GET", "example.com"),
            ("GET", "example.com:443"),
            ("GET", "ftp://example.com/"),
            ("GET", "http:///nohost"),
            ("GET", "http://user@example.com/"),
            ("GET", "http//example.com/"),
            ("GET", "/a\u{7f}"),
            ("GET", "/a\u{1}b"),
            ("GET", ""),
        ] {
            assert!(
                matches!(path_start(method, target), Err(HeadError::Malformed(_))),
                "{method} {target:?}"
            );
        }
    }
}
