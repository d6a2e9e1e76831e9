//! WebSocket helpers for the integration tests: a tungstenite client over a `TcpStream` with
//! timeouts, and a raw client that writes exact frames (masked or not) and parses the server's
//! frames itself, for the cases a well-behaved client library refuses to produce.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tungstenite::client::ClientRequestBuilder;
use tungstenite::handshake::client::Response;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

use super::http::{HttpConn, HttpResponse};
use super::ServerProcess;

/// The RFC 6455 §1.3 sample key and its accept value.
pub const SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const SAMPLE_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Socket read/write timeout for WebSocket clients.
pub const WS_TIMEOUT: Duration = Duration::from_secs(15);

pub type Client = WebSocket<TcpStream>;

/// Connect with tungstenite offering `protocols` (none: no `Sec-WebSocket-Protocol` header).
pub fn try_connect(
    addr: SocketAddr,
    protocols: &[&str],
) -> Result<(Client, Response), tungstenite::Error> {
    try_connect_to(addr, "/", protocols)
}

/// [`try_connect`] with a request-target of its own (`"/?mirror=a"`).
pub fn try_connect_to(
    addr: SocketAddr,
    target: &str,
    protocols: &[&str],
) -> Result<(Client, Response), tungstenite::Error> {
    let stream = TcpStream::connect_timeout(&addr, WS_TIMEOUT).map_err(tungstenite::Error::Io)?;
    stream.set_read_timeout(Some(WS_TIMEOUT))?;
    stream.set_write_timeout(Some(WS_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let uri: tungstenite::http::Uri = format!("ws://{addr}{target}").parse().expect("valid uri");
    let mut request = ClientRequestBuilder::new(uri);
    for p in protocols {
        request = request.with_sub_protocol(*p);
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    tungstenite::client::client_with_config(request, stream, Some(config)).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(e) => e,
        tungstenite::HandshakeError::Interrupted(_) => {
            tungstenite::Error::Io(std::io::Error::other("handshake interrupted"))
        }
    })
}

/// Read until the server's close frame; its code (`None`: a close frame without one).
pub fn read_close_code(ws: &mut Client) -> Result<Option<u16>, tungstenite::Error> {
    loop {
        if let Message::Close(frame) = ws.read()? {
            return Ok(frame.map(|f| u16::from(f.code)));
        }
    }
}

/// [`try_connect`] to a running server, panicking with the error.
pub fn connect_with(server: &ServerProcess, protocols: &[&str]) -> (Client, Response) {
    try_connect(server.connect_addr(), protocols)
        .unwrap_or_else(|e| panic!("WebSocket connect offering {protocols:?}: {e}"))
}

/// Connect offering no subprotocol.
pub fn connect(server: &ServerProcess) -> Client {
    connect_with(server, &[]).0
}

/// Read the next data message (text or binary), skipping pings/pongs. Panics on anything else.
pub fn next_data(ws: &mut Client) -> Message {
    loop {
        match ws.read() {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => return m,
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(other) => panic!("expected a data message, got {other:?}"),
            Err(e) => panic!("expected a data message, got error {e}"),
        }
    }
}

/// Send `msg` and return the server's next data message.
pub fn round_trip(ws: &mut Client, msg: Message) -> Message {
    ws.send(msg).unwrap_or_else(|e| panic!("send: {e}"));
    next_data(ws)
}

/// The header of the `Sec-WebSocket-Protocol` response header, if any.
pub fn response_protocol(resp: &Response) -> Option<String> {
    resp.headers()
        .get("sec-websocket-protocol")
        .map(|v| v.to_str().expect("ascii header").to_string())
}

/// An upgrade request head: `request_line`, the standard upgrade headers (sample key,
/// version 13), then `extra` header lines. A standard header whose name (case-insensitive)
/// appears in `extra` is replaced by the extra line; an extra line whose value is `<omit>`
/// (e.g. `"Sec-WebSocket-Key: <omit>"`) just removes that header.
pub fn upgrade_head(request_line: &str, extra: &[&str]) -> String {
    let standard = [
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        concat!("Sec-WebSocket-Key: ", "dGhlIHNhbXBsZSBub25jZQ=="),
        "Sec-WebSocket-Version: 13",
    ];
    let name = |line: &str| {
        line.split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let mut head = format!("{request_line}\r\n");
    for line in standard {
        if !extra.iter().any(|e| name(e) == name(line)) {
            head.push_str(line);
            head.push_str("\r\n");
        }
    }
    for line in extra {
        // An extra line that is just "Name:" with the marker value `<omit>` removes the header.
        if line.ends_with("<omit>") {
            continue;
        }
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}

/// WebSocket opcodes.
pub mod op {
    pub const CONT: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;
}

/// The mask the raw client uses (any value works; a fixed one keeps failures reproducible).
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Encode one frame. `mask`: `Some` for a client frame (as RFC 6455 requires), `None` for an
/// unmasked one.
pub fn encode_frame(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![(if fin { 0x80 } else { 0 }) | (opcode & 0x0f)];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= 0xffff {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A masked client frame.
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    encode_frame(fin, opcode, payload, Some(MASK))
}

/// A masked client frame with RSV1 set (permessage-deflate: a compressed message's first
/// frame).
pub fn client_frame_rsv1(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = client_frame(fin, opcode, payload);
    frame[0] |= 0x40;
    frame
}

/// A masked client close frame with `code` and `reason`.
pub fn client_close(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    client_frame(true, op::CLOSE, &payload)
}

/// One frame as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    pub fin: bool,
    /// RSV1: the first frame of a compressed message.
    pub rsv1: bool,
    pub opcode: u8,
    pub masked: bool,
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// For a close frame: the status code (None for an empty payload).
    pub fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, op::CLOSE, "not a close frame: {self:?}");
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    /// For a close frame: the reason text.
    pub fn close_reason(&self) -> String {
        String::from_utf8_lossy(self.payload.get(2..).unwrap_or_default()).into_owned()
    }
}

/// A raw WebSocket client: the handshake over [`HttpConn`], then hand-made frames.
pub struct RawWs {
    pub conn: HttpConn,
    /// The 101 response.
    pub response: HttpResponse,
}

impl RawWs {
    /// Upgrade with the sample key plus `extra` header lines; `early` bytes (frames) go in the
    /// same write as the request head. Panics unless the answer is 101.
    pub fn open(addr: SocketAddr, extra: &[&str], early: &[u8]) -> RawWs {
        let mut conn = HttpConn::open(addr);
        let mut bytes = upgrade_head("GET / HTTP/1.1", extra).into_bytes();
        bytes.extend_from_slice(early);
        conn.send(&bytes);
        let response = conn.read_response(false);
        assert_eq!(response.status, 101, "upgrade refused: {response:?}");
        RawWs { conn, response }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.conn.send(bytes);
    }

    /// Read one whole frame (bounded by the socket timeout). Panics on EOF or timeout.
    pub fn read_frame(&mut self) -> RawFrame {
        let head = self.conn.take_exact(2);
        let fin = head[0] & 0x80 != 0;
        let opcode = head[0] & 0x0f;
        let masked = head[1] & 0x80 != 0;
        let len = match head[1] & 0x7f {
            126 => u16::from_be_bytes(self.conn.take_exact(2).try_into().unwrap()) as usize,
            127 => u64::from_be_bytes(self.conn.take_exact(8).try_into().unwrap()) as usize,
            n => n as usize,
        };
        let key = masked.then(|| self.conn.take_exact(4));
        let mut payload = self.conn.take_exact(len);
        if let Some(key) = key {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        RawFrame {
            fin,
            rsv1: head[0] & 0x40 != 0,
            opcode,
            masked,
            payload,
        }
    }

    /// Wait for the server to close TCP (see [`HttpConn::wait_closed`]); returns the bytes that
    /// came before EOF.
    pub fn wait_closed(&mut self, within: Duration) -> Result<Vec<u8>, String> {
        self.conn.wait_closed(within)
    }
}
