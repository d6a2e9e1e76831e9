//! HTTP/1.1 responses: a small builder, its serialization to bytes, and the prepared form a
//! cached file is answered with.

use bytes::Bytes;
use std::io::Write as _;

use super::date::HttpDate;
use super::token::is_tchar;

/// Value of the `Server` header added by [`Response::write_to`].
const SERVER_NAME: &str = "wsloop";

/// Headers whose value [`Response::write_to`] decides itself; user-set copies are skipped.
const SERVER_OWNED: [&str; 4] = ["content-length", "connection", "transfer-encoding", "date"];

/// An HTTP response: status, headers and a fully buffered body.
#[derive(Debug, Clone)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Response {
    /// A response with `status`, no headers and an empty body.
    ///
    /// A status outside `100..=999` cannot be written in a status line and is replaced by 500.
    pub fn new(status: u16) -> Self {
        let status = if (100..=999).contains(&status) {
            status
        } else {
            500
        };
        Response {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Append a header (builder style). Repeated names are kept, in order.
    ///
    /// Injection-safe by **stripping**: bytes that are not token characters are removed from
    /// `name`, and CR, LF, NUL and other control characters (except tab) are removed from
    /// `value`, which is then trimmed. If the name ends up empty the header is dropped.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let mut name = name.into();
        name.retain(|c| c.is_ascii() && is_tchar(c as u8));
        if name.is_empty() {
            log::warn!("dropping response header with an invalid name");
            return self;
        }
        let mut value = value.into();
        value.retain(|c| c == '\t' || !c.is_control());
        let value = value.trim_matches([' ', '\t']).to_owned();
        self.headers.push((name, value));
        self
    }

    /// Set the body and its `Content-Type` (replacing any `Content-Type` set before).
    pub fn with_body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
        self.body = body.into();
        self.with_header("Content-Type", content_type)
    }

    /// A short `text/plain` error response whose body is `"<status> <reason>\n<detail>\n"`.
    ///
    /// `detail` must be a server-chosen static message; never pass request bytes.
    pub fn error(status: u16, detail: &str) -> Self {
        let resp = Response::new(status);
        let body = format!(
            "{} {}\n{}\n",
            resp.status,
            reason_phrase(resp.status),
            detail
        );
        resp.with_body("text/plain; charset=utf-8", body)
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The value of the first header called `name` (case-insensitive) set on this response.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Take the body out, to send it from a cursor after a head written with `head_only`.
    /// Empty for statuses that carry no body (1xx, 204, 304).
    pub fn into_body(self) -> Bytes {
        if status_allows_body(self.status) {
            self.body
        } else {
            Bytes::new()
        }
    }

    /// Append the status line, headers and (unless `head_only`) the body to `out`.
    ///
    /// Always writes `Content-Length` with the body's length, also for HEAD — except for
    /// 1xx, 204 and 304 responses, which per RFC 9110 carry neither `Content-Length` nor a
    /// body. Writes `Date: <date>` (RFC 9110 §6.6.1), then `Connection: close` when
    /// `!keep_alive`, and `Connection: keep-alive` when `keep_alive && http10`. Adds
    /// `Server: wsloop` and `X-Content-Type-Options: nosniff` unless the user set them.
    /// User-set `Content-Length`, `Connection`, `Transfer-Encoding` and `Date` headers are
    /// ignored: framing and the date are owned by this method.
    /// The status line is always `HTTP/1.1`.
    pub fn write_to(
        &self,
        out: &mut Vec<u8>,
        date: &HttpDate,
        head_only: bool,
        keep_alive: bool,
        http10: bool,
    ) {
        self.write_fixed_head(out, self.body.len() as u64);
        finish_head(out, date, keep_alive, http10);
        if status_allows_body(self.status) && !head_only {
            out.extend_from_slice(&self.body);
        }
    }

    /// The head up to the `Connection` header (everything that does not depend on the
    /// request), for a body of `content_length` bytes.
    fn write_fixed_head(&self, out: &mut Vec<u8>, content_length: u64) {
        let status = self.status;
        // Writing into a Vec<u8> cannot fail.
        let _ = write!(out, "HTTP/1.1 {} {}\r\n", status, reason_phrase(status));
        for (name, value) in &self.headers {
            if SERVER_OWNED.iter().any(|s| name.eq_ignore_ascii_case(s)) {
                continue;
            }
            push_header(out, name, value);
        }
        if self.header("server").is_none() {
            push_header(out, "Server", SERVER_NAME);
        }
        if self.header("x-content-type-options").is_none() {
            push_header(out, "X-Content-Type-Options", "nosniff");
        }
        if status_allows_body(status) {
            let _ = write!(out, "Content-Length: {content_length}\r\n");
        }
    }
}

/// A response serialized once, ready to be sent any number of times: its head but for the
/// `Date` and `Connection` headers (the parts that depend on the moment and the request), and
/// its body. A cached
/// static file keeps one, so answering it formats and allocates nothing.
#[derive(Debug, Clone)]
pub struct PreparedResponse {
    status: u16,
    fixed_head: Bytes,
    body: Bytes,
}

impl PreparedResponse {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body bytes (empty for statuses that carry no body: 1xx, 204, 304).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Bytes of the serialized head (without its `Date` and `Connection` headers).
    pub(crate) fn head_len(&self) -> usize {
        self.fixed_head.len()
    }

    /// Take the body out, to send it from a cursor after [`PreparedResponse::write_head`].
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// Append the head to `out`: byte for byte what [`Response::write_to`] writes with
    /// `head_only`.
    pub fn write_head(&self, out: &mut Vec<u8>, date: &HttpDate, keep_alive: bool, http10: bool) {
        out.extend_from_slice(&self.fixed_head);
        finish_head(out, date, keep_alive, http10);
    }
}

impl PreparedResponse {
    /// `response`'s head for a body of `content_length` bytes that is sent from elsewhere (a
    /// file read from disk as the socket drains); the response's own body is dropped.
    pub(crate) fn for_length(response: &Response, content_length: u64) -> Self {
        let mut fixed_head = Vec::new();
        response.write_fixed_head(&mut fixed_head, content_length);
        PreparedResponse {
            status: response.status,
            fixed_head: fixed_head.into(),
            body: Bytes::new(),
        }
    }
}

impl From<Response> for PreparedResponse {
    fn from(response: Response) -> Self {
        let head = PreparedResponse::for_length(&response, response.body.len() as u64);
        PreparedResponse {
            body: response.into_body(),
            ..head
        }
    }
}

/// The end of every head: the `Date`, the `Connection` header the request calls for, and the
/// blank line.
fn finish_head(out: &mut Vec<u8>, date: &HttpDate, keep_alive: bool, http10: bool) {
    out.extend_from_slice(b"Date: ");
    out.extend_from_slice(date.as_bytes());
    out.extend_from_slice(b"\r\n");
    if !keep_alive {
        push_header(out, "Connection", "close");
    } else if http10 {
        push_header(out, "Connection", "keep-alive");
    }
    out.extend_from_slice(b"\r\n");
}

/// 1xx, 204 and 304 responses never have a body (RFC 9110 §6.4.1).
fn status_allows_body(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

/// Append one `name: value` header line.
fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Reason phrase for a status code ("OK", "Not Found", ..., "Unknown" otherwise).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9110's example date, the one every head in these tests carries.
    fn date() -> HttpDate {
        HttpDate::from_unix_seconds(784_111_777)
    }

    fn written(resp: &Response, head_only: bool, keep_alive: bool, http10: bool) -> String {
        let mut out = Vec::new();
        resp.write_to(&mut out, &date(), head_only, keep_alive, http10);
        String::from_utf8(out).expect("test responses are UTF-8")
    }

    #[test]
    fn reason_phrases() {
        for (code, want) in [
            (200, "OK"),
            (404, "Not Found"),
            (426, "Upgrade Required"),
            (431, "Request Header Fields Too Large"),
            (505, "HTTP Version Not Supported"),
            (299, "Unknown"),
            (0, "Unknown"),
        ] {
            assert_eq!(reason_phrase(code), want);
        }
    }

    #[test]
    fn full_serialization() {
        let resp = Response::new(200).with_body("text/plain", "hi");
        assert_eq!(
            written(&resp, false, true, false),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: wsloop\r\n\
             X-Content-Type-Options: nosniff\r\nContent-Length: 2\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\nhi"
        );
    }

    #[test]
    fn head_only_keeps_length_drops_body() {
        let resp = Response::new(200).with_body("text/plain", "hello");
        let s = written(&resp, true, true, false);
        assert!(s.contains("Content-Length: 5\r\n"), "{s}");
        assert!(s.ends_with("\r\n\r\n"), "{s}");
    }

    #[test]
    fn connection_header_table() {
        let resp = Response::new(200);
        for (keep_alive, http10, want) in [
            (false, false, Some("close")),
            (false, true, Some("close")),
            (true, true, Some("keep-alive")),
            (true, false, None),
        ] {
            let s = written(&resp, false, keep_alive, http10);
            let got = s
                .lines()
                .find_map(|l| l.strip_prefix("Connection: "))
                .map(|v| v.trim_end());
            assert_eq!(got, want, "keep_alive={keep_alive} http10={http10}");
            assert_eq!(
                s.matches("Connection:").count(),
                usize::from(want.is_some())
            );
        }
    }

    #[test]
    fn user_headers_not_duplicated() {
        let resp = Response::new(200)
            .with_header("server", "custom")
            .with_header("X-Content-Type-Options", "nosniff")
            .with_header("Content-Length", "999")
            .with_header("Connection", "keep-alive")
            .with_header("Transfer-Encoding", "chunked")
            .with_header("Date", "Mon, 01 Jan 2001 00:00:00 GMT")
            .with_body("text/plain", "abc");
        let s = written(&resp, false, false, false);
        assert_eq!(s.matches("erver:").count(), 1, "{s}");
        assert!(s.contains("server: custom\r\n"));
        assert_eq!(s.matches("X-Content-Type-Options").count(), 1);
        assert_eq!(s.matches("Content-Length").count(), 1);
        assert!(s.contains("Content-Length: 3\r\n"));
        assert_eq!(s.matches("Connection").count(), 1);
        assert!(s.contains("Connection: close\r\n"));
        assert!(!s.contains("Transfer-Encoding"));
        assert_eq!(s.matches("Date:").count(), 1, "{s}");
        assert!(s.contains("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
    }

    #[test]
    fn header_injection_is_stripped() {
        let resp = Response::new(200)
            .with_header("X-A\r\nSet-Cookie", "v\r\nSet-Cookie: evil=1")
            .with_header("\r\n", "dropped")
            .with_header("X-Nul", "a\0b\tc");
        assert_eq!(resp.header("X-ASet-Cookie"), Some("vSet-Cookie: evil=1"));
        assert_eq!(resp.header("x-nul"), Some("ab\tc"));
        let s = written(&resp, false, true, false);
        assert!(!s.contains("dropped"));
        assert_eq!(s.matches("\r\n").count(), 8, "{s}");
        assert!(!s.contains("\r\nSet-Cookie"));
    }

    #[test]
    fn with_body_replaces_content_type() {
        let resp = Response::new(200)
            .with_header("content-type", "a/b")
            .with_body("text/html", vec![1u8, 2]);
        assert_eq!(resp.header("Content-Type"), Some("text/html"));
        assert_eq!(resp.body(), &[1, 2]);
        let s = written(&resp, true, true, false);
        assert_eq!(
            s.to_ascii_lowercase().matches("\r\ncontent-type:").count(),
            1
        );
    }

    #[test]
    fn error_response() {
        let resp = Response::error(404, "no such file");
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.body(), b"404 Not Found\nno such file\n");
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }

    #[test]
    fn invalid_status_becomes_500() {
        assert_eq!(Response::new(42).status(), 500);
        assert_eq!(Response::new(1000).status(), 500);
        assert_eq!(Response::new(599).status(), 599);
        assert!(written(&Response::new(7), false, true, false).starts_with("HTTP/1.1 500 "));
    }

    #[test]
    fn bodiless_statuses() {
        for status in [100, 101, 204, 304] {
            let resp = Response::new(status).with_body("text/plain", "x");
            let s = written(&resp, false, true, false);
            assert!(!s.contains("Content-Length"), "{status}: {s}");
            assert!(s.ends_with("\r\n\r\n"), "{status}: {s}");
        }
        let s = written(&Response::new(200), false, true, false);
        assert!(s.contains("Content-Length: 0\r\n"));
    }

    #[test]
    fn prepared_head_is_the_written_head() {
        let responses = [
            Response::new(200).with_body("text/html", "<p>hi</p>"),
            Response::new(204).with_body("text/plain", "x"),
            Response::error(404, "no such file").with_header("Server", "other"),
        ];
        for resp in responses {
            let prepared = PreparedResponse::from(resp.clone());
            assert_eq!(prepared.status(), resp.status());
            for (keep_alive, http10) in [(true, false), (true, true), (false, false)] {
                let mut head = Vec::new();
                prepared.write_head(&mut head, &date(), keep_alive, http10);
                assert_eq!(head, written(&resp, true, keep_alive, http10).into_bytes());
            }
            assert_eq!(&prepared.body()[..], &resp.clone().into_body()[..]);
        }
    }

    #[test]
    fn write_appends() {
        let mut out = b"prev".to_vec();
        Response::new(200).write_to(&mut out, &date(), false, true, false);
        assert!(out.starts_with(b"prevHTTP/1.1 200 OK\r\n"));
    }
}
