//! The phases of a connection and the data each one carries:
//! `READING_HEAD -> (SERVING_FILE -> READING_HEAD | OPEN) -> CLOSING -> GONE`.

use super::closing::Closing;
use super::reading_head::HeadReader;
use super::serving_file::FileSend;
use super::websocket::WsSession;
use super::{Env, Ident, Wire};
use std::time::Instant;

/// Where a connection is in its life. Buffers exist only in the phase that needs them.
pub(crate) enum Phase {
    /// Collecting an HTTP request head.
    ReadingHead(HeadReader),
    /// Sending an HTTP response (head queued, body streamed from a cursor).
    ServingFile(FileSend),
    /// An open WebSocket.
    Open(Box<WsSession>),
    /// Close handshake and lingering close: flush, FIN, wait for the peer's FIN.
    Closing(Closing),
    /// Finished; the server removes it.
    Gone,
}

impl Phase {
    /// A new connection, waiting for its first request.
    pub fn first_request(env: &Env<'_>) -> Phase {
        Phase::ReadingHead(HeadReader::first(env))
    }

    /// A kept-alive connection after a response, with any pipelined bytes.
    pub fn next_request(leftover: Vec<u8>, env: &Env<'_>) -> Phase {
        Phase::ReadingHead(HeadReader::next(leftover, env))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Phase::ReadingHead(_) => "READING_HEAD",
            Phase::ServingFile(_) => "SERVING_FILE",
            Phase::Open(_) => "OPEN",
            Phase::Closing(_) => "CLOSING",
            Phase::Gone => "GONE",
        }
    }

    pub fn is_gone(&self) -> bool {
        matches!(self, Phase::Gone)
    }

    /// The next time this phase wants to be woken without an event.
    pub fn deadline(&self) -> Option<Instant> {
        match self {
            Phase::ReadingHead(head) => Some(head.deadline()),
            Phase::ServingFile(file) => Some(file.deadline()),
            Phase::Open(ws) => Some(ws.deadline()),
            Phase::Closing(closing) => Some(closing.deadline()),
            Phase::Gone => None,
        }
    }

    /// Do what readiness allows and return the next phase.
    pub fn step(self, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        match self {
            Phase::ReadingHead(head) => head.step(wire, ident, env),
            Phase::ServingFile(file) => file.step(wire, ident, env),
            Phase::Open(ws) => ws.step(wire, ident, env),
            Phase::Closing(closing) => closing.step(wire, ident, env),
            Phase::Gone => Phase::Gone,
        }
    }

    /// React to the phase's deadline if it has passed.
    pub fn on_deadline(self, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        match self {
            Phase::ReadingHead(head) => head.on_deadline(wire, ident, env),
            Phase::ServingFile(file) => file.on_deadline(ident, env),
            Phase::Open(ws) => ws.on_deadline(wire, ident, env),
            Phase::Closing(closing) => closing.on_deadline(wire, ident, env),
            Phase::Gone => Phase::Gone,
        }
    }

    /// End now; a WebSocket session still gets its `Closed`.
    pub fn abort(self, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        match self {
            Phase::Open(ws) => ws.finish(wire, ident, env),
            Phase::Closing(closing) => closing.finish(wire, ident, env),
            _ => Phase::Gone,
        }
    }
}
