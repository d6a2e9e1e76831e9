//! One connection driven the way the server drives it, with no socket and no real time: the
//! [`Harness`] owns what a pass borrows (the server's [`Services`], with the [`Recorder`] as
//! the only protocol), accepts a connection over an in-memory transport, turns what the client
//! did into the readiness event an edge-triggered poller would report, services work left over
//! from a budget, and runs the connection's wake-ups as the test lets time pass.

use super::peer::{Peer, SAMPLE_ACCEPT};
use super::recorder::{Log, Recorder, Seen};
use crate::config::Config;
use crate::conn::{Connection, Delivery, Env, Ident, PhaseKind, Readiness};
use crate::connection_id::ConnectionId;
use crate::protocol::ProtocolTable;
use crate::server::Services;
use crate::tick::{Clock, Tick};
use crate::topics::Publication;
use crate::transport::memory::memory_pair;
use crate::transport::Transport;
use std::time::{Duration, Instant};

/// Passes in a row a connection with work left may take before the test calls it a spin.
const MAX_PENDING_PASSES: usize = 1000;

pub(super) struct Harness {
    services: Services,
    /// The services' clock, to read deadlines with.
    clock: Clock,
    /// The loop's time: starts at the clock's epoch, moved only by the test.
    now: Instant,
    /// `None` once the connection is gone (the server drops it then, closing its transport).
    conn: Option<Connection>,
    ident: Ident,
    pub peer: Peer,
    log: Log,
}

impl Harness {
    /// A connection just accepted, waiting for its request head.
    pub fn new(config: Config) -> Self {
        let (recorder, log) = Recorder::new();
        let table = ProtocolTable::new().with_protocol(recorder);
        table.validate().expect("a valid table");
        config.validate().expect("a valid config");
        let now = Instant::now();
        let mut services = Services::new(config, table, now);
        let (end, client) = memory_pair();
        let id = ConnectionId::new(1, 0);
        let env = services.env(now, 0, 0);
        let conn = Connection::new(id, Transport::Memory(end), &env);
        env.stats.phase_changed(None, conn.kind());
        let mut harness = Harness {
            services,
            clock: Clock::new(now),
            now,
            conn: Some(conn),
            ident: Ident { id },
            peer: Peer::new(client),
            log,
        };
        harness.settle();
        harness
    }

    /// A connection just accepted by a server that serves the files under `root` (canonical).
    pub fn with_files(config: Config, root: std::path::PathBuf) -> Self {
        let files = crate::http::file_cache::FileCache::new(root, &config);
        let mut harness = Self::new(config);
        harness.services.set_files(files);
        harness
    }

    /// A connection whose upgrade went through: the client read the 101, `Established` was
    /// delivered (and taken off the log).
    pub fn open(config: Config) -> Self {
        let mut harness = Self::new(config);
        harness.peer.send_upgrade();
        harness.poll();
        let head = harness.peer.read_head();
        assert!(head.contains(SAMPLE_ACCEPT), "{head}");
        assert_eq!(harness.take_seen(), [Seen::Established]);
        assert_eq!(harness.kind(), PhaseKind::Open);
        harness
    }

    /// The connection's phase; `Gone` once it was dropped.
    pub fn kind(&self) -> PhaseKind {
        self.conn.as_ref().map_or(PhaseKind::Gone, Connection::kind)
    }

    /// What the protocol saw since the last call.
    pub fn take_seen(&mut self) -> Vec<Seen> {
        std::mem::take(&mut *self.log.borrow_mut())
    }

    /// Bytes waiting in the connection's outgoing queue (not yet taken by the transport).
    pub fn queued(&self) -> usize {
        self.conn.as_ref().map_or(0, |conn| conn.wire.out.len())
    }

    /// Report what the client did since the last poll as one readiness event (if it did
    /// anything) and service the connection, then again while it has work left over.
    pub fn poll(&mut self) {
        let events = self.peer.client.take_events();
        if let Some(conn) = self.conn.as_mut() {
            if events.readable || events.writable || events.read_closed {
                conn.note_readiness(Readiness {
                    readable: events.readable,
                    writable: events.writable,
                    read_closed: events.read_closed,
                });
                self.pass(Connection::service);
            }
        }
        self.run_pending();
    }

    /// Give the connection `run` (publications of one topic) as the server's fan-out does,
    /// then service it if that left it work (the server's pending list).
    pub fn deliver(&mut self, run: &[Publication]) -> Delivery {
        let packed = crate::topics::pack(run);
        let slices = crate::topics::slices(&packed);
        let conn = self.conn.as_mut().expect("a connection");
        let now_ms = self.clock.millis(self.now);
        let env = self.services.env(self.now, now_ms, 0);
        let delivery = conn.deliver(&packed, &slices, env.config, &mut env.stats.sent);
        if !matches!(delivery, Delivery::Sent | Delivery::NotOpen) {
            self.pass(Connection::service);
        }
        delivery
    }

    /// Let `time` pass: the clock moves forward and every wake-up due meanwhile runs at its
    /// time, as the server's deadline heap runs them.
    pub fn wait(&mut self, time: Duration) {
        let end = self.now + time;
        while let Some(wait) = self.next_wakeup().filter(|&wait| self.now + wait <= end) {
            self.now += wait;
            self.run_wakeup();
        }
        self.now = end;
    }

    /// How long until the connection's next wake-up.
    pub fn next_wakeup(&self) -> Option<Duration> {
        let at = self.conn.as_ref()?.scheduled()?;
        Some(Duration::from_millis(at.millis_from(self.tick())))
    }

    /// Run the wake-up due now (it may be stale: the connection finds nothing due).
    fn run_wakeup(&mut self) {
        let at = self.tick();
        let conn = self.conn.as_mut().expect("a connection");
        assert!(conn.take_due_wakeup(at), "the wake-up is the one scheduled");
        self.pass(Connection::on_deadline);
        self.run_pending();
    }

    /// Service the connection while a budget left it work (the server's pending list).
    fn run_pending(&mut self) {
        for _ in 0..MAX_PENDING_PASSES {
            if !self.conn.as_ref().is_some_and(Connection::has_more_work) {
                return;
            }
            self.pass(Connection::service);
        }
        panic!("the connection still has work after {MAX_PENDING_PASSES} passes");
    }

    /// One pass over the connection with the services lent to it, then what the server's
    /// `settle` does.
    fn pass(&mut self, pass: fn(&mut Connection, Ident, &mut Env<'_>)) {
        if let Some(conn) = self.conn.as_mut() {
            let now_ms = self.clock.millis(self.now);
            pass(
                conn,
                self.ident,
                &mut self.services.env(self.now, now_ms, 0),
            );
        }
        self.settle();
    }

    /// Drop a finished connection; otherwise let it schedule its next wake-up.
    fn settle(&mut self) {
        let tick = self.tick();
        match self.conn.as_mut() {
            Some(conn) if conn.is_gone() => self.conn = None,
            Some(conn) => {
                conn.reschedule(tick);
            }
            None => {}
        }
    }

    fn tick(&self) -> Tick {
        self.clock.tick(self.now)
    }
}
