//! Taking connections off the listening socket: within the accept budget, up to
//! `max_connections`, and never spinning when `accept` fails (EMFILE): retry later instead;
//! at shutdown, the backlog before the socket is closed.

use super::Server;
use crate::conn::Connection;
use crate::connection_id::ConnectionId;
use crate::log_text::Throttle;
use crate::net;
use crate::transport::Transport;
use log::{debug, warn};
use mio::net::{TcpListener, TcpStream};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long to wait before accepting again after `accept` failed (e.g. out of descriptors).
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

pub(super) struct AcceptState {
    /// The accept budget ran out with connections possibly still in the backlog.
    backlog: bool,
    /// `accept` failed; try again at this time.
    retry_at: Option<Instant>,
    /// Accepted sockets come with `TCP_NODELAY` from the listener (see
    /// [`net::set_listener_nodelay`]).
    nodelay_inherited: bool,
    /// Warnings for `accept` failures and refused connections, at most one a second.
    failure_log: Throttle,
    refusal_log: Throttle,
}

impl AcceptState {
    /// Accepting from `listener`.
    pub(super) fn new(listener: &TcpListener) -> Self {
        AcceptState {
            backlog: false,
            retry_at: None,
            nodelay_inherited: net::set_listener_nodelay(listener),
            failure_log: Throttle::new(Duration::from_secs(1)),
            refusal_log: Throttle::new(Duration::from_secs(1)),
        }
    }

    /// Connections may be waiting in the backlog (the accept budget ran out).
    pub(super) fn has_backlog(&self) -> bool {
        self.backlog
    }

    /// When a failed `accept` is to be tried again.
    pub(super) fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// True if accepting has work now that no event will announce.
    pub(super) fn is_due(&self, now: Instant) -> bool {
        self.backlog || self.retry_at.is_some_and(|at| at <= now)
    }

    /// Accept nothing more (shutdown).
    pub(super) fn stop(&mut self) {
        self.backlog = false;
        self.retry_at = None;
    }
}

impl Server {
    pub(super) fn accept_connections(&mut self, now: Instant) {
        self.accept.backlog = false;
        self.accept.retry_at = None;
        for _ in 0..self.services.config.accept_budget {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            match net::accept(listener, self.accept.nodelay_inherited) {
                Ok(Some((stream, peer))) => self.admit(stream, peer, now),
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

    /// Stop listening (shutdown): out of the poll at once, then the connections already in
    /// the kernel's backlog are taken (each gets its first request answered), then the
    /// socket is closed. Closing with a backlog would reset those connections; with
    /// `SO_REUSEPORT` new ones go to the other listeners on the port (a new process).
    pub(super) fn close_listener(&mut self, mut listener: TcpListener, now: Instant) {
        if let Some(registration) = self.registration.as_ref() {
            let _ = registration.registry.deregister(&mut listener);
        }
        for _ in 0..=net::LISTEN_BACKLOG {
            match net::accept(&listener, self.accept.nodelay_inherited) {
                Ok(Some((stream, peer))) => self.admit(stream, peer, now),
                Ok(None) | Err(_) => break,
            }
        }
    }

    fn admit(&mut self, stream: TcpStream, peer: SocketAddr, now: Instant) {
        let Some(registration) = self.registration.as_ref() else {
            return;
        };
        let in_process = self
            .process_connections
            .as_ref()
            .map_or(self.connections.len(), |counter| {
                counter.load(Ordering::Relaxed)
            });
        if in_process.max(self.connections.len()) >= self.services.config.max_connections {
            if let Some(held_back) = self.accept.refusal_log.allow(now) {
                warn!(
                    "max_connections ({}) reached; refusing {peer} \
                     ({held_back} more refused since the last warning)",
                    self.services.config.max_connections
                );
            }
            return;
        }
        let Some(transport) = self.transport_for(stream, peer) else {
            return;
        };
        self.next_id += 1;
        let entry = self.connections.vacant_entry();
        let key = entry.key();
        let id = ConnectionId::new(self.next_id, key);
        let held = self.services.stats.incoming_buffered;
        let now_ms = self.services.clock.millis(now);
        let env = self.services.env(now, now_ms, held);
        let mut conn = Connection::new(id, transport, &env);
        if let Err(err) = net::register(
            &registration.registry,
            conn.transport_mut(),
            registration.tokens.connection(key),
        ) {
            warn!("{id}: cannot register {peer}: {err}");
            return;
        }
        debug!("{id} accepted from {peer}");
        self.services.stats.accepted += 1;
        if let Some(counter) = &self.process_connections {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.services.stats.phase_changed(None, conn.kind());
        entry.insert(conn);
        self.settle(key, now_ms);
    }

    /// What an accepted socket becomes: TLS over it when the server serves TLS.
    fn transport_for(&self, stream: TcpStream, peer: SocketAddr) -> Option<Transport> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_ref() {
            return match tls.wrap(stream, peer) {
                Ok(transport) => Some(transport),
                Err(err) => {
                    warn!("cannot start TLS with {peer}: {err}");
                    None
                }
            };
        }
        let _ = peer;
        Some(Transport::Tcp(stream))
    }
}
