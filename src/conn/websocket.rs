//! OPEN: hand what the peer sends (whole messages, or fragments for protocols that stream) to
//! the protocol, answer pings, deliver `ServerWriteable` when the connection can take more,
//! ping a silent peer, and start the close handshake when asked or when the peer breaks the
//! protocol (1002, 1007, 1009).

use super::closing::Closing;
use super::frame_reader::{FrameReader, Item, Violation};
use super::incoming::{ReadError, ReadPass};
use super::{lend, Env, Ident, Mark, Phase, Wire};
use crate::config::Config;
use crate::deflate::Params;
use crate::frame::{close_payload, OP_CLOSE, OP_PING, OP_PONG};
use crate::http::Request;
use crate::protocol::{
    Context, Event, Message, Outcome, ProtocolIndex, SendError, Sent, SessionRequests,
};
use crate::stats::Traffic;
use crate::tick::Tick;
use crate::topics::Packed;
use log::{debug, info, warn};
use std::any::Any;
use std::io::{self, IoSlice};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;

/// The close reason of a subscriber cut off by `max_subscriber_backlog`.
pub(crate) const SLOW_SUBSCRIBER: &str = "subscriber too slow";

/// The payload of the pings wsloop sends to silent peers.
const PING_PAYLOAD: &[u8] = b"wsloop";

/// An open WebSocket: the protocol it speaks, that protocol's typed session (erased here,
/// restored by the protocol table), the frame reader, the liveness clock and the
/// permessage-deflate parameters it agreed. Lives inline in the connection's slab entry, so
/// it is kept small: no buffer unless bytes are in flight, deflate in one byte (a takeover
/// connection's contexts live in the reader's box).
pub(crate) struct WsSession {
    session: Box<dyn Any>,
    reader: FrameReader,
    requests: SessionRequests,
    /// Dead-peer detection: when to ping (or, with a ping outstanding, when to give up).
    liveness_due: Tick,
    protocol: u16,
    flags: Flags,
    deflate: Params,
}

/// Two booleans of an open WebSocket in one byte (the slab entry has no room for more).
#[derive(Clone, Copy, Default)]
struct Flags(u8);

impl Flags {
    const STREAMS_FRAGMENTS: u8 = 1;
    const PING_OUTSTANDING: u8 = 2;

    fn get(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    fn set(&mut self, flag: u8, on: bool) {
        if on {
            self.0 |= flag;
        } else {
            self.0 &= !flag;
        }
    }
}

/// What became of publications offered to a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Written to the socket, or queued behind a full one (its writable event flushes
    /// them): nothing to do now.
    Sent,
    /// In its queue, the socket writable: flush it.
    Queued,
    /// Not an open WebSocket (closing), or mid-way through sending a fragmented message
    /// (a frame cannot go between its fragments): not delivered.
    NotOpen,
    /// Its undelivered topic bytes would pass `max_subscriber_backlog`: it is being closed
    /// with 1008 and its unsent topic frames were dropped (a frame its socket had begun is
    /// finished first).
    TooSlow,
    /// Its queue would pass `max_outgoing_bytes`: it is being closed with 1008.
    Overflowed,
}

/// How a read pass ended.
enum ReadEnd {
    /// Nothing more to read now, or a callback asked to close or pause.
    Paused,
    /// The peer sent a close frame.
    PeerClosed(Option<CloseFrame>),
    /// The connection ended without a close handshake.
    Gone(String),
    /// The peer broke the protocol: close with this code.
    Violation(Violation),
}

impl WsSession {
    pub fn new(
        protocol: ProtocolIndex,
        session: Box<dyn Any>,
        streams_fragments: bool,
        leftover: &[u8],
        env: &Env<'_>,
    ) -> Self {
        let mut flags = Flags::default();
        flags.set(Flags::STREAMS_FRAGMENTS, streams_fragments);
        WsSession {
            session,
            reader: FrameReader::new(leftover),
            requests: SessionRequests::default(),
            liveness_due: env.tick.after(env.config.ping_interval),
            protocol: protocol as u16,
            flags,
            deflate: Params::OFF,
        }
    }

    /// permessage-deflate was agreed in the handshake with these parameters.
    pub fn set_deflate(&mut self, params: Params) {
        self.deflate = params;
    }

    pub fn protocol(&self) -> ProtocolIndex {
        ProtocolIndex::from(self.protocol)
    }

    pub fn request_writeable(&mut self) {
        self.requests.writeable = true;
    }

    pub fn incoming_held(&self) -> usize {
        self.reader.held_bytes()
    }

    /// The earlier of the protocol's timer and the liveness check.
    pub fn deadline(&self, now: Tick) -> Tick {
        match self.requests.timer {
            Some(timer) => timer.earliest(self.liveness_due, now),
            None => self.liveness_due,
        }
    }

    /// `FilterProtocolConnection`: nothing may be sent yet.
    pub fn filter(
        &mut self,
        request: &Request,
        wire: &mut Wire,
        id: Ident,
        env: &mut Env<'_>,
    ) -> Outcome {
        self.call(Event::Filter(request), false, wire, id, env)
    }

    /// `Established`, right after the 101 response was queued.
    pub fn established(&mut self, wire: &mut Wire, id: Ident, env: &mut Env<'_>) {
        self.deliver(Event::Established, wire, id, env);
    }

    pub fn step(mut self, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> Phase {
        if env.shutting_down && self.requests.close.is_none() {
            self.requests.close = Some(Box::new((CloseCode::Away, "server shutting down".into())));
        }
        let mut did_read = false;
        if self.may_read(wire) {
            did_read = true;
            match self.read_messages(wire, id, env) {
                ReadEnd::Paused => {}
                ReadEnd::PeerClosed(frame) => return self.peer_closed(frame, wire, id, env),
                ReadEnd::Gone(why) => {
                    debug!("{id} gone: {why}");
                    return self.finish(None, wire, id, env);
                }
                ReadEnd::Violation(violation) => return self.violation(violation, wire, id, env),
            }
        }
        if let Err(err) = wire.flush() {
            return self.lost(err, wire, id, env);
        }
        if self.requests.writeable
            && wire.writable()
            && !self.wants_close()
            && wire.queued_bytes() <= env.config.outgoing_soft_limit
        {
            self.requests.writeable = false;
            self.deliver(Event::Writeable, wire, id, env);
            if self.requests.writeable {
                // Asked again: the next tick serves it, after other connections had a turn.
                wire.marks.set(Mark::MoreWork, true);
            }
            if let Err(err) = wire.flush() {
                return self.lost(err, wire, id, env);
            }
        }
        if !did_read && self.may_read(wire) {
            // Reading was resumed during this pass: read on the next tick.
            wire.marks.set(Mark::MoreWork, true);
        }
        self.close_if_requested(wire, id, env)
    }

    fn may_read(&self, wire: &Wire) -> bool {
        (wire.readable() || self.reader.has_whole_frame())
            && !self.wants_close()
            && !self.requests.rx_paused
    }

    pub fn on_deadline(mut self, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> Phase {
        if self
            .requests
            .timer
            .is_some_and(|due| due.is_reached(env.tick))
        {
            self.requests.timer = None;
            self.deliver(Event::Timer, wire, id, env);
        }
        if self.liveness_due.is_reached(env.tick) {
            if self.flags.get(Flags::PING_OUTSTANDING) {
                info!(
                    "{id} no answer to a ping within {:?}: dropping",
                    env.config.pong_timeout
                );
                return self.finish(None, wire, id, env);
            }
            wire.out.push_frame(OP_PING, true, PING_PAYLOAD);
            self.flags.set(Flags::PING_OUTSTANDING, true);
            self.liveness_due = env.tick.after(env.config.pong_timeout);
        }
        self.close_if_requested(wire, id, env)
    }

    /// The connection is over: deliver `Closed` with `code` (1006 when no close handshake
    /// happened), exactly once: this consumes the session.
    pub fn finish(
        mut self,
        code: Option<CloseCode>,
        wire: &mut Wire,
        id: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        let code = code.unwrap_or(CloseCode::Abnormal);
        env.stats.session_closed(self.protocol(), code.into());
        self.call(Event::Closed(code), false, wire, id, env);
        info!("{id} closed ({})", u16::from(code));
        Phase::Gone
    }

    fn wants_close(&self) -> bool {
        self.requests.close.is_some() || self.requests.overflowed
    }

    /// Read and deliver until the socket is drained, the budget is spent, or a callback asked
    /// to close or to pause.
    fn read_messages(&mut self, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> ReadEnd {
        let mut pass = ReadPass::begin(wire, env);
        let whole_messages = !self.flags.get(Flags::STREAMS_FRAGMENTS);
        let mut end = loop {
            let event = match pass.next(&mut self.reader, whole_messages, self.deflate, wire, env) {
                Ok(Item::Message(message)) => {
                    env.stats.received.count(message.len());
                    Event::Receive(message)
                }
                Ok(Item::Fragment(fragment)) => {
                    env.stats
                        .received
                        .count_fragment(fragment.data.len(), fragment.last);
                    Event::Fragment(fragment)
                }
                Ok(Item::Ping(payload)) => {
                    wire.out.push_frame(OP_PONG, true, &payload);
                    continue;
                }
                Ok(Item::Pong(payload)) => Event::Pong(payload),
                Ok(Item::Close(frame)) => break ReadEnd::PeerClosed(frame),
                Err(ReadError::Blocked) => break ReadEnd::Paused,
                Err(ReadError::Gone(why)) => break ReadEnd::Gone(why),
                Err(ReadError::Violation(violation)) => break ReadEnd::Violation(violation),
            };
            self.deliver(event, wire, id, env);
            if self.wants_close() || self.requests.rx_paused {
                break ReadEnd::Paused;
            }
        };
        let (state, kept) = pass.end(&mut self.reader, wire, env);
        if let (ReadEnd::Paused, Err(violation)) = (&end, kept) {
            end = ReadEnd::Violation(violation);
        }
        if state.received {
            // Any traffic proves the peer alive (libwebsockets' "validity").
            self.liveness_due = env.tick.after(env.config.ping_interval);
            self.flags.set(Flags::PING_OUTSTANDING, false);
        }
        end
    }

    fn peer_closed(
        mut self,
        frame: Option<CloseFrame>,
        wire: &mut Wire,
        id: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        let code = frame.as_ref().map(|frame| frame.code);
        let reason = frame.as_ref().map_or("", |frame| frame.reason.as_str());
        debug!("{id} peer closed with {:?}", code.map(u16::from));
        self.call(Event::PeerClose(code, reason), false, wire, id, env);
        // Answer with the same code and no reason (RFC 6455 §5.5.1).
        match code {
            Some(code) => push_close(wire, code, ""),
            None => wire.out.push_frame(OP_CLOSE, true, &[]),
        }
        let code = code.unwrap_or(CloseCode::Status);
        Phase::closing(Closing::answered(self, code, env))
    }

    /// The peer broke the protocol: answer with the matching close code, stop parsing (and
    /// give back what partial input held of the server's budget).
    fn violation(
        mut self,
        violation: Violation,
        wire: &mut Wire,
        id: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        self.reader = FrameReader::default();
        let Violation { code, reason } = violation;
        info!("{id} closing with {}: {reason}", u16::from(code));
        push_close(wire, code, reason);
        Phase::closing(Closing::done_reading(self, code, env))
    }

    /// The socket failed: no close frame can be sent.
    fn lost(self, err: io::Error, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> Phase {
        debug!("{id} connection lost: {err}");
        self.finish(None, wire, id, env)
    }

    /// Start the close handshake if a callback (or the outgoing cap) asked for it.
    fn close_if_requested(mut self, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> Phase {
        if self.requests.overflowed && self.requests.close.is_none() {
            warn!(
                "{id} outgoing queue passed max_outgoing_bytes ({}): peer is not reading; closing with 1008",
                env.config.max_outgoing_bytes
            );
            self.requests.close = Some(Box::new((CloseCode::Policy, "outgoing queue full".into())));
        }
        let Some(close) = self.requests.close.take() else {
            return Phase::Open(self);
        };
        let (code, reason) = *close;
        push_close(wire, code, &reason);
        Phase::closing(Closing::handshake(self, code, env))
    }

    /// CLOSING reads through this until the handshake completes; true when it did (the
    /// peer's close arrived, or the connection ended). Data after our close is dropped; pings
    /// are not answered (our close frame is already out).
    pub fn read_close_reply(
        &mut self,
        pass: &mut ReadPass,
        wire: &Wire,
        env: &mut Env<'_>,
    ) -> bool {
        loop {
            match pass.next(&mut self.reader, true, self.deflate, wire, env) {
                Ok(Item::Close(_)) | Err(ReadError::Gone(_) | ReadError::Violation(_)) => {
                    return true
                }
                Ok(_) => continue,
                Err(ReadError::Blocked) => return false,
            }
        }
    }

    /// The reader, for CLOSING's read passes.
    pub fn reader_mut(&mut self) -> &mut FrameReader {
        &mut self.reader
    }

    /// Give the protocol `event`, then act on its outcome.
    fn deliver(&mut self, event: Event<'_>, wire: &mut Wire, id: Ident, env: &mut Env<'_>) {
        match self.call(event, true, wire, id, env) {
            Outcome::Continue => {}
            Outcome::Close { code, reason } => {
                self.requests.close = Some(Box::new((code, reason)));
            }
            other => warn!("{id}: {other:?} means nothing for an open WebSocket; ignored"),
        }
    }

    /// Queue a message from outside any callback.
    pub fn send(
        &mut self,
        message: Message,
        wire: &mut Wire,
        id: Ident,
        env: &mut Env<'_>,
    ) -> Result<Sent, SendError> {
        let compress = Some((self.deflate, &mut self.reader));
        lend(true, &mut self.requests, wire, id, compress, env)
            .link
            .send_message(&message, true)
    }

    /// Deliver `packed` (one topic's publications in order; `slices`: their bytes): straight
    /// to the socket when nothing is queued before them, the rest queued by reference (not
    /// copied), within the subscriber's limits.
    pub fn deliver_publications(
        &mut self,
        packed: &[Packed],
        slices: &[IoSlice<'_>],
        wire: &mut Wire,
        config: &Config,
        sent: &mut Traffic,
    ) -> Delivery {
        if self.wants_close() || self.requests.sending_fragments {
            return Delivery::NotOpen;
        }
        let mut written = wire.write_unqueued(slices);
        for frames in packed {
            let len = frames.bytes.len();
            if written >= len {
                written -= len;
            } else if written > 0 {
                // Begun: the rest must follow, whatever the limits say.
                wire.out.push_shared_rest(frames.bytes.clone(), written);
                written = 0;
            } else if wire.out.shared_len() + len > config.max_subscriber_backlog {
                wire.out.drop_unsent_shared();
                self.requests.close = Some(Box::new((CloseCode::Policy, SLOW_SUBSCRIBER.into())));
                return Delivery::TooSlow;
            } else if wire.out.len() + len > config.max_outgoing_bytes {
                self.requests.overflowed = true;
                return Delivery::Overflowed;
            } else {
                wire.out.push_shared(frames.bytes.clone());
            }
            sent.add(frames.traffic);
        }
        if wire.has_flushable() {
            Delivery::Queued
        } else {
            Delivery::Sent
        }
    }

    /// Run the protocol's callback; `may_send` lets it send (not before 101, not after Closed).
    fn call(
        &mut self,
        event: Event<'_>,
        may_send: bool,
        wire: &mut Wire,
        id: Ident,
        env: &mut Env<'_>,
    ) -> Outcome {
        let protocol = self.protocol();
        let compress = Some((self.deflate, &mut self.reader));
        let lent = lend(may_send, &mut self.requests, wire, id, compress, env);
        let mut cx = Context::for_connection(lent.link, protocol, lent.loop_requests, lent.now);
        let filtering = matches!(event, Event::Filter(_));
        let outcome = lent
            .table
            .dispatch(protocol, &mut cx, Some(&mut *self.session), event);
        // A panicking callback costs its own connection only: 1011 (or 500 before the 101).
        outcome.unwrap_or_else(|_| match filtering {
            true => Outcome::reject(500, "internal error"),
            false => Outcome::close(CloseCode::Error, "internal error"),
        })
    }
}

/// Queue a close frame with `code` and `reason` (cut to what a control frame can carry).
fn push_close(wire: &mut Wire, code: CloseCode, reason: &str) {
    let (payload, len) = close_payload(code.into(), reason);
    wire.out.push_frame(OP_CLOSE, true, &payload[..len]);
}
