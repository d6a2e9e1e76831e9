//! The phases of a connection and the data each one carries:
//! `READING_HEAD -> [READING_BODY ->] (SERVING_FILE -> READING_HEAD | OPEN) -> CLOSING -> GONE`.

use super::closing::Closing;
use super::reading_body::BodyReader;
use super::reading_head::HeadReader;
use super::serving_file::FileSend;
use super::websocket::WsSession;
use super::{Env, Ident, Wire};
pub(crate) use crate::phase_kind::PhaseKind;
use crate::tick::Tick;

/// Where a connection is in its life. Buffers exist only in the phase that needs them; the
/// open WebSocket is inline (the common, long-lived case), the rest boxed.
pub(crate) enum Phase {
    /// Collecting an HTTP request head.
    ReadingHead(Box<HeadReader>),
    /// Reading a request's body, for the HTTP entry or the publish endpoint.
    ReadingBody(Box<BodyReader>),
    /// Sending an HTTP response (head queued, body streamed from a cursor).
    ServingFile(Box<FileSend>),
    /// An open WebSocket.
    Open(WsSession),
    /// Close handshake and lingering close: flush, FIN, wait for the peer's FIN.
    Closing(Box<Closing>),
    /// Finished; the server removes it.
    Gone,
}

impl Phase {
    /// A new connection, waiting for its first request.
    pub fn first_request(env: &Env<'_>) -> Phase {
        Phase::ReadingHead(Box::new(HeadReader::first(env)))
    }

    /// A kept-alive connection after a response, with any pipelined bytes.
    pub fn next_request(leftover: Vec<u8>, env: &Env<'_>) -> Phase {
        Phase::ReadingHead(Box::new(HeadReader::next(leftover, env)))
    }

    /// Sending a response.
    pub fn serving(file: FileSend) -> Phase {
        Phase::ServingFile(Box::new(file))
    }

    /// Closing, in the state `closing` describes.
    pub fn closing(closing: Closing) -> Phase {
        Phase::Closing(Box::new(closing))
    }

    pub fn kind(&self) -> PhaseKind {
        match self {
            Phase::ReadingHead(_) => PhaseKind::ReadingHead,
            Phase::ReadingBody(_) => PhaseKind::ReadingBody,
            Phase::ServingFile(_) => PhaseKind::ServingFile,
            Phase::Open(_) => PhaseKind::Open,
            Phase::Closing(_) => PhaseKind::Closing,
            Phase::Gone => PhaseKind::Gone,
        }
    }

    /// The next time this phase wants to be woken without an event.
    pub fn deadline(&self, now: Tick) -> Option<Tick> {
        match self {
            Phase::ReadingHead(head) => Some(head.deadline()),
            Phase::ReadingBody(body) => Some(body.deadline()),
            Phase::ServingFile(file) => Some(file.deadline()),
            Phase::Open(ws) => Some(ws.deadline(now)),
            Phase::Closing(closing) => Some(closing.deadline()),
            Phase::Gone => None,
        }
    }

    /// Bytes held in partial incoming frames and messages.
    pub fn incoming_held(&self) -> usize {
        match self {
            Phase::Open(ws) => ws.incoming_held(),
            Phase::Closing(closing) => closing.incoming_held(),
            Phase::ReadingBody(body) => body.incoming_held(),
            _ => 0,
        }
    }

    /// Do what readiness allows and return the next phase.
    pub fn step(self, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> Phase {
        match self {
            Phase::ReadingHead(head) => head.step(wire, id, env),
            Phase::ReadingBody(body) => body.step(wire, id, env),
            Phase::ServingFile(file) => file.step(wire, id, env),
            Phase::Open(ws) => ws.step(wire, id, env),
            Phase::Closing(closing) => closing.step(wire, id, env),
            Phase::Gone => Phase::Gone,
        }
    }

    /// React to the phase's deadline if it has passed.
    pub fn on_deadline(self, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> Phase {
        match self {
            Phase::ReadingHead(head) => head.on_deadline(wire, id, env),
            Phase::ReadingBody(body) => body.on_deadline(wire, id, env),
            Phase::ServingFile(file) => file.on_deadline(id, env),
            Phase::Open(ws) => ws.on_deadline(wire, id, env),
            Phase::Closing(closing) => closing.on_deadline(wire, id, env),
            Phase::Gone => Phase::Gone,
        }
    }

    /// End now; a WebSocket session still gets its `Closed`.
    pub fn abort(self, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> Phase {
        match self {
            Phase::Open(ws) => ws.finish(None, wire, id, env),
            Phase::Closing(closing) => (*closing).finish(wire, id, env),
            _ => Phase::Gone,
        }
    }
}
