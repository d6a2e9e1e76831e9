//! A tiny raw-TCP HTTP/1.x client for the integration tests: send exact request bytes, read
//! responses framed by `Content-Length`, and observe when the server closes the connection.
//! Every read and write is bounded by a socket timeout.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Socket read/write timeout for the raw HTTP helpers.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect to `addr` with read and write timeouts set to [`IO_TIMEOUT`].
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// One parsed HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status line without CRLF, e.g. `HTTP/1.1 200 OK`.
    pub status_line: String,
    pub status: u16,
    /// Header lines in order, as `(name, value)` with the name as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `Content-Length` header as a number.
    pub fn content_length(&self) -> Option<usize> {
        self.header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// `Connection: close` present?
    pub fn says_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    }
}

/// Reads responses from one connection, keeping bytes that arrived past the current response.
pub struct HttpConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl HttpConn {
    pub fn open(addr: SocketAddr) -> HttpConn {
        HttpConn {
            stream: connect(addr),
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("write request: {e}"));
    }

    /// Bytes already read but not yet consumed by a parsed response.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Take exactly `n` bytes (reading more as needed). Panics on EOF or timeout.
    pub fn take_exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            match self.fill() {
                Ok(0) => panic!(
                    "connection closed with {} of {n} wanted bytes: {:?}",
                    self.buf.len(),
                    String::from_utf8_lossy(&self.buf)
                ),
                Ok(_) => {}
                Err(e) => panic!("reading {n} bytes (have {}): {e}", self.buf.len()),
            }
        }
        self.buf.drain(..n).collect()
    }

    /// Read one response. `head_only`: the request was HEAD, so no body follows whatever
    /// `Content-Length` says. Panics on timeout or when the connection ends mid-response.
    pub fn read_response(&mut self, head_only: bool) -> HttpResponse {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            match self.fill() {
                Ok(0) => panic!(
                    "connection closed before a full response head; got {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
                Ok(_) => {}
                Err(e) => panic!(
                    "reading response head: {e}; got so far {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end - 4]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default().to_string();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (name, value) = line
                    .split_once(':')
                    .unwrap_or_else(|| panic!("bad header line {line:?}"));
                (name.to_string(), value.trim().to_string())
            })
            .collect();
        let mut response = HttpResponse {
            status_line,
            status,
            headers,
            body: Vec::new(),
        };
        self.buf.drain(..head_end);
        let body_len = if head_only || status < 200 || status == 204 || status == 304 {
            0
        } else {
            response
                .content_length()
                .unwrap_or_else(|| panic!("response without Content-Length: {response:?}"))
        };
        while self.buf.len() < body_len {
            match self.fill() {
                Ok(0) => panic!(
                    "connection closed after {} of {body_len} body bytes",
                    self.buf.len()
                ),
                Ok(_) => {}
                Err(e) => panic!("reading response body: {e}"),
            }
        }
        response.body = self.buf.drain(..body_len).collect();
        response
    }

    /// Wait (bounded by `within`) for the server to close the connection: returns the bytes
    /// that arrived before EOF. `Err` when the deadline passes with the connection open.
    /// A reset also counts as closed.
    pub fn wait_closed(&mut self, within: Duration) -> Result<Vec<u8>, String> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "connection still open after {within:?}; extra bytes {:?}",
                    String::from_utf8_lossy(&self.buf)
                ));
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.fill() {
                Ok(0) => return Ok(std::mem::take(&mut self.buf)),
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    return Ok(std::mem::take(&mut self.buf))
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(format!("reading while waiting for close: {e}")),
            }
        }
    }

    /// Half-close our side (FIN), keep reading.
    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

/// Send `request` on a new connection and read one response (`head_only` for HEAD).
pub fn request(addr: SocketAddr, request: &[u8], head_only: bool) -> HttpResponse {
    let mut conn = HttpConn::open(addr);
    conn.send(request);
    conn.read_response(head_only)
}

/// `GET path HTTP/1.1` with `Host` and `Connection: close`, one response.
pub fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    request(addr, req.as_bytes(), false)
}

/// Position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Does `haystack` contain `needle`?
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}
