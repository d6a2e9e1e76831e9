//! The parts of a request that decide how a static file is answered: its path, its method,
//! and its conditional, range and encoding headers, found in one pass over the head.

use super::request::{Method, Request};
use super::validators::Conditions;
use std::borrow::Cow;

/// A GET or HEAD of a static file, as the file cache needs it. Header values are as
/// received; one sent on several lines is joined with `", "` (RFC 9110 §5.3).
#[derive(Debug, Clone, Default)]
pub struct FileRequest<'a> {
    /// The path part of the target, still percent-encoded.
    pub path: &'a str,
    /// HEAD: the same head as GET, no body (and no file opened for one).
    pub head_only: bool,
    /// `If-Match`.
    pub if_match: Option<Cow<'a, [u8]>>,
    /// `If-None-Match`.
    pub if_none_match: Option<Cow<'a, [u8]>>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<Cow<'a, [u8]>>,
    /// `If-Unmodified-Since`.
    pub if_unmodified_since: Option<Cow<'a, [u8]>>,
    /// `Range` (see [`FileRequest::range`]: GET only).
    pub range: Option<Cow<'a, [u8]>>,
    /// `If-Range`.
    pub if_range: Option<Cow<'a, [u8]>>,
    /// `Accept-Encoding`.
    pub accept_encoding: Option<Cow<'a, [u8]>>,
}

impl<'a> FileRequest<'a> {
    /// A plain GET of `path`, for tests and callers that have no request head.
    pub fn get(path: &'a str) -> Self {
        FileRequest {
            path,
            ..Default::default()
        }
    }

    /// The conditional headers, for [`validators::evaluate`](super::validators::evaluate).
    pub fn conditions(&self) -> Conditions<'_> {
        Conditions {
            if_match: self.if_match.as_deref(),
            if_none_match: self.if_none_match.as_deref(),
            if_modified_since: self.if_modified_since.as_deref(),
            if_unmodified_since: self.if_unmodified_since.as_deref(),
        }
    }

    /// The `Range` header if ranges apply: GET only (RFC 9110 §14.2).
    pub fn range(&self) -> Option<&[u8]> {
        self.range.as_deref().filter(|_| !self.head_only)
    }

    /// Where the value of header `name` goes, if it is one of ours. One switch on the
    /// length settles most headers of a browser's request without comparing a byte.
    fn slot(&mut self, name: &[u8]) -> Option<&mut Option<Cow<'a, [u8]>>> {
        let is = |known: &str| is_named(name, known.as_bytes());
        let slot = match name.len() {
            5 if is("range") => &mut self.range,
            8 if is("if-match") => &mut self.if_match,
            8 if is("if-range") => &mut self.if_range,
            13 if is("if-none-match") => &mut self.if_none_match,
            15 if is("accept-encoding") => &mut self.accept_encoding,
            17 if is("if-modified-since") => &mut self.if_modified_since,
            19 if is("if-unmodified-since") => &mut self.if_unmodified_since,
            _ => return None,
        };
        Some(slot)
    }
}

/// True if the header name `name` (a token) is `known` (lowercase letters and `-`) in any
/// case. For a token byte `b`, `b | 0x20` is a lowercase letter only if `b` is that letter in
/// either case, and `-` only if `b` is `-` (CR is no token byte), so one OR per byte is an
/// exact case-insensitive comparison. From the end: our names that share a length differ
/// there first (`accept-encoding` / `accept-language`, `if-match` / `if-range`).
fn is_named(name: &[u8], known: &[u8]) -> bool {
    name.len() == known.len()
        && name
            .iter()
            .rev()
            .zip(known.iter().rev())
            .all(|(&b, &k)| b | 0x20 == k)
}

impl<'a> From<&'a Request> for FileRequest<'a> {
    fn from(request: &'a Request) -> Self {
        let mut file_request = FileRequest {
            path: request.path(),
            head_only: request.method() == &Method::Head,
            ..Default::default()
        };
        for (name, value) in request.raw_headers() {
            let Some(slot) = file_request.slot(name) else {
                continue;
            };
            *slot = Some(match slot.take() {
                None => Cow::Borrowed(value),
                Some(earlier) => Cow::Owned([&earlier[..], b", ", value].concat()),
            });
        }
        file_request
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{parse_head, ParsedHead};

    fn request(head: &str) -> Request {
        match parse_head(head.as_bytes(), 64) {
            Ok(ParsedHead::Complete { request, .. }) => request,
            other => panic!("test head did not parse: {other:?}"),
        }
    }

    #[test]
    fn finds_its_headers_in_one_pass() {
        let request = request(
            "HEAD /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nIF-NONE-MATCH: \"a\"\r\n\
             Range: bytes=0-1\r\naccept-encoding: gzip\r\nIf-None-Match: \"b\"\r\n\
             If-Modified-Since: Tue, 01 Dec 2026 10:00:00 GMT\r\nIf-Range: \"a\"\r\n\
             If-Match: *\r\nIf-Unmodified-Since: x\r\nX-Other: y\r\n\r\n",
        );
        let file = FileRequest::from(&request);
        assert_eq!(file.path, "/a%20b");
        assert!(file.head_only);
        assert_eq!(file.if_none_match.as_deref(), Some(&b"\"a\", \"b\""[..]));
        assert_eq!(file.accept_encoding.as_deref(), Some(&b"gzip"[..]));
        assert_eq!(file.if_range.as_deref(), Some(&b"\"a\""[..]));
        assert_eq!(file.if_match.as_deref(), Some(&b"*"[..]));
        assert_eq!(file.if_unmodified_since.as_deref(), Some(&b"x"[..]));
        assert_eq!(
            file.conditions().if_modified_since,
            Some(&b"Tue, 01 Dec 2026 10:00:00 GMT"[..])
        );
        // A HEAD ignores ranges.
        assert_eq!(file.range.as_deref(), Some(&b"bytes=0-1"[..]));
        assert_eq!(file.range(), None);
    }

    #[test]
    fn names_compare_ignoring_ascii_case_exactly() {
        for (name, known, want) in [
            ("Accept-Encoding", "accept-encoding", true),
            ("ACCEPT-ENCODING", "accept-encoding", true),
            ("accept-encoding", "accept-encoding", true),
            ("Accept-Language", "accept-encoding", false),
            ("If-Range", "if-match", false),
            ("If-Rangf", "if-range", false),
            // Token bytes that are no letters match no letter: `_` | 0x20 is DEL, `^` is `~`.
            ("If-Rang_", "if-range", false),
            ("If-Rang^", "if-range", false),
            ("Range", "range", true),
            ("Rang", "range", false),
        ] {
            assert_eq!(
                is_named(name.as_bytes(), known.as_bytes()),
                want,
                "{name} {known}"
            );
        }
    }

    #[test]
    fn a_get_keeps_its_range() {
        let request = request("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=-5\r\n\r\n");
        let file = FileRequest::from(&request);
        assert!(!file.head_only);
        assert_eq!(file.range(), Some(&b"bytes=-5"[..]));
        assert!(file.if_none_match.is_none() && file.accept_encoding.is_none());
    }
}
