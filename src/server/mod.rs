//! The server: the listening socket, the connection slab, the deadline heap, and the handful
//! of calls an application makes from its own mio loop. [`Server::run`] is the same calls in a
//! loop of wsloop's own.
//!
//! # Embedding in a foreign `Poll`
//!
//! ```no_run
//! use mio::{Events, Poll, Token};
//! use wsloop::{demo, Config, Server};
//!
//! let mut poll = Poll::new()?;
//! let addr = "127.0.0.1:0".parse().unwrap();
//! let mut server = Server::bind(addr, Config::default(), demo::table())?;
//! // wsloop takes the tokens [100, 100 + 1 + max_connections); the host keeps the rest.
//! server.register(poll.registry(), Token(100))?;
//! let mut events = Events::with_capacity(1024);
//! loop {
//!     poll.poll(&mut events, server.timeout())?;
//!     for event in events.iter() {
//!         if server.owns_token(event.token()) {
//!             server.handle_event(event);
//!         } // else: the host's own tokens
//!     }
//!     server.handle_timeouts();
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

mod accept;
mod deadlines;
mod dispatch;
mod handle;
mod loops;
mod protocol_timers;
mod run;
mod services;
mod stale_sweep;
mod stats_board;
#[cfg(feature = "tls")]
mod tls;
pub(crate) mod tokens;
mod topic_delivery;

pub use crate::net::reuseport_listener;
pub use handle::{HandleError, ServerHandle};
pub use loops::{Loops, TlsFiles};
pub(crate) use services::Services;
pub use stats_board::StatsBoard;
pub(crate) use stats_board::{process_view as process_stats, StatsSeat};

use crate::config::Config;
use crate::conn::{Connection, Env, Ident, Readiness};
use crate::http::file_cache::FileCache;
use crate::net;
use crate::protocol::{Event as ProtocolEvent, ProtocolTable};
use crate::tick::Tick;
use accept::AcceptState;
use deadlines::{Deadlines, Wakeup};
use handle::Shared;
use log::{debug, info, warn};
use mio::event::Event;
use mio::net::TcpListener;
use mio::{Interest, Registry, Token, Waker};
use protocol_timers::ProtocolTimers;
use slab::Slab;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokens::{Target, TokenRange};

/// A WebSocket + HTTP server on one listening socket, driven by one mio `Poll`.
pub struct Server {
    /// What every connection's pass borrows: table, limits, counters, files, ...
    services: Services,
    listener: Option<TcpListener>,
    local_addr: SocketAddr,
    registration: Option<Registration>,
    connections: Slab<Connection>,
    deadlines: Deadlines,
    protocol_timers: ProtocolTimers,
    /// Shared with every [`ServerHandle`].
    shared: Arc<Shared>,
    /// Connections to service again without waiting for an event (a budget ran out).
    pending: Vec<usize>,
    accept: AcceptState,
    next_id: u64,
    /// Set by [`Server::begin_shutdown`]: when the remaining connections are dropped.
    shutdown_deadline: Option<Instant>,
    /// Set by `with_tls_files`/`with_tls_config`: every accepted socket speaks TLS.
    #[cfg(feature = "tls")]
    tls: Option<tls::TlsSetup>,
    /// The bus to other loops, if any ([`Server::join_bus`]).
    bus: Option<topic_delivery::BusLink>,
    /// Connections of every loop of the process, when loops share `max_connections`.
    process_connections: Option<Arc<AtomicUsize>>,
}

/// Where it listens, what it speaks and how busy it is (the limits: [`Server::config`]).
impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tokens = self
            .registration
            .as_ref()
            .map(|registration| registration.tokens.listener().0..registration.tokens.end());
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("protocols", &self.protocol_names())
            .field("serves_files", &self.services.files.is_some())
            .field("tls", &self.serves_tls_now())
            .field("connections", &self.connections.len())
            .field("tokens", &tokens)
            .field("shutting_down", &self.services.shutting_down)
            .finish_non_exhaustive()
    }
}

struct Registration {
    registry: Registry,
    tokens: TokenRange,
}

/// Which kind of service a connection gets.
#[derive(Clone, Copy)]
enum Service {
    Ready,
    Deadline,
    Abort,
}

impl Server {
    /// Listen on `addr` (port 0 picks a free port; see [`Server::local_addr`]), with
    /// `SO_REUSEPORT`, so a new process can listen on the same port while this one drains
    /// (a restart without downtime). Fails as [`Server::from_listener`] does for an invalid
    /// config or protocol table.
    pub fn bind(addr: SocketAddr, config: Config, table: ProtocolTable) -> io::Result<Server> {
        Self::from_listener(net::reuseport_listener(addr)?, config, table)
    }

    /// Use a listener the caller bound.
    ///
    /// Fails with `io::ErrorKind::InvalidInput` if [`Config::validate`] or
    /// [`ProtocolTable::validate`] (a protocol name added twice) refuses its argument; the
    /// message names the knob or the protocol.
    pub fn from_listener(
        listener: TcpListener,
        config: Config,
        table: ProtocolTable,
    ) -> io::Result<Server> {
        config
            .validate()
            .and_then(|()| table.validate())
            .map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
        let local_addr = listener.local_addr()?;
        let accept = AcceptState::new(&listener);
        let shared = Arc::new(Shared::new(
            config.max_handle_requests,
            config.max_topic_bytes,
        ));
        Ok(Server {
            services: Services::new(config, table, Instant::now()),
            listener: Some(listener),
            local_addr,
            registration: None,
            connections: Slab::new(),
            deadlines: Deadlines::default(),
            protocol_timers: ProtocolTimers::default(),
            shared,
            pending: Vec::new(),
            accept,
            next_id: 0,
            shutdown_deadline: None,
            #[cfg(feature = "tls")]
            tls: None,
            bus: None,
            process_connections: None,
        })
    }

    /// Serve static files from `root` (GET and HEAD; `index.html` for directories). Fails if
    /// `root` is not a readable directory.
    pub fn serve_files(mut self, root: impl AsRef<Path>) -> io::Result<Server> {
        let root = root.as_ref();
        let canonical = root.canonicalize().map_err(|err| {
            io::Error::new(err.kind(), format!("www root {}: {err}", root.display()))
        })?;
        if !canonical.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("www root {} is not a directory", root.display()),
            ));
        }
        self.services.files = Some(FileCache::new(canonical, &self.services.config));
        Ok(self)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The limits in force.
    pub fn config(&self) -> &Config {
        &self.services.config
    }

    /// The WebSocket subprotocols served, in table order.
    pub fn protocol_names(&self) -> Vec<&str> {
        self.services.table.websocket_names()
    }

    /// Open connections (any phase).
    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// Topics with at least one subscriber on this server's loop.
    pub fn topic_count(&self) -> usize {
        self.services.loop_requests.topics.topic_count()
    }

    /// Subscriptions of this server's connections, over all topics.
    pub fn subscription_count(&self) -> usize {
        self.services.loop_requests.topics.subscription_count()
    }

    /// A handle other threads can use to reach this server (see [`ServerHandle`]).
    pub fn handle(&self) -> ServerHandle {
        ServerHandle::new(self.shared.clone())
    }

    /// The `Waker` of the host's `Poll` (mio allows one per `Poll`), which
    /// [`ServerHandle`]s use to wake the loop. When the host's waker token fires, just call
    /// [`Server::handle_timeouts`] as after any poll.
    pub fn set_waker(&mut self, waker: Arc<Waker>) {
        self.shared.set_waker(waker);
    }

    /// Deliver topics through `bus`, with every other loop on it, in one order per topic
    /// (see [`Bus`](crate::Bus)). Call after [`Server::set_waker`]: the bus wakes the loop
    /// when publications wait for it.
    pub fn join_bus(&mut self, bus: Arc<dyn crate::Bus>) -> io::Result<()> {
        let waker = self.shared.waker().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "join_bus needs set_waker first",
            )
        })?;
        let id = bus.join(waker);
        #[cfg(feature = "redis")]
        {
            self.services.stats.bridge = bus.bridge_stats();
        }
        self.bus = Some(topic_delivery::BusLink::new(bus, id));
        Ok(())
    }

    /// Count connections in `counter` together with other loops: `max_connections` then
    /// applies to their sum.
    pub fn share_connection_count(&mut self, counter: Arc<AtomicUsize>) {
        counter.fetch_add(self.connections.len(), Ordering::Relaxed);
        self.process_connections = Some(counter);
    }

    /// Count this loop in `board` with other loops: `/status` and `/metrics` then report
    /// them all (summed, and a line per loop). Their figures are at most
    /// `stats_share_interval` old; this loop's are live.
    pub fn share_stats(&mut self, board: Arc<StatsBoard>) {
        let interval = self.services.config.stats_share_interval;
        self.services.stats_seat = Some(stats_board::StatsSeat::take(
            board,
            interval,
            Instant::now(),
        ));
    }

    /// Register with the host's `registry`. The server uses the tokens
    /// `[base, base + 1 + max_connections)` and no others. Sends `ProtocolInit` to every
    /// protocol; fails if one of them panicked there (the server then serves nothing).
    pub fn register(&mut self, registry: &Registry, base: Token) -> io::Result<()> {
        let tokens = TokenRange::new(base, self.services.config.max_connections);
        if let Some(listener) = self.listener.as_mut() {
            registry.register(listener, tokens.listener(), Interest::READABLE)?;
        }
        self.registration = Some(Registration {
            registry: registry.try_clone()?,
            tokens,
        });
        self.broadcast_protocol_event(|| ProtocolEvent::Init)
            .map_err(|panicked| {
                if let (Some(mut listener), Some(registration)) =
                    (self.listener.take(), self.registration.take())
                {
                    let _ = registration.registry.deregister(&mut listener);
                }
                io::Error::other(format!(
                    "protocol {:?} panicked in ProtocolInit: {}",
                    panicked.protocol, panicked.message
                ))
            })
    }

    /// True if `token` is in the server's range: pass that event to [`Server::handle_event`].
    pub fn owns_token(&self, token: Token) -> bool {
        self.registration
            .as_ref()
            .is_some_and(|registration| registration.tokens.classify(token).is_some())
    }

    /// The first token after the server's range, for hosts that allocate tokens after it.
    pub fn token_range_end(&self) -> Option<Token> {
        self.registration
            .as_ref()
            .map(|registration| Token(registration.tokens.end()))
    }

    /// React to one readiness event for a token in the server's range.
    pub fn handle_event(&mut self, event: &Event) {
        self.handle_event_at(event, Instant::now());
    }

    /// [`Server::handle_event`] with the time read once for all the events one poll returned
    /// (the loop's own clock, as libuv keeps one per iteration): one `clock_gettime` per
    /// poll instead of one per event. Deadlines are counted in coarse ticks, so the time a
    /// batch takes to serve does not matter to them.
    pub(crate) fn handle_event_at(&mut self, event: &Event, now: Instant) {
        let Some(target) = self
            .registration
            .as_ref()
            .and_then(|registration| registration.tokens.classify(event.token()))
        else {
            return;
        };
        match target {
            Target::Listener => self.accept_connections(now),
            Target::Connection(key) => {
                let Some(conn) = self.connections.get_mut(key) else {
                    return;
                };
                conn.note_readiness(Readiness {
                    readable: event.is_readable(),
                    writable: event.is_writable() || event.is_write_closed() || event.is_error(),
                    read_closed: event.is_read_closed() || event.is_error(),
                });
                self.service(key, now, Service::Ready);
            }
        }
    }

    /// True when work is waiting that no event will announce (a budget ran out): poll with a
    /// zero timeout, as libwebsockets' forced service does.
    pub fn has_pending_work(&self) -> bool {
        !self.pending.is_empty() || self.accept.has_backlog()
    }

    /// The timeout to pass to `Poll::poll`: zero with pending work, else until the earliest
    /// deadline, else `None` (wait for events).
    pub fn timeout(&self) -> Option<Duration> {
        if self.has_pending_work() {
            return Some(Duration::ZERO);
        }
        let clock = self.services.clock;
        let next = [
            self.deadlines.next().map(|at| clock.instant(at)),
            self.protocol_timers.next(),
            self.accept.retry_at(),
            self.shutdown_deadline,
            self.services
                .stats_seat
                .as_ref()
                .map(|seat| seat.next_post()),
        ]
        .into_iter()
        .flatten()
        .min()?;
        Some(next.saturating_duration_since(Instant::now()))
    }

    /// Run what is due: expired deadlines, pending work, a paused accept. Call after every
    /// `Poll::poll`, whether or not it returned events.
    pub fn handle_timeouts(&mut self) {
        let now = Instant::now();
        let clock = self.services.clock;
        while let Some(wakeup) = self.deadlines.pop_due(clock.millis(now)) {
            let key = wakeup.key as usize;
            let due = self.connections.get_mut(key).is_some_and(|conn| {
                belongs(conn, &wakeup) && conn.take_due_wakeup(Tick::from_millis(wakeup.at))
            });
            if due {
                self.service(key, now, Service::Deadline);
            }
        }
        while let Some((timer, protocol)) = self.protocol_timers.pop_due(now) {
            // A panic in a protocol timer is logged; the timer goes on as scheduled.
            let _ =
                self.dispatch_protocol_event(protocol, ProtocolEvent::ProtocolTimer(timer), now);
        }
        for command in self.shared.take_commands() {
            self.run_command(command, now);
        }
        if self.bus.is_some() {
            self.deliver_publications(None);
        }
        for key in std::mem::take(&mut self.pending) {
            if let Some(conn) = self.connections.get_mut(key) {
                conn.dequeue();
                self.service(key, now, Service::Ready);
            }
        }
        if self.accept.is_due(now) {
            self.accept_connections(now);
        }
        if let Some(seat) = self.services.stats_seat.as_mut() {
            seat.post_if_due(now, &self.services.stats);
        }
        if self.shutdown_deadline.is_some_and(|at| at <= now) && !self.connections.is_empty() {
            warn!(
                "shutdown_timeout passed; dropping {} connections",
                self.connections.len()
            );
            self.abort_all(now);
        }
    }

    /// Stop accepting, close every WebSocket with 1001 "going away", finish in-flight HTTP
    /// responses, and drop whatever is left after `shutdown_timeout`.
    pub fn begin_shutdown(&mut self) {
        if self.shutdown_deadline.is_some() {
            return;
        }
        let now = Instant::now();
        info!(
            "shutting down: closing {} connections",
            self.connections.len()
        );
        self.shutdown_deadline = Some(now + self.services.config.shutdown_timeout);
        self.services.shutting_down = true;
        if let Some(listener) = self.listener.take() {
            self.close_listener(listener, now);
        }
        self.accept.stop();
        let keys: Vec<usize> = self.connections.iter().map(|(key, _)| key).collect();
        for key in keys {
            self.service(key, now, Service::Ready);
        }
    }

    /// Drop every connection now (`Closed` still runs for each WebSocket).
    pub fn shutdown_now(&mut self) {
        self.begin_shutdown();
        self.abort_all(Instant::now());
    }

    /// True once shutdown began and every connection is gone.
    pub fn is_finished(&self) -> bool {
        self.shutdown_deadline.is_some() && self.connections.is_empty()
    }

    fn service(&mut self, key: usize, now: Instant, service: Service) {
        self.with_connection(key, now, |conn, ident, env| match service {
            Service::Ready => conn.service(ident, env),
            Service::Deadline => conn.on_deadline(ident, env),
            Service::Abort => conn.abort(ident, env),
        });
    }

    /// Run `pass` on connection `key` with the server's services lent to it, then settle
    /// what it changed: the incoming budget, removal, pending work, the next deadline.
    fn with_connection<T>(
        &mut self,
        key: usize,
        now: Instant,
        pass: impl FnOnce(&mut Connection, Ident, &mut Env<'_>) -> T,
    ) -> Option<T> {
        let conn = self.connections.get_mut(key)?;
        let held_before = conn.incoming_held();
        let others = self.services.stats.incoming_buffered - held_before;
        let ident = Ident { id: conn.id(key) };
        let now_ms = self.services.clock.millis(now);
        let mut env = self.services.env(now, now_ms, others);
        let result = pass(conn, ident, &mut env);
        self.services.stats.incoming_buffered = others + conn.incoming_held();
        self.settle(key, now_ms);
        // This connection's publications reach it after every other subscriber.
        self.apply_loop_requests(Some(key));
        Some(result)
    }

    /// After a service pass: remove a finished connection, or queue its pending work and
    /// schedule its next deadline.
    fn settle(&mut self, key: usize, now_ms: u64) {
        let Some(conn) = self.connections.get_mut(key) else {
            return;
        };
        if conn.is_gone() {
            // Dropped at the end of this block: closing the socket also takes it out of the
            // poll (epoll and kqueue drop a closed descriptor), so no `deregister` call.
            let conn = self.connections.remove(key);
            self.services.loop_requests.topics.remove_connection(key);
            if let Some(counter) = &self.process_connections {
                counter.fetch_sub(1, Ordering::Relaxed);
            }
            #[cfg(feature = "tls")]
            self.note_unfinished_handshake(conn.transport(), conn.id(key));
            debug!("{} removed", conn.id(key));
            self.sweep_stale_deadlines();
            return;
        }
        if conn.has_more_work() && conn.enqueue() {
            self.pending.push(key);
        }
        let now_tick = Tick::from_millis(now_ms);
        if let Some(at) = conn.reschedule(now_tick) {
            self.deadlines.push(Wakeup {
                at: now_ms + at.millis_from(now_tick),
                key: key as u32,
                serial: conn.id(key).get() as u32,
            });
            self.sweep_stale_deadlines();
        }
    }

    /// Sweep the deadline heap of entries no connection waits for (connections gone, or
    /// deadlines moved earlier), once they could outnumber the live ones.
    fn sweep_stale_deadlines(&mut self) {
        let connections = &self.connections;
        self.deadlines
            .sweep_if_mostly_stale(connections.len(), |wakeup| {
                connections.get(wakeup.key as usize).is_some_and(|conn| {
                    belongs(conn, wakeup) && conn.waits_for(Tick::from_millis(wakeup.at))
                })
            });
    }

    /// True if new connections get TLS (always false without the `tls` feature).
    fn serves_tls_now(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    fn abort_all(&mut self, now: Instant) {
        let keys: Vec<usize> = self.connections.iter().map(|(key, _)| key).collect();
        for key in keys {
            self.service(key, now, Service::Abort);
        }
    }
}

/// True if `wakeup` was scheduled by `conn`, not by an older connection whose slab key it
/// reuses.
fn belongs(conn: &Connection, wakeup: &Wakeup) -> bool {
    conn.id(wakeup.key as usize).get() as u32 == wakeup.serial
}

impl Drop for Server {
    /// Every remaining connection gets its `Closed`, then every protocol its `ProtocolDestroy`.
    fn drop(&mut self) {
        if self.registration.is_none() {
            return;
        }
        self.abort_all(Instant::now());
        let _ = self.broadcast_protocol_event(|| ProtocolEvent::Destroy);
        self.shared.stop();
        if let Some(link) = self.bus.take() {
            link.bus.leave(link.id);
        }
    }
}

#[cfg(test)]
mod tests;
