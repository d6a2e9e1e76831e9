//! The handle a callback acts through: send, ask for a writeable callback, close, set a
//! timer, learn who the peer is. It never exposes the socket.

use super::Message;
use crate::conn::{ConnectionId, OutQueue};
use crate::net::Transport;
use log::debug;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::WebSocketContext;
use tungstenite::{Bytes, Utf8Bytes};

/// Why a send was refused. Nothing was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The callback is about the protocol as a whole (`ProtocolInit`, `ProtocolDestroy`).
    NoConnection,
    /// The connection is not an open WebSocket (an HTTP request, or a close is under way).
    NotOpen,
    /// The outgoing queue would pass `max_outgoing_bytes`: the peer is not reading. The
    /// connection is closed with 1008; wait for `ServerWriteable` before sending more.
    QueueFull,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::NoConnection => "no connection in this callback",
            SendError::NotOpen => "the WebSocket is not open",
            SendError::QueueFull => "the outgoing queue is full",
        })
    }
}

impl std::error::Error for SendError {}

/// How the outgoing queue stands after a message was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Below `outgoing_soft_limit`: keep sending.
    Flowing,
    /// Queued, but the queue is above `outgoing_soft_limit`: the peer reads slower than we
    /// send. Stop, [`request_writeable`](Context::request_writeable), and carry on in
    /// `ServerWriteable` (perhaps [`pause_reading`](Context::pause_reading) meanwhile).
    Congested,
}

/// What the callbacks of one connection asked the loop to do; carried out after each callback.
#[derive(Debug, Default)]
pub(crate) struct SessionRequests {
    /// Deliver `ServerWriteable` once the connection can take more output.
    pub writeable: bool,
    /// Close with this code and reason once the callback returns.
    pub close: Option<(CloseCode, String)>,
    /// When the connection's `Timer` reason is due.
    pub timer: Option<Instant>,
    /// A send hit `max_outgoing_bytes`.
    pub overflowed: bool,
    /// Do not read from the connection (rx flow control).
    pub rx_paused: bool,
}

/// The connection a callback is about, as the loop lends it to the [`Context`].
pub(crate) struct ConnectionLink<'a> {
    pub id: ConnectionId,
    pub peer: SocketAddr,
    /// The open WebSocket; `None` while the connection is still HTTP.
    pub ws: Option<&'a mut WebSocketContext>,
    pub out: &'a mut OutQueue,
    pub requests: &'a mut SessionRequests,
    pub max_outgoing: usize,
    pub soft_limit: usize,
}

/// The callback's handle on the loop and on the connection the reason is about.
pub struct Context<'a> {
    link: Option<ConnectionLink<'a>>,
    now: Instant,
}

impl<'a> Context<'a> {
    pub(crate) fn for_connection(link: ConnectionLink<'a>, now: Instant) -> Self {
        Context {
            link: Some(link),
            now,
        }
    }

    pub(crate) fn for_protocol(now: Instant) -> Self {
        Context { link: None, now }
    }

    /// The loop's clock for this tick.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The connection's id (unique for the server's lifetime), if the reason is about one.
    pub fn connection_id(&self) -> Option<ConnectionId> {
        self.link.as_ref().map(|link| link.id)
    }

    /// The peer's address, if the reason is about a connection.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.link.as_ref().map(|link| link.peer)
    }

    /// Bytes queued for this connection and not yet taken by the kernel.
    pub fn queued_bytes(&self) -> usize {
        self.link.as_ref().map_or(0, |link| link.out.len())
    }

    /// Queue a whole message. It reaches the socket when the callback returns (the loop
    /// batches every message of one tick into as few writes as it can). [`Sent::Congested`]
    /// says the peer is falling behind; past `max_outgoing_bytes` the send fails with
    /// [`SendError::QueueFull`] and the connection is closed with 1008.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<Sent, SendError> {
        let link = self.link.as_mut().ok_or(SendError::NoConnection)?;
        let ws = link.ws.as_deref_mut().ok_or(SendError::NotOpen)?;
        if link.requests.close.is_some() || !ws.can_write() {
            return Err(SendError::NotOpen);
        }
        let message = message.into();
        let frame_bytes = message.len() + MAX_FRAME_HEADER_BYTES;
        if link.out.len() + frame_bytes > link.max_outgoing {
            link.requests.overflowed = true;
            return Err(SendError::QueueFull);
        }
        let queued = ws.write(
            &mut Transport::queue_only(link.out),
            message.into_tungstenite(),
        );
        queued.map_err(|err| {
            debug!("{}: send refused: {err}", link.id);
            SendError::NotOpen
        })?;
        Ok(if link.out.len() > link.soft_limit {
            Sent::Congested
        } else {
            Sent::Flowing
        })
    }

    /// Queue a text message.
    pub fn send_text(&mut self, text: impl Into<Utf8Bytes>) -> Result<Sent, SendError> {
        self.send(Message::Text(text.into()))
    }

    /// Queue a binary message.
    pub fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<Sent, SendError> {
        self.send(Message::Binary(data.into()))
    }

    /// Stop reading from this connection (libwebsockets' rx flow control): nothing more is
    /// received until [`resume_reading`](Context::resume_reading), and TCP pushes back on a
    /// peer that keeps sending.
    pub fn pause_reading(&mut self) {
        if let Some(link) = self.link.as_mut() {
            link.requests.rx_paused = true;
        }
    }

    /// Read from this connection again after [`pause_reading`](Context::pause_reading).
    pub fn resume_reading(&mut self) {
        if let Some(link) = self.link.as_mut() {
            link.requests.rx_paused = false;
        }
    }

    /// True while reading is paused.
    pub fn is_reading_paused(&self) -> bool {
        self.link
            .as_ref()
            .is_some_and(|link| link.requests.rx_paused)
    }

    /// Ask for one `ServerWriteable` callback when the connection can take more output
    /// (libwebsockets' `lws_callback_on_writable`). It sends nothing by itself.
    pub fn request_writeable(&mut self) {
        if let Some(link) = self.link.as_mut() {
            link.requests.writeable = true;
        }
    }

    /// Start the close handshake with `code` and `reason` once the callback returns. Messages
    /// queued before it are sent first; sends after it are refused.
    pub fn close(&mut self, code: CloseCode, reason: &str) {
        if let Some(link) = self.link.as_mut() {
            link.requests.close = Some((code, reason.to_owned()));
        }
    }

    /// Deliver one `Timer` reason to this connection after `delay` (replacing any earlier one).
    pub fn set_timer(&mut self, delay: Duration) {
        let due = self.now + delay;
        if let Some(link) = self.link.as_mut() {
            link.requests.timer = Some(due);
        }
    }

    /// Cancel the connection's pending timer, if any.
    pub fn cancel_timer(&mut self) {
        if let Some(link) = self.link.as_mut() {
            link.requests.timer = None;
        }
    }
}

/// The longest header a server frame can have (no mask): 2 + 8 bytes, rounded up.
const MAX_FRAME_HEADER_BYTES: usize = 14;
