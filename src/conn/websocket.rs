//! OPEN: hand what the peer sends (whole messages, or fragments for protocols that stream) to
//! the protocol, deliver `ServerWriteable` when the connection can take more, ping a silent
//! peer, and start the close handshake when asked or when the peer breaks the protocol
//! (1002, 1007, 1009).

use super::closing::Closing;
use super::incoming::{Incoming, ReadError, Reader};
use super::{lend, Env, Ident, Phase, Wire};
use crate::config::Config;
use crate::http::Request;
use crate::log_text::truncate_utf8;
use crate::net::{QueueStream, ReadBudget};
use crate::protocol::{
    Context, Event, Message, Outcome, ProtocolIndex, SendError, Sent, SessionRequests,
};
use log::{debug, info, warn};
use std::any::Any;
use std::io;
use std::time::Instant;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::{Role, WebSocketContext};

/// Longest close reason a close frame can carry (125 bytes of payload less the 2-byte code).
const MAX_CLOSE_REASON_BYTES: usize = 123;

/// An open WebSocket: tungstenite's protocol state, the protocol it speaks, and that
/// protocol's typed session (erased here, restored by the protocol table).
pub(crate) struct WsSession {
    /// Framing and close-handshake state; all sending goes through it.
    ws: WebSocketContext,
    reader: Reader,
    protocol: ProtocolIndex,
    session: Box<dyn Any>,
    requests: SessionRequests,
    /// The code of the close handshake once one started; `None` means 1006 if it ends now.
    close_code: Option<CloseCode>,
    /// Frames may be waiting in a read buffer (bytes that came with the handshake, or left
    /// when reading was paused).
    input_buffered: bool,
    /// Dead-peer detection: when to ping (or, with a ping outstanding, when to give up).
    liveness_due: Instant,
    ping_outstanding: bool,
}

/// How a read pass ended.
enum ReadEnd {
    /// Nothing more to read now, or a callback asked to close.
    Paused,
    /// The peer sent a close frame.
    PeerClosed(Option<CloseFrame>),
    /// The connection ended without a close handshake.
    Gone(String),
    /// The peer broke the protocol: close with this code.
    Violation(CloseCode, String),
}

impl WsSession {
    pub fn new(
        protocol: ProtocolIndex,
        session: Box<dyn Any>,
        streams_fragments: bool,
        leftover: Vec<u8>,
        config: &Config,
        now: Instant,
    ) -> Box<Self> {
        let input_buffered = !leftover.is_empty();
        // tungstenite frames what we send and tracks the close handshake; it never reads, so it
        // gets no read buffer (Config::websocket).
        let ws = WebSocketContext::new(Role::Server, Some(config.websocket()));
        let reader = Reader::new(leftover, streams_fragments);
        Box::new(WsSession {
            ws,
            reader,
            protocol,
            session,
            requests: SessionRequests::default(),
            close_code: None,
            input_buffered,
            liveness_due: now + config.ping_interval,
            ping_outstanding: false,
        })
    }

    pub fn protocol(&self) -> ProtocolIndex {
        self.protocol
    }

    pub fn request_writeable(&mut self) {
        self.requests.writeable = true;
    }

    /// The earlier of the protocol's timer and the liveness check.
    pub fn deadline(&self) -> Instant {
        match self.requests.timer {
            Some(timer) => timer.min(self.liveness_due),
            None => self.liveness_due,
        }
    }

    /// `FilterProtocolConnection`: nothing may be sent yet, so the WebSocket is not lent.
    pub fn filter(
        &mut self,
        request: &Request,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Outcome {
        self.call(Event::Filter(request), false, wire, ident, env)
    }

    /// `Established`, right after the 101 response was queued.
    pub fn established(&mut self, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) {
        self.deliver(Event::Established, wire, ident, env);
    }

    pub fn step(mut self: Box<Self>, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        if env.shutting_down && self.requests.close.is_none() {
            self.requests.close = Some((CloseCode::Away, "server shutting down".into()));
        }
        let mut did_read = false;
        if self.may_read(wire) {
            did_read = true;
            match self.read_messages(wire, ident, env) {
                ReadEnd::Paused => {}
                ReadEnd::PeerClosed(frame) => return self.peer_closed(frame, wire, ident, env),
                ReadEnd::Gone(why) => {
                    debug!("{} gone: {why}", ident.id);
                    return self.finish(wire, ident, env);
                }
                ReadEnd::Violation(code, reason) => {
                    return self.violation(code, &reason, wire, ident, env)
                }
            }
        }
        if let Err(err) = wire.flush() {
            return self.lost(err, wire, ident, env);
        }
        if self.requests.writeable
            && wire.writable
            && !self.wants_close()
            && wire.out.len() <= env.config.outgoing_soft_limit
        {
            self.requests.writeable = false;
            self.deliver(Event::Writeable, wire, ident, env);
            if self.requests.writeable {
                // Asked again: the next tick serves it, after other connections had a turn.
                wire.more_work = true;
            }
            if let Err(err) = wire.flush() {
                return self.lost(err, wire, ident, env);
            }
        }
        if !did_read && self.may_read(wire) {
            // Reading was resumed during this pass: read on the next tick.
            wire.more_work = true;
        }
        self.close_if_requested(wire, ident, env)
    }

    fn may_read(&self, wire: &Wire) -> bool {
        (wire.readable || self.input_buffered) && !self.wants_close() && !self.requests.rx_paused
    }

    pub fn on_deadline(
        mut self: Box<Self>,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        if self.requests.timer.is_some_and(|due| due <= env.now) {
            self.requests.timer = None;
            self.deliver(Event::Timer, wire, ident, env);
        }
        if self.liveness_due <= env.now {
            if self.ping_outstanding {
                info!(
                    "{} no answer to a ping within {:?}: dropping",
                    ident.id, env.config.pong_timeout
                );
                return self.finish(wire, ident, env);
            }
            let ping = tungstenite::Message::Ping(tungstenite::Bytes::from_static(b"wsloop"));
            if let Err(err) = self.ws.write(&mut QueueStream::new(&mut wire.out), ping) {
                debug!("{} ping not queued: {err}", ident.id);
            }
            self.ping_outstanding = true;
            self.liveness_due = env.now + env.config.pong_timeout;
        }
        self.close_if_requested(wire, ident, env)
    }

    /// The connection is over: deliver `Closed` (exactly once: this consumes the session).
    pub fn finish(mut self: Box<Self>, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        let code = self.close_code.unwrap_or(CloseCode::Abnormal);
        env.stats.session_closed(self.protocol, code.into());
        self.call(Event::Closed(code), false, wire, ident, env);
        info!("{} closed ({})", ident.id, u16::from(code));
        Phase::Gone
    }

    fn wants_close(&self) -> bool {
        self.requests.close.is_some() || self.requests.overflowed
    }

    /// Read and deliver until the socket is drained, the budget is spent, or a callback asked
    /// to close or to pause.
    fn read_messages(&mut self, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> ReadEnd {
        self.input_buffered = false;
        let mut budget = env.begin_read(wire);
        let borrowed = self.reader.begin_pass(env.read_buffer);
        let end = loop {
            let incoming = self
                .reader
                .next(&mut self.ws, wire, &mut budget, env.config);
            let event = match incoming {
                Ok(Incoming::Message(message)) => {
                    env.stats.received.count(message.len());
                    Event::Receive(message)
                }
                Ok(Incoming::Fragment(fragment)) => {
                    env.stats
                        .received
                        .count_fragment(fragment.data.len(), fragment.last);
                    Event::Fragment(fragment)
                }
                Ok(Incoming::Pong(payload)) => Event::Pong(payload),
                Ok(Incoming::Close(frame)) => break ReadEnd::PeerClosed(frame),
                Err(ReadError::Blocked) => break ReadEnd::Paused,
                Err(ReadError::Gone(why)) => break ReadEnd::Gone(why),
                Err(ReadError::Violation(code, reason)) => break ReadEnd::Violation(code, reason),
            };
            self.deliver(event, wire, ident, env);
            if self.wants_close() || self.requests.rx_paused {
                // Whole frames may still sit in a read buffer.
                self.input_buffered = true;
                break ReadEnd::Paused;
            }
        };
        let state = env.end_read(budget);
        wire.note_read(state);
        self.reader.end_pass(env.read_buffer, borrowed);
        if state.received {
            // Any traffic proves the peer alive (libwebsockets' "validity").
            self.liveness_due = env.now + env.config.ping_interval;
            self.ping_outstanding = false;
        }
        end
    }

    fn peer_closed(
        mut self: Box<Self>,
        frame: Option<CloseFrame>,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        let code = frame.as_ref().map(|frame| frame.code);
        let reason = frame.as_ref().map_or("", |frame| frame.reason.as_str());
        debug!("{} peer closed with {:?}", ident.id, code.map(u16::from));
        self.close_code = Some(code.unwrap_or(CloseCode::Status));
        self.call(Event::PeerClose(code, reason), false, wire, ident, env);
        Reader::answer_close(&mut self.ws, wire, frame.as_ref());
        Phase::Closing(Closing::answered(self, env))
    }

    /// The peer broke the protocol: answer with the matching close code, stop parsing.
    fn violation(
        mut self: Box<Self>,
        code: CloseCode,
        reason: &str,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        info!("{} closing with {}: {reason}", ident.id, u16::from(code));
        self.send_close(code, reason, wire, ident);
        Phase::Closing(Closing::done_reading(self, env))
    }

    /// The socket failed: no close frame can be sent.
    fn lost(
        self: Box<Self>,
        err: io::Error,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        debug!("{} connection lost: {err}", ident.id);
        self.finish(wire, ident, env)
    }

    /// Start the close handshake if a callback (or the outgoing cap) asked for it.
    fn close_if_requested(
        mut self: Box<Self>,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        if self.requests.overflowed && self.requests.close.is_none() {
            warn!(
                "{} outgoing queue passed max_outgoing_bytes ({}): peer is not reading; closing with 1008",
                ident.id, env.config.max_outgoing_bytes
            );
            self.requests.close = Some((CloseCode::Policy, "outgoing queue full".into()));
        }
        let Some((code, reason)) = self.requests.close.take() else {
            return Phase::Open(self);
        };
        self.send_close(code, &reason, wire, ident);
        Phase::Closing(Closing::handshake(self, env))
    }

    fn send_close(&mut self, code: CloseCode, reason: &str, wire: &mut Wire, ident: Ident) {
        let frame = CloseFrame {
            code,
            reason: truncate_utf8(reason, MAX_CLOSE_REASON_BYTES).into(),
        };
        if let Err(err) = self
            .ws
            .close(&mut QueueStream::new(&mut wire.out), Some(frame))
        {
            debug!("{} close frame not queued: {err}", ident.id);
        }
        self.close_code = Some(code);
    }

    /// CLOSING reads through this until the handshake completes; true when it did (the
    /// peer's close arrived, or the connection ended). Data after our close is dropped.
    pub fn read_close_reply(
        &mut self,
        wire: &mut Wire,
        budget: &mut ReadBudget,
        config: &Config,
    ) -> bool {
        loop {
            match self.reader.next(&mut self.ws, wire, budget, config) {
                Ok(Incoming::Close(_)) | Err(ReadError::Gone(_) | ReadError::Violation(..)) => {
                    return true
                }
                Ok(_) => continue,
                Err(ReadError::Blocked) => return false,
            }
        }
    }

    /// Give the protocol `event`, then act on its outcome.
    fn deliver(&mut self, event: Event<'_>, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) {
        match self.call(event, true, wire, ident, env) {
            Outcome::Continue => {}
            Outcome::Close { code, reason } => self.requests.close = Some((code, reason)),
            other => warn!(
                "{}: {other:?} means nothing for an open WebSocket; ignored",
                ident.id
            ),
        }
    }

    /// Queue a message from outside any callback.
    pub fn send(
        &mut self,
        message: Message,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Result<Sent, SendError> {
        let sent = &mut env.stats.sent;
        let ws = Some(&mut self.ws);
        lend(ws, &mut self.requests, wire, ident, env.config, sent).send_message(&message)
    }

    /// Run the protocol's callback; `lend_ws` lets it send (not before 101, not after Closed).
    fn call(
        &mut self,
        event: Event<'_>,
        lend_ws: bool,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Outcome {
        let ws = lend_ws.then_some(&mut self.ws);
        let sent = &mut env.stats.sent;
        let link = lend(ws, &mut self.requests, wire, ident, env.config, sent);
        let mut cx = Context::for_connection(link, self.protocol, env.requests, env.now);
        env.table
            .dispatch(self.protocol, &mut cx, Some(&mut *self.session), event)
    }
}
