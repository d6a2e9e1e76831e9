//! One client connection: its socket and outgoing queue ([`Wire`]), and the [`Phase`] it is
//! in. Each phase lives in its own file and returns the next phase as a value; this file runs
//! the steps and logs every transition (`conn#12 OPEN=>CLOSING`).

mod closing;
pub(crate) mod frame_stream;
mod http_request;
mod incoming;
mod out_queue;
mod phase;
mod reading_head;
mod serving_file;
mod upgrade;
mod websocket;

pub(crate) use out_queue::OutQueue;
pub(crate) use phase::Phase;

use crate::config::Config;
use crate::http::file_cache::FileCache;
use crate::net::{self, ReadBudget, ReadState};
use crate::protocol::{
    ConnectionLink, LoopRequests, Message, ProtocolIndex, ProtocolTable, SendError, Sent,
    SessionRequests,
};
use crate::stats::{Stats, Traffic};
use bytes::BytesMut;
use log::debug;
use mio::net::TcpStream;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;
use tungstenite::protocol::WebSocketContext;

/// Most phase transitions in one service pass (a pipelined request goes
/// SERVING_FILE=>READING_HEAD=>SERVING_FILE); more work waits for the next tick.
const MAX_STEPS_PER_PASS: usize = 8;

/// A connection's id: unique for the server's lifetime (slab keys are reused, ids are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub(crate) u64);

impl ConnectionId {
    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

/// Who a connection is, for logs and callbacks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ident {
    pub id: ConnectionId,
    pub peer: SocketAddr,
}

/// What the phases share from the server for one pass.
pub(crate) struct Env<'a> {
    pub table: &'a mut ProtocolTable,
    /// What callbacks ask of the loop as a whole; the server applies it after the pass.
    pub requests: &'a mut LoopRequests,
    pub stats: &'a mut Stats,
    /// The server's frame buffer, lent to each WebSocket for its read pass.
    pub read_buffer: &'a mut BytesMut,
    /// The server's socket read buffer, lent to each read pass (see [`Env::begin_read`]).
    pub scratch: &'a mut Box<[u8]>,
    pub config: &'a Config,
    /// Static files, if the server serves any.
    pub files: Option<&'a mut FileCache>,
    pub now: Instant,
    pub shutting_down: bool,
}

impl Env<'_> {
    /// A read budget for one pass on `wire`, lent the server's socket read buffer.
    pub fn begin_read(&mut self, wire: &Wire) -> ReadBudget {
        let buffer = std::mem::take(self.scratch);
        let config = self.config;
        let mut budget =
            ReadBudget::new(config.read_budget_bytes, config.read_buffer_bytes, buffer);
        budget.short_read_drains = !wire.peer_fin_seen;
        budget
    }

    /// Give the read buffer back; what the pass found.
    pub fn end_read(&mut self, budget: ReadBudget) -> ReadState {
        let state = budget.state;
        *self.scratch = budget.into_buffer();
        state
    }
}

/// The socket, its known readiness, and the bytes waiting to go out.
pub(crate) struct Wire {
    pub socket: TcpStream,
    pub out: OutQueue,
    /// Last event said readable and no read has hit `WouldBlock` since.
    pub readable: bool,
    /// Last event said writable and no write has hit `WouldBlock` since.
    pub writable: bool,
    /// An event reported the peer's FIN: reads go on to end of stream, even after a short one.
    pub peer_fin_seen: bool,
    /// A budget ran out with work left: service again next tick without waiting for an event.
    pub more_work: bool,
}

impl Wire {
    /// Send queued bytes if the socket can take them; true when the queue is empty.
    pub fn flush(&mut self) -> io::Result<bool> {
        if self.out.is_empty() {
            return Ok(true);
        }
        if !self.writable {
            return Ok(false);
        }
        let done = net::flush(&self.socket, &mut self.out)?;
        if !done {
            self.writable = false;
        }
        Ok(done)
    }

    /// Record what a read pass found.
    pub fn note_read(&mut self, state: ReadState) {
        if state.drained {
            self.readable = false;
        }
        if state.budget_exhausted {
            self.more_work = true;
        }
    }
}

/// One accepted TCP connection.
pub(crate) struct Connection {
    pub ident: Ident,
    pub wire: Wire,
    pub phase: Phase,
    /// The earliest deadline this connection has in the server's timer heap.
    pub scheduled: Option<Instant>,
    /// Already in the server's list of connections to service without an event.
    pub queued: bool,
}

impl Connection {
    pub fn new(id: ConnectionId, socket: TcpStream, peer: SocketAddr, env: &Env<'_>) -> Self {
        Connection {
            ident: Ident { id, peer },
            wire: Wire {
                socket,
                out: OutQueue::default(),
                readable: true,
                writable: true,
                peer_fin_seen: false,
                more_work: false,
            },
            phase: Phase::first_request(env),
            scheduled: None,
            queued: false,
        }
    }

    /// Advance the connection as far as its readiness allows.
    pub fn service(&mut self, env: &mut Env<'_>) {
        self.wire.more_work = false;
        for _ in 0..MAX_STEPS_PER_PASS {
            let before = self.phase.name();
            self.take_step(env, Phase::step);
            if self.phase.name() == before || self.phase.is_gone() {
                return;
            }
        }
        self.wire.more_work = true;
    }

    /// A deadline this connection asked for has passed (it may be stale: phases check).
    pub fn on_deadline(&mut self, env: &mut Env<'_>) {
        self.take_step(env, Phase::on_deadline);
        if !self.phase.is_gone() {
            self.service(env);
        }
    }

    /// End the connection now (shutdown timeout, server dropped): `Closed` runs if it was a
    /// WebSocket.
    pub fn abort(&mut self, env: &mut Env<'_>) {
        self.take_step(env, Phase::abort);
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.phase.deadline()
    }

    /// The protocol of an open WebSocket (not while it closes).
    pub fn open_protocol(&self) -> Option<ProtocolIndex> {
        match &self.phase {
            Phase::Open(ws) => Some(ws.protocol()),
            _ => None,
        }
    }

    /// Queue a message from outside any callback (a `ServerHandle` request).
    pub fn send(&mut self, message: Message, env: &mut Env<'_>) -> Result<Sent, SendError> {
        match &mut self.phase {
            Phase::Open(ws) => ws.send(message, &mut self.wire, self.ident, env),
            _ => Err(SendError::NotOpen),
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
        env: &mut Env<'_>,
        step: fn(Phase, &mut Wire, Ident, &mut Env<'_>) -> Phase,
    ) {
        let before = self.phase.name();
        let phase = std::mem::replace(&mut self.phase, Phase::Gone);
        self.phase = step(phase, &mut self.wire, self.ident, env);
        let after = self.phase.name();
        if after != before {
            debug!("{} {before}=>{after}", self.ident.id);
            env.stats.phase_changed(Some(before), after);
        }
    }
}

/// The connection as a callback (or a `ServerHandle` request) may use it.
pub(super) fn lend<'a>(
    ws: Option<&'a mut WebSocketContext>,
    requests: &'a mut SessionRequests,
    wire: &'a mut Wire,
    ident: Ident,
    config: &Config,
    sent: &'a mut Traffic,
) -> ConnectionLink<'a> {
    ConnectionLink {
        id: ident.id,
        peer: ident.peer,
        ws,
        out: &mut wire.out,
        requests,
        max_outgoing: config.max_outgoing_bytes,
        soft_limit: config.outgoing_soft_limit,
        sent,
    }
}
