//! Work the loop does for callbacks and other threads rather than for sockets: protocol
//! events and timers, loop-level requests (writeable for all or for one connection, timer
//! changes, publications), and `ServerHandle` commands.

use super::handle::Command;
use super::Server;
use crate::protocol::{Context, Event as ProtocolEvent, Message, Panicked};
use log::{debug, warn};
use std::time::Instant;

impl Server {
    /// Tell every protocol about something that concerns the protocol, not a connection;
    /// the first panic, if any callback panicked.
    pub(super) fn broadcast_protocol_event(
        &mut self,
        event: impl Fn() -> ProtocolEvent<'static>,
    ) -> Result<(), Panicked> {
        let now = Instant::now();
        let mut first_panic = Ok(());
        for index in 0..self.services.table.len() {
            let result = self.dispatch_protocol_event(index, event(), now);
            first_panic = first_panic.and(result);
        }
        first_panic
    }

    /// A protocol-wide reason; a panic in its callback is logged and reported, nothing else.
    pub(super) fn dispatch_protocol_event(
        &mut self,
        protocol: usize,
        event: ProtocolEvent<'_>,
        now: Instant,
    ) -> Result<(), Panicked> {
        let mut cx = Context::for_protocol(protocol, &mut self.services.loop_requests, now);
        let outcome = self.services.table.dispatch(protocol, &mut cx, None, event);
        self.apply_loop_requests(None);
        outcome.map(drop)
    }

    /// Carry out what callbacks asked of the loop as a whole; `publisher`: the connection
    /// whose callbacks ran, if any (it gets its own publications last).
    pub(super) fn apply_loop_requests(&mut self, publisher: Option<usize>) {
        if self.services.loop_requests.is_empty() {
            return;
        }
        self.deliver_publications(publisher);
        for change in std::mem::take(&mut self.services.loop_requests.timer_changes) {
            self.protocol_timers.apply(change);
        }
        for id in std::mem::take(&mut self.services.loop_requests.writeable_ids) {
            let key = id.key();
            let Some(conn) = self.connections.get_mut(key).filter(|conn| conn.is(id)) else {
                continue;
            };
            if conn.request_writeable() && conn.enqueue() {
                self.pending.push(key);
            }
        }
        for protocol in std::mem::take(&mut self.services.loop_requests.writeable_all) {
            for (key, conn) in self.connections.iter_mut() {
                if conn.open_protocol() == Some(protocol)
                    && conn.request_writeable()
                    && conn.enqueue()
                {
                    self.pending.push(key);
                }
            }
        }
    }

    /// A request from a [`ServerHandle`].
    pub(super) fn run_command(&mut self, command: Command, now: Instant) {
        match command {
            Command::Send(id, message) => {
                if self
                    .connections
                    .get(id.key())
                    .is_some_and(|conn| conn.is(id))
                {
                    self.send_from_outside(id.key(), message, now);
                }
            }
            Command::Broadcast(protocol, message) => {
                let Some(index) = self.services.table.find(&protocol) else {
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
            Command::Publish(publication) => {
                let _ = self.services.loop_requests.topics.publish(publication);
                self.deliver_publications(None);
            }
            Command::Shutdown => self.begin_shutdown(),
            #[cfg(feature = "tls")]
            Command::ReloadTls => drop(self.reload_tls_or_warn()),
            #[cfg(feature = "tls")]
            Command::SetTlsConfig(config) => self.set_tls_config(config),
            Command::ShutdownNow => self.shutdown_now(),
        }
    }

    fn send_from_outside(&mut self, key: usize, message: Message, now: Instant) {
        self.with_connection(key, now, |conn, ident, env| {
            if let Err(err) = conn.send(message, ident, env) {
                debug!("{ident}: message from another thread not sent: {err}");
            }
            conn.service(ident, env);
        });
    }
}
