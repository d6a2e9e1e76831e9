//! How a request's body is framed (RFC 9112 §6: `Content-Length`, `Transfer-Encoding`) and
//! what its `Expect` asks (RFC 9110 §10.1.1), read from the head's headers.

use super::head_error::HeadError;
use super::request::Request;
use super::token::{list_items, trim_ows};

/// How the body following a request head is framed (RFC 9112 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body.
    None,
    /// Exactly this many bytes of body follow the head.
    ContentLength(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

impl Request {
    /// Body framing declared by the head (RFC 9112 §6).
    ///
    /// * `Transfer-Encoding` together with `Content-Length` is rejected (`Malformed`, 400: the
    ///   request-smuggling vector of §6.1), and so is any `Transfer-Encoding` in an HTTP/1.0
    ///   request.
    /// * A coding list that does not end in `chunked` leaves the length unknown: 400 (§6.3).
    ///   `chunked` applied twice is 400 too (§7); any other coding before it is one the
    ///   server does not implement: `NotImplemented`, 501 (§6.1).
    /// * Every `Content-Length` (repeated headers and comma lists) must be all digits and
    ///   all values must agree; otherwise `Malformed`.
    pub fn body_framing(&self) -> Result<BodyFraming, HeadError> {
        let has_te = self.header("transfer-encoding").is_some();
        let has_cl = self.header("content-length").is_some();
        if has_te {
            if has_cl {
                return Err(HeadError::Malformed(
                    "both Transfer-Encoding and Content-Length",
                ));
            }
            if self.minor_version() == 0 {
                return Err(HeadError::Malformed("Transfer-Encoding in HTTP/1.0"));
            }
            let codings: Vec<&[u8]> = self
                .headers_named("transfer-encoding")
                .flat_map(list_items)
                .collect();
            let is_chunked = |coding: &&[u8]| coding.eq_ignore_ascii_case(b"chunked");
            return match codings.split_last() {
                Some((last, before)) if is_chunked(last) => {
                    if before.iter().any(is_chunked) {
                        Err(HeadError::Malformed("chunked applied more than once"))
                    } else if before.is_empty() {
                        Ok(BodyFraming::Chunked)
                    } else {
                        Err(HeadError::NotImplemented(
                            "transfer codings other than chunked",
                        ))
                    }
                }
                _ => Err(HeadError::Malformed(
                    "Transfer-Encoding does not end in chunked",
                )),
            };
        }
        if !has_cl {
            return Ok(BodyFraming::None);
        }
        let mut length: Option<u64> = None;
        for value in self.headers_named("content-length") {
            // An empty value or an empty list element is as bad as garbage.
            for item in value.split(|&b| b == b',').map(trim_ows) {
                let n =
                    parse_decimal(item).ok_or(HeadError::Malformed("invalid Content-Length"))?;
                match length {
                    Some(prev) if prev != n => {
                        return Err(HeadError::Malformed("conflicting Content-Length"))
                    }
                    _ => length = Some(n),
                }
            }
        }
        Ok(length.map_or(BodyFraming::None, BodyFraming::ContentLength))
    }

    /// What `Expect` asks (RFC 9110 §10.1.1): true for `100-continue` in an HTTP/1.1
    /// request; false without one, and always in HTTP/1.0, where it must be ignored; any
    /// other expectation is one the server cannot meet (`ExpectationFailed`, 417).
    pub fn expects_continue(&self) -> Result<bool, HeadError> {
        let mut values = self.headers_named("expect").peekable();
        // The common case, no Expect at all, costs one pass over the header names.
        if self.minor_version() == 0 || values.peek().is_none() {
            return Ok(false);
        }
        let mut expects_continue = false;
        for item in values.flat_map(list_items) {
            if !item.eq_ignore_ascii_case(b"100-continue") {
                return Err(HeadError::ExpectationFailed);
            }
            expects_continue = true;
        }
        Ok(expects_continue)
    }
}

/// Parse a non-empty run of ASCII digits into a `u64` (no sign, no overflow).
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::tests::parse_ok;

    #[test]
    fn body_framing_table() {
        use BodyFraming as B;
        let ok: &[(&[u8], BodyFraming)] = &[
            (b"GET / HTTP/1.1\r\n\r\n", B::None),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
                B::ContentLength(0),
            ),
            (
                b"GET / HTTP/1.1\r\nContent-Length:  42 \r\n\r\n",
                B::ContentLength(42),
            ),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n",
                B::ContentLength(7),
            ),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 7, 7\r\n\r\n",
                B::ContentLength(7),
            ),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n",
                B::ContentLength(u64::MAX),
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n",
                B::Chunked,
            ),
        ];
        for (head, want) in ok {
            assert_eq!(parse_ok(head).0.body_framing(), Ok(*want), "{head:?}");
        }
        let bad: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 7, 8\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 7,\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: +7\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ];
        for head in bad {
            let err = parse_ok(head).0.body_framing().unwrap_err();
            assert!(matches!(err, HeadError::Malformed(_)), "{head:?}");
        }
        for head in [
            &b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nTransfer-Encoding: foo\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            let err = parse_ok(head).0.body_framing().unwrap_err();
            assert_eq!(err.status(), 501, "{head:?}");
        }
    }

    #[test]
    fn expectations() {
        for (head, want) in [
            (&b"POST / HTTP/1.1\r\n\r\n"[..], Ok(false)),
            (b"POST / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n", Ok(true)),
            (
                b"POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
                Ok(false),
            ),
            (b"POST / HTTP/1.0\r\nExpect: bogus\r\n\r\n", Ok(false)),
            (
                b"POST / HTTP/1.1\r\nExpect: bogus\r\n\r\n",
                Err(HeadError::ExpectationFailed),
            ),
        ] {
            assert_eq!(parse_ok(head).0.expects_continue(), want, "{head:?}");
        }
    }
}
