//! What a path that serves only `GET` and `HEAD` answers to every other method (RFC 9110
//! §9): `OPTIONS` says what it allows (`204`), a method HTTP defines gets `405` with `Allow`,
//! any other method `501` (the server does not know it at all).

use super::{Method, Response};

/// The `Allow` value of a static path: what it answers other than with 405 or 501.
pub const STATIC_ALLOW: &str = "GET, HEAD, OPTIONS";

/// Methods RFC 9110 (and RFC 5789, `PATCH`) define: known to the server, so refused with
/// `405` where a path does not serve them. (`CONNECT` never gets here: the request parser
/// answers it with 501.)
const DEFINED: [&str; 6] = ["POST", "PUT", "DELETE", "TRACE", "PATCH", "CONNECT"];

/// The answer to `method` on a resource that allows `allow` (e.g. [`STATIC_ALLOW`]), which
/// serves `GET` and `HEAD` itself: `None` for those, else `204` for `OPTIONS` (also `OPTIONS
/// *`), `405` for a defined method, `501` for any other.
pub fn refuse_other_methods(method: &Method, allow: &str) -> Option<Response> {
    let name = match method {
        Method::Get | Method::Head => return None,
        Method::Other(name) => name.as_str(),
    };
    Some(if name == "OPTIONS" {
        Response::new(204).with_header("Allow", allow)
    } else if DEFINED.contains(&name) {
        Response::error(405, "method not allowed here").with_header("Allow", allow)
    } else {
        Response::error(501, "unknown method")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_table() {
        for (method, status) in [
            ("OPTIONS", 204),
            ("POST", 405),
            ("PUT", 405),
            ("DELETE", 405),
            ("PATCH", 405),
            ("TRACE", 405),
            ("BREW", 501),
            ("PROPFIND", 501),
            ("get", 501),
            ("options", 501),
        ] {
            let response =
                refuse_other_methods(&Method::Other(method.into()), STATIC_ALLOW).expect("refused");
            assert_eq!(response.status(), status, "{method}");
            let allow = response.header("allow");
            match status {
                501 => assert_eq!(allow, None),
                _ => assert_eq!(allow, Some(STATIC_ALLOW)),
            }
        }
        assert!(refuse_other_methods(&Method::Get, STATIC_ALLOW).is_none());
        assert!(refuse_other_methods(&Method::Head, STATIC_ALLOW).is_none());
    }
}
