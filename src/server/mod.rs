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

mod deadlines;
mod handle;
mod protocol_timers;
mod run;
pub(crate) mod tokens;

pub use handle::ServerHandle;

use crate::config::Config;
use crate::conn::{Connection, ConnectionId, Env};
use crate::http::file_cache::FileCache;
use crate::log_text::Throttle;
use crate::net;
use crate::protocol::{Context, Event as ProtocolEvent, LoopRequests, Message, ProtocolTable};
use crate::stats::Stats;
use bytes::BytesMut;
use deadlines::{Deadlines, Wakeup};
use handle::{Command, Shared};
use log::{debug, info, warn};
use mio::event::Event;
use mio::net::TcpListener;
use mio::{Interest, Registry, Token, Waker};
use protocol_timers::ProtocolTimers;
use slab::Slab;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokens::{Target, TokenRange};

/// How long to wait before accepting again after `accept` failed (e.g. out of descriptors).
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// A WebSocket + HTTP server on one listening socket, driven by one mio `Poll`.
pub struct Server {
    config: Config,
    /// The www root and its in-memory cache, once `serve_files` was called.
    files: Option<FileCache>,
    table: ProtocolTable,
    listener: Option<TcpListener>,
    local_addr: SocketAddr,
    registration: Option<Registration>,
    connections: Slab<Connection>,
    /// Slab key of each connection, for requests that name a connection by id.
    keys: HashMap<ConnectionId, usize>,
    deadlines: Deadlines,
    protocol_timers: ProtocolTimers,
    /// What callbacks asked of the loop as a whole during the current pass.
    loop_requests: LoopRequests,
    /// Shared with every [`ServerHandle`].
    shared: Arc<Shared>,
    stats: Stats,
    /// Lent to each connection for its read pass (see `conn::frame_stream`).
    read_buffer: BytesMut,
    /// Connections to service again without waiting for an event (a budget ran out).
    pending: Vec<usize>,
    accept: AcceptState,
    next_id: u64,
    /// Set by [`Server::begin_shutdown`]: when the remaining connections are dropped.
    shutdown_deadline: Option<Instant>,
}

struct Registration {
    registry: Registry,
    tokens: TokenRange,
}

struct AcceptState {
    /// The accept budget ran out with connections possibly still in the backlog.
    backlog: bool,
    /// `accept` failed; try again at this time.
    retry_at: Option<Instant>,
    /// Warnings for `accept` failures and refused connections, at most one a second.
    failure_log: Throttle,
    refusal_log: Throttle,
}

impl Default for AcceptState {
    fn default() -> Self {
        AcceptState {
            backlog: false,
            retry_at: None,
            failure_log: Throttle::new(Duration::from_secs(1)),
            refusal_log: Throttle::new(Duration::from_secs(1)),
        }
    }
}

/// Which kind of service a connection gets.
#[derive(Clone, Copy)]
enum Service {
    Ready,
    Deadline,
    Abort,
}

impl Server {
    /// Listen on `addr` (port 0 picks a free port; see [`Server::local_addr`]).
    pub fn bind(addr: SocketAddr, config: Config, table: ProtocolTable) -> io::Result<Server> {
        Self::from_listener(TcpListener::bind(addr)?, config, table)
    }

    /// Use a listener the caller bound.
    pub fn from_listener(
        listener: TcpListener,
        config: Config,
        table: ProtocolTable,
    ) -> io::Result<Server> {
        config
            .validate()
            .map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
        let local_addr = listener.local_addr()?;
        Ok(Server {
            config,
            files: None,
            table,
            listener: Some(listener),
            local_addr,
            registration: None,
            connections: Slab::new(),
            keys: HashMap::new(),
            deadlines: Deadlines::default(),
            protocol_timers: ProtocolTimers::default(),
            loop_requests: LoopRequests::default(),
            shared: Arc::default(),
            stats: Stats::new(Instant::now()),
            read_buffer: BytesMut::new(),
            pending: Vec::new(),
            accept: AcceptState::default(),
            next_id: 0,
            shutdown_deadline: None,
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
        self.files = Some(FileCache::new(
            canonical,
            self.config.static_cache_bytes,
            self.config.static_recheck_interval,
            self.config.max_static_file_bytes,
        ));
        Ok(self)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The limits in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The WebSocket subprotocols served, in table order.
    pub fn protocol_names(&self) -> Vec<&str> {
        self.table.websocket_names()
    }

    /// Open connections (any phase).
    pub fn connection_count(&self) -> usize {
        self.connections.len()
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

    /// Register with the host's `registry`. The server uses the tokens
    /// `[base, base + 1 + max_connections)` and no others. Sends `ProtocolInit` to every
    /// protocol.
    pub fn register(&mut self, registry: &Registry, base: Token) -> io::Result<()> {
        let tokens = TokenRange::new(base, self.config.max_connections);
        if let Some(listener) = self.listener.as_mut() {
            registry.register(listener, tokens.listener(), Interest::READABLE)?;
        }
        self.registration = Some(Registration {
            registry: registry.try_clone()?,
            tokens,
        });
        self.broadcast_protocol_event(|| ProtocolEvent::Init);
        Ok(())
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
        let Some(target) = self
            .registration
            .as_ref()
            .and_then(|registration| registration.tokens.classify(event.token()))
        else {
            return;
        };
        let now = Instant::now();
        match target {
            Target::Listener => self.accept_connections(now),
            Target::Connection(key) => {
                let Some(conn) = self.connections.get_mut(key) else {
                    return;
                };
                conn.wire.readable |=
                    event.is_readable() || event.is_read_closed() || event.is_error();
                conn.wire.writable |=
                    event.is_writable() || event.is_write_closed() || event.is_error();
                self.service(key, now, Service::Ready);
            }
        }
    }

    /// True when work is waiting that no event will announce (a budget ran out): poll with a
    /// zero timeout, as libwebsockets' forced service does.
    pub fn has_pending_work(&self) -> bool {
        !self.pending.is_empty() || self.accept.backlog
    }

    /// The timeout to pass to `Poll::poll`: zero with pending work, else until the earliest
    /// deadline, else `None` (wait for events).
    pub fn timeout(&self) -> Option<Duration> {
        if self.has_pending_work() {
            return Some(Duration::ZERO);
        }
        let next = [
            self.deadlines.next(),
            self.protocol_timers.next(),
            self.accept.retry_at,
            self.shutdown_deadline,
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
        while let Some(wakeup) = self.deadlines.pop_due(now) {
            let current = self
                .connections
                .get_mut(wakeup.key)
                .filter(|conn| conn.ident.id == wakeup.id && conn.scheduled == Some(wakeup.at));
            if let Some(conn) = current {
                conn.scheduled = None;
                self.service(wakeup.key, now, Service::Deadline);
            }
        }
        while let Some((timer, protocol)) = self.protocol_timers.pop_due(now) {
            self.dispatch_protocol_event(protocol, ProtocolEvent::ProtocolTimer(timer), now);
        }
        for command in self.shared.take_commands() {
            self.run_command(command, now);
        }
        for key in std::mem::take(&mut self.pending) {
            if let Some(conn) = self.connections.get_mut(key) {
                conn.queued = false;
                self.service(key, now, Service::Ready);
            }
        }
        if self.accept.backlog || self.accept.retry_at.is_some_and(|at| at <= now) {
            self.accept_connections(now);
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
        self.shutdown_deadline = Some(now + self.config.shutdown_timeout);
        if let (Some(mut listener), Some(registration)) =
            (self.listener.take(), self.registration.as_ref())
        {
            let _ = registration.registry.deregister(&mut listener);
        }
        self.accept.backlog = false;
        self.accept.retry_at = None;
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

    fn accept_connections(&mut self, now: Instant) {
        self.accept.backlog = false;
        self.accept.retry_at = None;
        for _ in 0..self.config.accept_budget {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            match net::accept(listener) {
                Ok(Some((socket, peer))) => self.admit(socket, peer, now),
                Ok(None) => return,
                Err(err) => {
                    // EMFILE/ENFILE: keep serving who we have, retry later, never spin.
                    if let Some(held_back) = self.accept.failure_log.allow(now) {
                        warn!(
                            "accept failed: {err}; retrying every {ACCEPT_RETRY_DELAY:?} \
                             ({held_back} more failures since the last warning)"
                        );
                    }
                    self.accept.retry_at = Some(now + ACCEPT_RETRY_DELAY);
                    return;
                }
            }
        }
        self.accept.backlog = true;
    }

    fn admit(&mut self, socket: mio::net::TcpStream, peer: SocketAddr, now: Instant) {
        let Some(registration) = self.registration.as_ref() else {
            return;
        };
        if self.connections.len() >= self.config.max_connections {
            if let Some(held_back) = self.accept.refusal_log.allow(now) {
                warn!(
                    "max_connections ({}) reached; refusing {peer} \
                     ({held_back} more refused since the last warning)",
                    self.config.max_connections
                );
            }
            return;
        }
        self.next_id += 1;
        let id = ConnectionId(self.next_id);
        let entry = self.connections.vacant_entry();
        let key = entry.key();
        let env = Env {
            table: &mut self.table,
            requests: &mut self.loop_requests,
            stats: &mut self.stats,
            read_buffer: &mut self.read_buffer,
            config: &self.config,
            files: self.files.as_mut(),
            now,
            shutting_down: false,
        };
        let mut conn = Connection::new(id, socket, peer, &env);
        if let Err(err) = net::register(
            &registration.registry,
            &mut conn.wire.socket,
            registration.tokens.connection(key),
        ) {
            warn!("{id}: cannot register {peer}: {err}");
            return;
        }
        debug!("{id} accepted from {peer}");
        self.stats.accepted += 1;
        self.stats.phase_changed(None, conn.phase.name());
        entry.insert(conn);
        self.keys.insert(id, key);
        self.settle(key);
    }

    fn service(&mut self, key: usize, now: Instant, service: Service) {
        let Some(conn) = self.connections.get_mut(key) else {
            return;
        };
        let mut env = Env {
            table: &mut self.table,
            requests: &mut self.loop_requests,
            stats: &mut self.stats,
            read_buffer: &mut self.read_buffer,
            config: &self.config,
            files: self.files.as_mut(),
            now,
            shutting_down: self.shutdown_deadline.is_some(),
        };
        match service {
            Service::Ready => conn.service(&mut env),
            Service::Deadline => conn.on_deadline(&mut env),
            Service::Abort => conn.abort(&mut env),
        }
        self.settle(key);
        self.apply_loop_requests();
    }

    /// After a service pass: remove a finished connection, or queue its pending work and
    /// schedule its next deadline.
    fn settle(&mut self, key: usize) {
        let Some(conn) = self.connections.get_mut(key) else {
            return;
        };
        if conn.phase.is_gone() {
            let mut conn = self.connections.remove(key);
            self.keys.remove(&conn.ident.id);
            if let Some(registration) = self.registration.as_ref() {
                let _ = registration.registry.deregister(&mut conn.wire.socket);
            }
            debug!("{} removed", conn.ident.id);
            return;
        }
        if conn.wire.more_work && !conn.queued {
            conn.queued = true;
            self.pending.push(key);
        }
        if let Some(at) = conn.next_deadline() {
            if conn.scheduled.is_none_or(|scheduled| at < scheduled) {
                conn.scheduled = Some(at);
                self.deadlines.push(Wakeup {
                    at,
                    key,
                    id: conn.ident.id,
                });
            }
        }
    }

    fn abort_all(&mut self, now: Instant) {
        let keys: Vec<usize> = self.connections.iter().map(|(key, _)| key).collect();
        for key in keys {
            self.service(key, now, Service::Abort);
        }
    }

    /// Tell every protocol about something that concerns the protocol, not a connection.
    fn broadcast_protocol_event(&mut self, event: impl Fn() -> ProtocolEvent<'static>) {
        let now = Instant::now();
        for index in 0..self.table.len() {
            self.dispatch_protocol_event(index, event(), now);
        }
    }

    fn dispatch_protocol_event(&mut self, protocol: usize, event: ProtocolEvent<'_>, now: Instant) {
        let mut cx = Context::for_protocol(protocol, &mut self.loop_requests, now);
        self.table.dispatch(protocol, &mut cx, None, event);
        self.apply_loop_requests();
    }

    /// Carry out what callbacks asked of the loop as a whole.
    fn apply_loop_requests(&mut self) {
        if self.loop_requests.is_empty() {
            return;
        }
        for change in std::mem::take(&mut self.loop_requests.timer_changes) {
            self.protocol_timers.apply(change);
        }
        for id in std::mem::take(&mut self.loop_requests.writeable_ids) {
            let Some(&key) = self.keys.get(&id) else {
                continue;
            };
            let conn = &mut self.connections[key];
            if conn.request_writeable() && !conn.queued {
                conn.queued = true;
                self.pending.push(key);
            }
        }
        for protocol in std::mem::take(&mut self.loop_requests.writeable_all) {
            for (key, conn) in self.connections.iter_mut() {
                if conn.open_protocol() == Some(protocol)
                    && conn.request_writeable()
                    && !conn.queued
                {
                    conn.queued = true;
                    self.pending.push(key);
                }
            }
        }
    }

    /// A request from a [`ServerHandle`].
    fn run_command(&mut self, command: Command, now: Instant) {
        match command {
            Command::Send(id, message) => {
                if let Some(&key) = self.keys.get(&id) {
                    self.send_from_outside(key, message, now);
                }
            }
            Command::Broadcast(protocol, message) => {
                let Some(index) = self.table.find(&protocol) else {
                    warn!("broadcast to unknown protocol {protocol:?} ignored");
                    return;
                };
                let keys: Vec<usize> = self
                    .connections
                    .iter()
                    .filter(|(_, conn)| conn.open_protocol() == Some(index))
                    .map(|(key, _)| key)
                    .collect();
                for key in keys {
                    self.send_from_outside(key, message.clone(), now);
                }
            }
            Command::Shutdown => self.begin_shutdown(),
        }
    }

    fn send_from_outside(&mut self, key: usize, message: Message, now: Instant) {
        let Some(conn) = self.connections.get_mut(key) else {
            return;
        };
        let mut env = Env {
            table: &mut self.table,
            requests: &mut self.loop_requests,
            stats: &mut self.stats,
            read_buffer: &mut self.read_buffer,
            config: &self.config,
            files: self.files.as_mut(),
            now,
            shutting_down: self.shutdown_deadline.is_some(),
        };
        if let Err(err) = conn.send(message, &mut env) {
            debug!(
                "{}: message from another thread not sent: {err}",
                conn.ident.id
            );
        }
        self.service(key, now, Service::Ready);
    }
}

impl Drop for Server {
    /// Every remaining connection gets its `Closed`, then every protocol its `ProtocolDestroy`.
    fn drop(&mut self) {
        if self.registration.is_none() {
            return;
        }
        self.abort_all(Instant::now());
        self.broadcast_protocol_event(|| ProtocolEvent::Destroy);
        self.shared.stop();
    }
}
