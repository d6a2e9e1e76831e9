//! HTTP/1.x request heads: parsing with httparse into an owned [`Request`] (the head's bytes
//! and where its parts lie in them) and header queries. The method, the errors and the body
//! framing have files of their own (`method`, `head_error`, `body_framing`); their types are
//! re-exported here, where they have always been.

use std::fmt;
use std::mem::MaybeUninit;
use std::ops::Range;

pub use super::body_framing::BodyFraming;
pub use super::head_error::HeadError;
pub use super::method::Method;
use super::target::path_start;
use super::token::{list_contains, trim_ows};

/// Default cap on the number of header lines accepted in one request head.
pub const DEFAULT_MAX_HEADERS: usize = 64;

/// Result of [`parse_head`] when the bytes so far are not invalid.
#[derive(Debug)]
pub enum ParsedHead {
    /// A full head was parsed; the body (or the next pipelined request) starts at `head_len`.
    Complete {
        /// The parsed request.
        request: Request,
        /// Number of bytes of `buf` the head occupied (including the blank line).
        head_len: usize,
    },
    /// The head is not complete yet: read more bytes and call again.
    Partial,
}

/// An owned, parsed HTTP/1.x request head: the head's bytes as received, and where its parts
/// lie in them (so a request costs two allocations however many headers it has).
#[derive(Clone)]
pub struct Request {
    head: Vec<u8>,
    layout: Layout,
}

/// Where the parts of a request head lie in its bytes.
#[derive(Clone)]
struct Layout {
    method: Method,
    /// Checked to be UTF-8 (and of a form the request may use) by the parser.
    target: Range<usize>,
    /// The target's origin-form part (all of it, but for an absolute-form target's scheme
    /// and authority).
    origin_form: Range<usize>,
    minor_version: u8,
    headers: Vec<HeaderSpan>,
}

/// One header line: its name (a token, so ASCII) and its value.
#[derive(Clone)]
struct HeaderSpan {
    name: Range<usize>,
    value: Range<usize>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<_> = self
            .headers()
            .map(|(name, value)| (name, String::from_utf8_lossy(value)))
            .collect();
        f.debug_struct("Request")
            .field("method", &self.layout.method)
            .field("target", &self.target())
            .field("minor_version", &self.layout.minor_version)
            .field("headers", &headers)
            .finish()
    }
}

impl Request {
    /// The request method.
    pub fn method(&self) -> &Method {
        &self.layout.method
    }

    /// The raw request-target exactly as sent: origin-form `"/a%20b?x=1"`, absolute-form
    /// `"http://host/a?x=1"`, or `"*"` (`OPTIONS` only).
    pub fn target(&self) -> &str {
        self.text(self.layout.target.clone())
    }

    /// The target in origin-form: `"/a?x=1"` also for `"http://host/a?x=1"` (and `"/"` for
    /// `"http://host"`), `"*"` for `OPTIONS *`.
    pub fn origin_form(&self) -> &str {
        match self.text(self.layout.origin_form.clone()) {
            "" => "/",
            // `http://host?q`: the path is empty, so `/`, but the query stays.
            text => text,
        }
    }

    /// The path: the origin-form target up to (not including) the first `'?'` or `'#'`,
    /// still percent-encoded (`"/"` when that leaves nothing).
    pub fn path(&self) -> &str {
        let target = self.origin_form();
        match target.find(['?', '#']) {
            Some(0) => "/",
            Some(i) => target.get(..i).unwrap_or(target),
            None => target,
        }
    }

    /// The minor HTTP version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub fn minor_version(&self) -> u8 {
        self.layout.minor_version
    }

    /// The value of the first header called `name` (case-insensitive), as raw bytes.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers_named(name).next()
    }

    /// Like [`Request::header`], but only if the value is valid UTF-8; surrounding spaces
    /// and tabs are trimmed.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name)
            .and_then(|v| std::str::from_utf8(trim_ows(v)).ok())
    }

    /// All headers in the order received, as `(name, value)` with the name's case as sent.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.layout.headers.iter().map(|span| {
            let value = self.head.get(span.value.clone()).unwrap_or_default();
            (self.text(span.name.clone()), value)
        })
    }

    /// How many header lines called `name` (case-insensitive) the request carries.
    pub fn header_count(&self, name: &str) -> usize {
        self.headers_named(name).count()
    }

    /// True if any of the (possibly repeated) headers `name` contains `token` in its
    /// comma-separated list, case-insensitive, whitespace-trimmed.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        let token = token.as_bytes().trim_ascii();
        self.headers_named(name)
            .any(|value| list_contains(value, token))
    }

    /// Whether the connection may persist after this request.
    ///
    /// HTTP/1.1: true unless `Connection: close`; HTTP/1.0: true only with
    /// `Connection: keep-alive` (and no `close`).
    pub fn keep_alive(&self) -> bool {
        if self.has_token("connection", "close") {
            return false;
        }
        self.layout.minor_version >= 1 || self.has_token("connection", "keep-alive")
    }

    /// Values of all headers called `name` (case-insensitive), in order.
    pub(crate) fn headers_named<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        let head = self.head.as_slice();
        self.layout
            .headers
            .iter()
            .filter(move |span| {
                // Most names differ in length: no bytes compared.
                span.name.len() == name.len()
                    && head
                        .get(span.name.clone())
                        .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            })
            .map(move |span| head.get(span.value.clone()).unwrap_or_default())
    }

    /// Every header as `(name, value)` bytes, in order (no UTF-8 check of the name).
    pub(crate) fn raw_headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.layout.headers.iter().map(|span| {
            let part = |range: &Range<usize>| self.head.get(range.clone()).unwrap_or_default();
            (part(&span.name), part(&span.value))
        })
    }

    /// A part of the head the parser checked to be UTF-8 (the target, header names).
    fn text(&self, range: Range<usize>) -> &str {
        self.head
            .get(range)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or_default()
    }
}

/// Classify an httparse version error: a well-formed `HTTP/d[.d]` we do not speak is 505,
/// anything else is a syntax error. Looks at the third field of the first line.
fn classify_version_error(buf: &[u8]) -> HeadError {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let rest = buf.get(start..).unwrap_or_default();
    let line_end = rest
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(rest.len());
    let line = rest.get(..line_end).unwrap_or_default();
    let version = line.split(|&b| b == b' ').nth(2).unwrap_or_default();
    let well_formed = match version {
        [b'H', b'T', b'T', b'P', b'/', major] => major.is_ascii_digit(),
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor] => {
            major.is_ascii_digit() && minor.is_ascii_digit()
        }
        _ => false,
    };
    if well_formed {
        HeadError::UnsupportedVersion
    } else {
        HeadError::Malformed("invalid HTTP version")
    }
}

/// Parse an HTTP/1.x request head from the start of `buf` with httparse, allowing at most
/// `max_headers` header lines.
///
/// `Partial` means "need more bytes" (not an error): every prefix of a valid head is
/// `Partial`. Rejects NUL bytes / control characters in the target, a target of a form the
/// method may not use (origin-form `/...`, absolute-form
/// `http://host/...`, `*` for `OPTIONS`), a non-UTF-8 target, `CONNECT` (501), and header
/// names/values httparse rejects. A bad target is reported as soon as it is complete, even
/// if the rest of the head has not arrived yet.
pub fn parse_head(buf: &[u8], max_headers: usize) -> Result<ParsedHead, HeadError> {
    Ok(match parse_layout(buf, max_headers)? {
        Some((layout, head_len)) => ParsedHead::Complete {
            request: Request {
                head: buf.get(..head_len).unwrap_or_default().to_vec(),
                layout,
            },
            head_len,
        },
        None => ParsedHead::Partial,
    })
}

/// [`parse_head`] of a buffer whose head the request may keep: on `Complete` the request takes
/// `buf`'s head bytes without copying them, and `buf` is left holding the bytes that followed
/// the head (a pipelined request, or nothing).
pub(crate) fn take_head(buf: &mut Vec<u8>, max_headers: usize) -> Result<ParsedHead, HeadError> {
    let Some((layout, head_len)) = parse_layout(buf, max_headers)? else {
        return Ok(ParsedHead::Partial);
    };
    let rest = buf.split_off(head_len.min(buf.len()));
    let head = std::mem::replace(buf, rest);
    Ok(ParsedHead::Complete {
        request: Request { head, layout },
        head_len,
    })
}

/// The parser behind [`parse_head`] and [`take_head`]: the layout of a complete head and its
/// length, `None` for a partial one. Header slots live on the stack up to
/// [`DEFAULT_MAX_HEADERS`] (uninitialized: nothing is written before httparse fills them).
fn parse_layout(buf: &[u8], max_headers: usize) -> Result<Option<(Layout, usize)>, HeadError> {
    let mut on_stack = [MaybeUninit::<httparse::Header<'_>>::uninit(); DEFAULT_MAX_HEADERS];
    let mut on_heap;
    let slots = match on_stack.get_mut(..max_headers) {
        Some(slots) => slots,
        None => {
            on_heap = vec![MaybeUninit::uninit(); max_headers];
            &mut on_heap[..]
        }
    };
    let mut req = httparse::Request::new(&mut []);
    let status = req
        .parse_with_uninit_headers(buf, slots)
        .map_err(|e| match e {
            httparse::Error::TooManyHeaders => HeadError::TooManyHeaders,
            httparse::Error::Version => classify_version_error(buf),
            httparse::Error::Token => HeadError::Malformed("invalid method or request target"),
            httparse::Error::HeaderName => HeadError::Malformed("invalid header name"),
            httparse::Error::HeaderValue => HeadError::Malformed("invalid header value"),
            httparse::Error::NewLine => HeadError::Malformed("invalid line ending"),
            _ => HeadError::Malformed("invalid request head"),
        })?;
    let origin_form_at = match (req.method, req.path) {
        (Some("CONNECT"), _) => return Err(HeadError::NotImplemented("CONNECT (not a proxy)")),
        (Some(method), Some(target)) => Some(path_start(method, target)?),
        _ => None,
    };
    let head_len = match status {
        httparse::Status::Partial => return Ok(None),
        httparse::Status::Complete(n) => n,
    };
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version)
    else {
        // httparse always fills these on Complete; treat the impossible as malformed.
        return Err(HeadError::Malformed("incomplete request line"));
    };
    let target_span = span_in(buf, target.as_bytes());
    let layout = Layout {
        method: Method::from_token(method),
        origin_form: target_span.start + origin_form_at.unwrap_or(0)..target_span.end,
        target: target_span,
        minor_version,
        headers: req
            .headers
            .iter()
            .map(|h| HeaderSpan {
                name: span_in(buf, h.name.as_bytes()),
                value: span_in(buf, h.value),
            })
            .collect(),
    };
    Ok(Some((layout, head_len)))
}

/// Where `part`, a slice httparse took out of `buf`, lies in `buf`.
fn span_in(buf: &[u8], part: &[u8]) -> Range<usize> {
    let start = (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
    start..start + part.len()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The request `buf` holds and its head's length; panics if it is not one complete head.
    pub(in crate::http) fn parse_ok(buf: &[u8]) -> (Request, usize) {
        match parse_head(buf, DEFAULT_MAX_HEADERS) {
            Ok(ParsedHead::Complete { request, head_len }) => (request, head_len),
            other => panic!(
                "expected Complete for {:?}, got {other:?}",
                String::from_utf8_lossy(buf)
            ),
        }
    }

    fn parse_err(buf: &[u8]) -> HeadError {
        match parse_head(buf, DEFAULT_MAX_HEADERS) {
            Err(e) => e,
            other => panic!(
                "expected Err for {:?}, got {other:?}",
                String::from_utf8_lossy(buf)
            ),
        }
    }

    const SIMPLE: &[u8] = b"GET /a%20b?x=1#f HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";

    #[test]
    fn complete_head_fields() {
        let (req, len) = parse_ok(SIMPLE);
        assert_eq!(len, SIMPLE.len());
        assert_eq!(req.method(), &Method::Get);
        assert_eq!(req.target(), "/a%20b?x=1#f");
        assert_eq!(req.path(), "/a%20b");
        assert_eq!(req.minor_version(), 1);
        assert_eq!(req.header("host"), Some(&b"example.com"[..]));
        assert_eq!(req.header_str("ACCEPT"), Some("*/*"));
        assert_eq!(req.header("missing"), None);
        let names: Vec<&str> = req.headers().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["Host", "Accept"]);
    }

    #[test]
    fn every_prefix_is_partial() {
        for end in 0..SIMPLE.len() {
            match parse_head(&SIMPLE[..end], DEFAULT_MAX_HEADERS) {
                Ok(ParsedHead::Partial) => {}
                other => panic!("prefix of len {end} gave {other:?}"),
            }
        }
    }

    #[test]
    fn pipelined_requests() {
        let first = b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
        let second = b"HEAD /two HTTP/1.1\r\nHost: a\r\n\r\n";
        let mut buf = first.to_vec();
        buf.extend_from_slice(second);
        let (r1, n1) = parse_ok(&buf);
        assert_eq!(n1, first.len());
        assert_eq!(r1.path(), "/one");
        let (r2, n2) = parse_ok(&buf[n1..]);
        assert_eq!(n2, second.len());
        assert_eq!(r2.method(), &Method::Head);
        assert_eq!(r2.path(), "/two");
    }

    #[test]
    fn take_head_keeps_the_bytes_and_leaves_what_follows() {
        let first = b"GET /one HTTP/1.1\r\nHost: a\r\nX-Bin: \xff\r\n\r\n";
        let second = b"HEAD /two HTTP/1.1\r\n";
        let mut buf = [&first[..], second].concat();
        match take_head(&mut buf, DEFAULT_MAX_HEADERS) {
            Ok(ParsedHead::Complete { request, head_len }) => {
                assert_eq!(head_len, first.len());
                assert_eq!(request.path(), "/one");
                assert_eq!(request.header("x-bin"), Some(&b"\xff"[..]));
                let owned = match parse_head(first, DEFAULT_MAX_HEADERS) {
                    Ok(ParsedHead::Complete { request, .. }) => request,
                    other => panic!("{other:?}"),
                };
                assert_eq!(format!("{request:?}"), format!("{owned:?}"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(buf, second);
        // A partial head stays where it is.
        assert!(matches!(
            take_head(&mut buf, DEFAULT_MAX_HEADERS),
            Ok(ParsedHead::Partial)
        ));
        assert_eq!(buf, second);
    }

    #[test]
    fn more_header_slots_than_the_stack_holds() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..DEFAULT_MAX_HEADERS + 6 {
            head.extend_from_slice(format!("X-{i}: v{i}\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        let (req, _) = match parse_head(&head, DEFAULT_MAX_HEADERS + 6) {
            Ok(ParsedHead::Complete { request, head_len }) => (request, head_len),
            other => panic!("{other:?}"),
        };
        assert_eq!(req.headers().count(), DEFAULT_MAX_HEADERS + 6);
        assert_eq!(req.header_str("x-69"), Some("v69"));
        assert_eq!(
            parse_head(&head, DEFAULT_MAX_HEADERS).unwrap_err(),
            HeadError::TooManyHeaders
        );
    }

    #[test]
    fn body_bytes_not_counted_in_head_len() {
        let buf = b"GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        let (req, n) = parse_ok(buf);
        assert_eq!(n, buf.len() - 3);
        assert_eq!(req.body_framing(), Ok(BodyFraming::ContentLength(3)));
    }

    #[test]
    fn methods() {
        for (line, want) in [
            (&b"GET / HTTP/1.1\r\n\r\n"[..], Method::Get),
            (b"HEAD / HTTP/1.1\r\n\r\n", Method::Head),
            (b"POST / HTTP/1.1\r\n\r\n", Method::Other("POST".into())),
            (b"get / HTTP/1.1\r\n\r\n", Method::Other("get".into())),
        ] {
            let (req, _) = parse_ok(line);
            assert_eq!(req.method(), &want);
            assert_eq!(req.method().as_str(), want.as_str());
        }
        assert_eq!(Method::Other("PUT".into()).as_str(), "PUT");
    }

    #[test]
    fn header_case_insensitive_and_repeated() {
        let buf = b"GET / HTTP/1.1\r\ncOnNeCtIoN: Upgrade\r\nconnection: keep-alive, CLOSE \r\nX-Bin: \xff\xfe\r\n\r\n";
        let (req, _) = parse_ok(buf);
        assert_eq!(req.header_count("Connection"), 2);
        assert_eq!(req.header("CONNECTION"), Some(&b"Upgrade"[..]));
        assert!(req.has_token("connection", "upgrade"));
        assert!(req.has_token("Connection", "close"));
        assert!(req.has_token("connection", "Keep-Alive"));
        assert!(!req.has_token("connection", "keep"));
        assert!(!req.has_token("upgrade", "websocket"));
        assert!(!req.keep_alive());
        assert_eq!(req.header("x-bin"), Some(&b"\xff\xfe"[..]));
        assert_eq!(req.header_str("x-bin"), None);
    }

    #[test]
    fn keep_alive_rules() {
        for (head, want) in [
            (&b"GET / HTTP/1.1\r\n\r\n"[..], true),
            (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
            (
                b"GET / HTTP/1.1\r\nConnection: Upgrade, Close\r\n\r\n",
                false,
            ),
            (b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", true),
            (b"GET / HTTP/1.0\r\n\r\n", false),
            (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
            (
                b"GET / HTTP/1.0\r\nConnection: foo\r\nConnection: keep-alive\r\n\r\n",
                true,
            ),
            (
                b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
                false,
            ),
            (b"GET / HTTP/1.0\r\nConnection: close\r\n\r\n", false),
        ] {
            let (req, _) = parse_ok(head);
            assert_eq!(req.keep_alive(), want, "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn minor_version() {
        assert_eq!(parse_ok(b"GET / HTTP/1.0\r\n\r\n").0.minor_version(), 0);
        assert_eq!(parse_ok(b"GET / HTTP/1.1\r\n\r\n").0.minor_version(), 1);
    }

    #[test]
    fn bad_request_lines() {
        for head in [
            &b"GET * HTTP/1.1\r\n\r\n"[..],
            b"GET ftp://example.com/ HTTP/1.1\r\n\r\n",
            b"GET example.com HTTP/1.1\r\n\r\n",
            b"GET /a\x00b HTTP/1.1\r\n\r\n",
            b"GET /a\x7fb HTTP/1.1\r\n\r\n",
            b"GET /a\x01b HTTP/1.1\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 \r\n\r\n",
            b"GET /\r\n\r\n",
            b"GET / HTTX/1.1\r\n\r\n",
            b"GET / HTTP/1.x\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nName : x\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        ] {
            let err = parse_err(head);
            assert!(
                matches!(err, HeadError::Malformed(_)),
                "{head:?} -> {err:?}"
            );
            assert_eq!(err.status(), 400);
        }
    }

    #[test]
    fn bad_target_rejected_before_head_completes() {
        assert!(matches!(
            parse_head(b"GET * HTTP/1.1\r\nHost:", DEFAULT_MAX_HEADERS),
            Err(HeadError::Malformed(_))
        ));
    }

    #[test]
    fn unsupported_versions() {
        for head in [
            &b"GET / HTTP/2.0\r\n\r\n"[..],
            b"GET / HTTP/1.2\r\n\r\n",
            b"GET / HTTP/0.9\r\n\r\n",
            b"GET / HTTP/3\r\n\r\n",
        ] {
            let err = parse_err(head);
            assert_eq!(err, HeadError::UnsupportedVersion, "{head:?}");
            assert_eq!(err.status(), 505);
        }
    }

    #[test]
    fn too_many_headers() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..3 {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        assert!(matches!(
            parse_head(&head, 3),
            Ok(ParsedHead::Complete { .. })
        ));
        let err = parse_head(&head, 2).unwrap_err();
        assert_eq!(err, HeadError::TooManyHeaders);
        assert_eq!(err.status(), 431);
        assert!(matches!(
            parse_head(b"GET / HTTP/1.1\r\nA: b\r\n\r\n", 0),
            Err(HeadError::TooManyHeaders)
        ));
        assert!(matches!(
            parse_head(b"GET / HTTP/1.1\r\n\r\n", 0),
            Ok(ParsedHead::Complete { .. })
        ));
    }

    #[test]
    fn target_forms_and_their_paths() {
        for (head, target, path) in [
            (
                &b"GET http://example.com/a%20b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"[..],
                "http://example.com/a%20b?x=1",
                "/a%20b",
            ),
            (
                b"GET http://example.com HTTP/1.1\r\nHost: e\r\n\r\n",
                "http://example.com",
                "/",
            ),
            (
                b"GET http://example.com?q HTTP/1.1\r\nHost: e\r\n\r\n",
                "http://example.com?q",
                "/",
            ),
            (b"OPTIONS * HTTP/1.1\r\nHost: e\r\n\r\n", "*", "*"),
        ] {
            let (req, _) = parse_ok(head);
            assert_eq!((req.target(), req.path()), (target, path));
        }
        assert_eq!(
            parse_ok(b"GET http://h/x?y HTTP/1.1\r\n\r\n")
                .0
                .origin_form(),
            "/x?y"
        );
        assert_eq!(
            parse_err(b"CONNECT example.com:443 HTTP/1.1\r\n\r\n").status(),
            501
        );
    }

    #[test]
    fn mutated_heads_never_panic() {
        // Deterministic xorshift so failures are reproducible.
        let mut state: u32 = 0x9e37_79b9;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let mut outcomes = [0usize; 3];
        for _ in 0..5000 {
            let mut buf = SIMPLE.to_vec();
            for _ in 0..(next() % 4 + 1) {
                let i = next() as usize % buf.len();
                buf[i] = next() as u8;
            }
            let cut = next() as usize % (buf.len() + 1);
            match parse_head(&buf[..cut], 4) {
                Ok(ParsedHead::Partial) => outcomes[0] += 1,
                Ok(ParsedHead::Complete { request, head_len }) => {
                    assert!(head_len <= cut);
                    assert!(request.path().starts_with('/'));
                    outcomes[1] += 1;
                }
                Err(e) => {
                    assert!(matches!(e.status(), 400 | 431 | 501 | 505));
                    outcomes[2] += 1;
                }
            }
        }
        assert!(outcomes.iter().all(|&n| n > 0), "{outcomes:?}");
    }

    #[test]
    fn leading_empty_lines_are_skipped() {
        let buf = b"\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
        let (req, n) = parse_ok(buf);
        assert_eq!(n, buf.len());
        assert_eq!(req.path(), "/x");
    }

    #[test]
    fn error_display_has_no_request_bytes() {
        assert_eq!(
            HeadError::Malformed("invalid header name").to_string(),
            "malformed request: invalid header name"
        );
        assert_eq!(
            HeadError::TooManyHeaders.to_string(),
            "too many request headers"
        );
    }
}
