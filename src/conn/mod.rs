//! One client connection: its transport and outgoing queue ([`Wire`]), and the [`Phase`] it is
//! in. Each phase lives in its own file and returns the next phase as a value; this file runs
//! the steps and logs every transition (`conn#12 OPEN=>CLOSING`).
//!
//! A connection is sized for its common case, an idle open WebSocket: the slab entry holds
//! the transport, a few flag bits, a 4-byte deadline and the open WebSocket's small state
//! inline; the rarer phases (an HTTP request, a close under way) are boxed; buffers exist only
//! while bytes are in flight. `benches/RESULTS.md` has the byte budget.
//!
//! The unit tests (`tests/`) drive a connection over an in-memory transport, as the server
//! drives it, with a clock they move themselves.

mod closing;
pub(crate) mod frame_reader;
mod http_request;
mod incoming;
mod marks;
mod phase;
mod publish;
mod reading_body;
mod reading_head;
mod serving_file;
mod upgrade;
mod websocket;

use marks::{Mark, Marks};
pub(crate) use phase::{Phase, PhaseKind};
pub(crate) use websocket::Delivery;

use crate::config::Config;
use crate::connection_id::ConnectionId;
use crate::deflate::{Params, SharedDeflate};
use crate::http::date::DateCache;
use crate::http::file_cache::FileCache;
use crate::net::{self, ReadBudget, ReadState};
use crate::out_queue::OutQueue;
use crate::protocol::{
    Compressing, ConnectionLink, LoopRequests, Message, ProtocolIndex, ProtocolTable, SendError,
    Sent, SessionRequests,
};
use crate::stats::{Stats, Traffic};
use crate::tick::Tick;
use crate::topics::Packed;
use crate::transport::Transport;
use bytes::BytesMut;
use frame_reader::{FrameReader, IncomingRoom};
use log::debug;
use std::io::{self, IoSlice};
use std::time::Instant;

/// Most phase transitions in one service pass (a pipelined request goes
/// SERVING_FILE=>READING_HEAD=>SERVING_FILE); more work waits for the next tick.
const MAX_STEPS_PER_PASS: usize = 8;

/// Most bytes the slab entry of an idle open WebSocket may take; benches/RESULTS.md has the
/// breakdown (mio's TcpStream carries a selector id in debug builds: 16 bytes there, 4 in
/// release). With TLS built in, a release `Transport` is 16 bytes (the 4-byte socket, or the
/// boxed TLS session: a pointer, 8-aligned) instead of 4: 96 there, 88 without it.
const CONNECTION_BUDGET: usize = match (cfg!(debug_assertions), cfg!(feature = "tls")) {
    (true, _) => 104,
    (false, true) => 96,
    (false, false) => 88,
};

// The layout that serves, checked by the compiler in every build but the unit tests' (see
// `an_idle_websocket_connection_is_small`).
#[cfg(not(test))]
const _: () = assert!(std::mem::size_of::<Connection>() <= CONNECTION_BUDGET);

/// Who a connection is, for logs and callbacks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ident {
    pub id: ConnectionId,
}

impl std::fmt::Display for Ident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.id.fmt(f)
    }
}

/// What the phases share from the server for one pass.
pub(crate) struct Env<'a> {
    pub table: &'a mut ProtocolTable,
    /// What callbacks ask of the loop as a whole; the server applies it after the pass.
    pub requests: &'a mut LoopRequests,
    pub stats: &'a mut Stats,
    /// Where the other loops' counters are, when several loops share them.
    pub stats_seat: Option<&'a crate::server::StatsSeat>,
    /// The server's socket read buffer, lent to each read pass (see [`Env::begin_read`]).
    pub scratch: &'a mut BytesMut,
    /// The server's message arena: small payloads are copied into it (see `frame_reader`).
    pub arena: &'a mut BytesMut,
    /// The loop's shared permessage-deflate compressors and decompressor.
    pub deflate: &'a mut SharedDeflate,
    pub config: &'a Config,
    /// Static files, if the server serves any.
    pub files: Option<&'a mut FileCache>,
    /// The `Date` of HTTP responses sent at `now`.
    pub date: &'a mut DateCache,
    pub now: Instant,
    /// `now` on the server's coarse clock, for connection deadlines.
    pub tick: Tick,
    /// Bytes every other connection holds in partial frames and messages.
    pub incoming_held_by_others: usize,
    pub shutting_down: bool,
}

impl Env<'_> {
    /// A read budget for one pass on `wire`, lent the server's socket read buffer.
    pub fn begin_read(&mut self, wire: &Wire) -> ReadBudget {
        let buffer = std::mem::take(self.scratch);
        let config = self.config;
        let mut budget =
            ReadBudget::new(config.read_budget_bytes, config.read_buffer_bytes, buffer);
        budget.short_read_drains =
            !wire.marks.has(Mark::PeerFinSeen) && wire.transport.short_read_drains();
        budget
    }

    /// Give the read buffer back; what the pass found.
    pub fn end_read(&mut self, budget: ReadBudget) -> ReadState {
        let state = budget.state;
        *self.scratch = budget.into_buffer();
        state
    }

    /// What the server-wide incoming budget leaves this connection.
    pub fn incoming_room(&self) -> IncomingRoom {
        IncomingRoom {
            held_by_others: self.incoming_held_by_others,
            max: self.config.max_incoming_buffered_bytes,
        }
    }
}

/// The transport, its known readiness, and the bytes waiting to go out; with the loop's marks
/// and deadline for the connection, so that every yes/no of it shares one byte beside the
/// 4-byte tick (one 8-byte word after `out`: the TLS build's entry is 96 bytes, not 104).
pub(crate) struct Wire {
    pub transport: Transport,
    pub out: OutQueue,
    /// The earliest deadline the server's timer heap holds for the connection, while
    /// [`Mark::Scheduled`].
    scheduled_at: Tick,
    pub marks: Marks,
}

impl Wire {
    fn new(transport: Transport) -> Self {
        let mut marks = Marks::default();
        marks.set(Mark::Readable, true);
        marks.set(Mark::Writable, true);
        Wire {
            transport,
            out: OutQueue::default(),
            scheduled_at: Tick::from_millis(0),
            marks,
        }
    }

    /// [`Mark::Readable`]: reading may find bytes.
    pub fn readable(&self) -> bool {
        self.marks.has(Mark::Readable)
    }

    /// [`Mark::Writable`]: the socket may take bytes.
    pub fn writable(&self) -> bool {
        self.marks.has(Mark::Writable)
    }

    /// Send queued bytes if the socket can take them; true when the queue is empty (and the
    /// transport holds nothing either).
    pub fn flush(&mut self) -> io::Result<bool> {
        if self.out.is_empty() {
            self.out.release_if_empty();
            if self.transport.pending_output() == 0 {
                return Ok(true);
            }
        }
        if !self.writable() {
            return Ok(false);
        }
        let done = net::flush(&self.transport, &mut self.out)?;
        if !done {
            self.marks.set(Mark::Writable, false);
        }
        Ok(done)
    }

    /// [`Wire::flush`] for the last bytes before the socket is closed: what the queue holds
    /// goes out with [`net::write_last`], to leave with the FIN.
    pub fn flush_last(&mut self) -> io::Result<bool> {
        if self.writable() && !self.out.is_empty() && !self.out.has_shared() {
            let written = net::write_last(&self.transport, self.out.pending())?;
            self.out.consume(written);
        }
        self.flush()
    }

    /// Offer `slices` (frames not queued) to the socket straight away, if nothing waits
    /// before them and the socket is known writable: one write, no queue. How many of their
    /// bytes it took; the caller queues the rest. A failed write takes none and leaves the
    /// error to the next flush, which meets it again.
    pub fn write_unqueued(&mut self, slices: &[IoSlice<'_>]) -> usize {
        if !self.writable() || !self.out.is_empty() || self.transport.pending_output() > 0 {
            return 0;
        }
        match net::write_slices_once(&self.transport, slices) {
            Ok(written) => written,
            Err(err) => {
                if net::would_block(&err) {
                    self.marks.set(Mark::Writable, false);
                }
                0
            }
        }
    }

    /// True if queued bytes wait for a flush this pass can do (the socket was writable when
    /// last tried; a full one announces itself with an event).
    pub fn has_flushable(&self) -> bool {
        self.writable() && self.queued_bytes() > 0
    }

    /// Bytes on their way out: the queue plus what the transport holds (TLS records), the
    /// figure `max_outgoing_bytes` and `outgoing_soft_limit` apply to.
    pub fn queued_bytes(&self) -> usize {
        self.out.len() + self.transport.pending_output()
    }

    /// Push what the transport itself holds (a TLS handshake flight or the tail of a
    /// response the socket had no room for) once it is writable again. Errors are left to
    /// the phase's next read or write, which sees them too.
    fn push_transport(&mut self) {
        if self.writable() && self.transport.pending_output() > 0 {
            match self.transport.flush_pending() {
                Ok(true) | Err(_) => {}
                Ok(false) => self.marks.set(Mark::Writable, false),
            }
        }
    }

    /// Record what a read pass found.
    pub fn note_read(&mut self, state: ReadState) {
        if state.drained {
            self.marks.set(Mark::Readable, false);
        }
        if state.budget_exhausted {
            self.marks.set(Mark::MoreWork, true);
        }
    }
}

/// What a readiness event said about a connection's socket.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Readiness {
    pub readable: bool,
    pub writable: bool,
    /// The peer's FIN (or an error) was reported.
    pub read_closed: bool,
}

/// One accepted connection: the slab entry.
pub(crate) struct Connection {
    /// With the slab key, the connection's [`ConnectionId`].
    serial: u64,
    wire: Wire,
    phase: Phase,
}

impl Connection {
    pub fn new(id: ConnectionId, transport: Transport, env: &Env<'_>) -> Self {
        Connection {
            serial: id.get(),
            wire: Wire::new(transport),
            phase: Phase::first_request(env),
        }
    }

    /// The connection's id, given the slab key it lives under.
    pub fn id(&self, key: usize) -> ConnectionId {
        ConnectionId::new(self.serial, key)
    }

    /// True if `id` names this connection (and not an earlier one under the same key).
    pub fn is(&self, id: ConnectionId) -> bool {
        self.serial == id.get()
    }

    #[cfg(feature = "tls")]
    pub fn transport(&self) -> &Transport {
        &self.wire.transport
    }

    pub fn transport_mut(&mut self) -> &mut Transport {
        &mut self.wire.transport
    }

    pub fn kind(&self) -> PhaseKind {
        self.phase.kind()
    }

    pub fn is_gone(&self) -> bool {
        self.phase.kind() == PhaseKind::Gone
    }

    /// Note what an event reported, before a [`Connection::service`] pass.
    pub fn note_readiness(&mut self, readiness: Readiness) {
        let marks = &mut self.wire.marks;
        if readiness.readable || readiness.read_closed {
            marks.set(Mark::Readable, true);
        }
        if readiness.read_closed {
            marks.set(Mark::PeerFinSeen, true);
        }
        if readiness.writable {
            marks.set(Mark::Writable, true);
        }
    }

    /// A budget ran out with work left: the server should service it again next tick.
    pub fn has_more_work(&self) -> bool {
        self.wire.marks.has(Mark::MoreWork)
    }

    /// Mark the connection as queued for service; false if it already was.
    pub fn enqueue(&mut self) -> bool {
        !self.wire.marks.replace(Mark::Queued, true)
    }

    pub fn dequeue(&mut self) {
        self.wire.marks.set(Mark::Queued, false);
    }

    /// Bytes held in partial incoming frames and messages.
    pub fn incoming_held(&self) -> usize {
        self.phase.incoming_held()
    }

    /// Advance the connection as far as its readiness allows.
    pub fn service(&mut self, id: Ident, env: &mut Env<'_>) {
        self.wire.marks.set(Mark::MoreWork, false);
        self.wire.push_transport();
        for _ in 0..MAX_STEPS_PER_PASS {
            let before = self.phase.kind();
            self.take_step(id, env, Phase::step);
            let after = self.phase.kind();
            if after == before || after == PhaseKind::Gone {
                return;
            }
        }
        self.wire.marks.set(Mark::MoreWork, true);
    }

    /// A deadline this connection asked for has passed (it may be stale: phases check).
    pub fn on_deadline(&mut self, id: Ident, env: &mut Env<'_>) {
        self.take_step(id, env, Phase::on_deadline);
        if !self.is_gone() {
            self.service(id, env);
        }
    }

    /// End the connection now (shutdown timeout, server dropped): `Closed` runs if it was a
    /// WebSocket.
    pub fn abort(&mut self, id: Ident, env: &mut Env<'_>) {
        self.take_step(id, env, Phase::abort);
    }

    /// When the connection next wants a wake-up, if that is earlier than what the server's
    /// heap already holds for it; records it as scheduled.
    pub fn reschedule(&mut self, now: Tick) -> Option<Tick> {
        let at = self.phase.deadline(now)?;
        let wire = &mut self.wire;
        if wire.marks.has(Mark::Scheduled)
            && wire.scheduled_at.earliest(at, now) == wire.scheduled_at
        {
            return None;
        }
        wire.scheduled_at = at;
        wire.marks.set(Mark::Scheduled, true);
        Some(at)
    }

    /// The deadline this connection has in the server's heap, if any.
    #[cfg(test)]
    pub fn scheduled(&self) -> Option<Tick> {
        (self.wire.marks.has(Mark::Scheduled)).then_some(self.wire.scheduled_at)
    }

    /// True if `at` is the wake-up this connection waits for in the server's heap (an entry
    /// for any other time is stale).
    pub fn waits_for(&self, at: Tick) -> bool {
        self.wire.marks.has(Mark::Scheduled) && self.wire.scheduled_at == at
    }

    /// A wake-up at `at` came due: true if it is the one this connection is waiting for
    /// (others are stale).
    pub fn take_due_wakeup(&mut self, at: Tick) -> bool {
        if !self.waits_for(at) {
            return false;
        }
        self.wire.marks.set(Mark::Scheduled, false);
        true
    }

    /// The protocol of an open WebSocket (not while it closes).
    pub fn open_protocol(&self) -> Option<ProtocolIndex> {
        match &self.phase {
            Phase::Open(ws) => Some(ws.protocol()),
            _ => None,
        }
    }

    /// Queue a message from outside any callback (a `ServerHandle` request).
    pub fn send(
        &mut self,
        message: Message,
        id: Ident,
        env: &mut Env<'_>,
    ) -> Result<Sent, SendError> {
        match &mut self.phase {
            Phase::Open(ws) => ws.send(message, &mut self.wire, id, env),
            _ => Err(SendError::NotOpen),
        }
    }

    /// Give this subscriber `packed`, publications of one topic in order, whose bytes
    /// `slices` holds ([`topics::slices`](crate::topics::slices)); what it delivers is
    /// counted in `sent` (see [`Delivery`]).
    pub fn deliver(
        &mut self,
        packed: &[Packed],
        slices: &[IoSlice<'_>],
        config: &Config,
        sent: &mut Traffic,
    ) -> Delivery {
        match &mut self.phase {
            Phase::Open(ws) => {
                ws.deliver_publications(packed, slices, &mut self.wire, config, sent)
            }
            _ => Delivery::NotOpen,
        }
    }

    /// Ask for `ServerWriteable` if this is an open WebSocket; true if it is.
    pub fn request_writeable(&mut self) -> bool {
        match &mut self.phase {
            Phase::Open(ws) => {
                ws.request_writeable();
                true
            }
            _ => false,
        }
    }

    fn take_step(
        &mut self,
        id: Ident,
        env: &mut Env<'_>,
        step: fn(Phase, &mut Wire, Ident, &mut Env<'_>) -> Phase,
    ) {
        let before = self.phase.kind();
        let phase = std::mem::replace(&mut self.phase, Phase::Gone);
        self.phase = step(phase, &mut self.wire, id, env);
        let after = self.phase.kind();
        if after != before {
            debug!("{id} {}=>{}", before.name(), after.name());
            env.stats.phase_changed(Some(before), after);
        }
    }
}

/// The connection as a callback (or a `ServerHandle` request) may use it (`open` lets it send
/// WebSocket messages), and the rest of the pass's services a callback needs beside it.
pub(super) struct Lent<'a> {
    pub link: ConnectionLink<'a>,
    pub loop_requests: &'a mut LoopRequests,
    pub table: &'a mut ProtocolTable,
    pub now: Instant,
}

/// Lend the connection to a callback: split `env` into what the link holds and the rest.
/// `compress`: the connection's agreed deflate parameters and the reader that keeps its own
/// contexts (a WebSocket), or `None` (HTTP).
pub(super) fn lend<'a>(
    open: bool,
    requests: &'a mut SessionRequests,
    wire: &'a mut Wire,
    ident: Ident,
    compress: Option<(Params, &'a mut FrameReader)>,
    env: &'a mut Env<'_>,
) -> Lent<'a> {
    let held_by_transport = wire.transport.pending_output();
    let link = ConnectionLink {
        id: ident.id,
        transport: &wire.transport,
        open,
        tick: env.tick,
        out: &mut wire.out,
        requests,
        // The link sees only the queue: what the transport holds comes off its limits.
        max_outgoing: env
            .config
            .max_outgoing_bytes
            .saturating_sub(held_by_transport),
        soft_limit: env
            .config
            .outgoing_soft_limit
            .saturating_sub(held_by_transport),
        sent: &mut env.stats.sent,
        deflate: compress
            .and_then(|(params, reader)| compressing(params, reader, env.deflate, env.config)),
    };
    Lent {
        link,
        loop_requests: env.requests,
        table: env.table,
        now: env.now,
    }
}

/// What the link needs to compress this connection's messages, if it agreed deflate.
fn compressing<'a>(
    params: Params,
    reader: &'a mut FrameReader,
    shared: &'a mut SharedDeflate,
    config: &Config,
) -> Option<Compressing<'a>> {
    params.is_on().then_some(Compressing {
        params,
        shared,
        reader,
        min_bytes: config.deflate_min_bytes,
    })
}

#[cfg(test)]
mod tests;
