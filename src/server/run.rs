//! The standalone loop: wsloop's own `Poll`, SIGINT/SIGTERM (and, with TLS, SIGHUP: reload
//! the certificate) as events, and the same public calls an embedding application makes.
//! With several loops (`Loops`) the first one runs here and passes signals on to the others,
//! which run [`Server::serve`] without signals.

use super::tokens::standalone;
use super::{Server, ServerHandle};
use crate::net::interrupted;
use crate::topics::Bus;
use log::info;
use mio::{Events, Interest, Poll, Token, Waker};
#[cfg(feature = "tls")]
use signal_hook::consts::SIGHUP;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use std::io;
use std::sync::Arc;
use std::time::Instant;

/// Readiness events taken from the kernel per `poll` call.
const EVENTS_PER_POLL: usize = 1024;

impl Server {
    /// Serve until SIGINT or SIGTERM, then shut down gracefully (see
    /// [`Server::begin_shutdown`]); a second signal drops every connection at once. SIGHUP
    /// reloads the TLS certificate and key (`Server::reload_tls`, feature `tls`; ignored
    /// without TLS files).
    pub fn run(self) -> io::Result<()> {
        self.run_with(|_| {})
    }

    /// [`Server::run`], calling `on_ready` once the signal handlers are in place and just
    /// before serving: the moment to tell a supervisor the server is up (a SIGTERM from then
    /// on is a graceful shutdown, never the default action that kills the process).
    pub fn run_with(self, on_ready: impl FnOnce(&Server)) -> io::Result<()> {
        self.run_first_of(Vec::new(), None, on_ready)
    }

    /// [`Server::run_with`] with topics delivered through `bus` (a `RedisBus`
    /// shared with other instances, say: feature `redis`).
    pub fn run_on_bus(self, bus: Arc<dyn Bus>, on_ready: impl FnOnce(&Server)) -> io::Result<()> {
        self.run_first_of(Vec::new(), Some(bus), on_ready)
    }

    /// [`Server::run_with`] as the first of several loops: signals are passed on to `peers`,
    /// and topics go through `bus`.
    pub(super) fn run_first_of(
        mut self,
        peers: Vec<ServerHandle>,
        bus: Option<Arc<dyn Bus>>,
        on_ready: impl FnOnce(&Server),
    ) -> io::Result<()> {
        let poll = Poll::new()?;
        #[cfg(feature = "tls")]
        let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        #[cfg(not(feature = "tls"))]
        let mut signals = Signals::new([SIGINT, SIGTERM])?;
        poll.registry()
            .register(&mut signals, standalone::SIGNALS, Interest::READABLE)?;
        self.attach(&poll, bus)?;
        on_ready(&self);
        self.poll_loop(poll, |server, token| {
            if token == standalone::SIGNALS {
                for signal in signals.pending() {
                    server.on_signal(signal, &peers);
                }
            }
        })?;
        info!("stopped");
        Ok(())
    }

    /// Run a loop that another loop signals (see `Loops`): `poll` is the one it was
    /// [attached](Server::attach) to.
    pub(super) fn serve(self, poll: Poll) -> io::Result<()> {
        self.poll_loop(poll, |_, _| {})
    }

    /// Put the server in `poll` under the standalone tokens: its waker, the bus (if any),
    /// its connections.
    pub(super) fn attach(&mut self, poll: &Poll, bus: Option<Arc<dyn Bus>>) -> io::Result<()> {
        self.set_waker(Arc::new(Waker::new(poll.registry(), standalone::WAKER)?));
        if let Some(bus) = bus {
            self.join_bus(bus)?;
        }
        self.register(poll.registry(), standalone::SERVER_BASE)
    }

    /// The one poll loop, until the server is finished: the server's events to it, every
    /// other token to `other` (the waker's needs nothing: handle requests are picked up by
    /// `handle_timeouts`, which runs after every poll).
    fn poll_loop(
        mut self,
        mut poll: Poll,
        mut other: impl FnMut(&mut Server, Token),
    ) -> io::Result<()> {
        let mut events = Events::with_capacity(EVENTS_PER_POLL);
        while !self.is_finished() {
            if let Err(err) = poll.poll(&mut events, self.timeout()) {
                if interrupted(&err) {
                    continue;
                }
                return Err(err);
            }
            let now = Instant::now();
            for event in events.iter() {
                if self.owns_token(event.token()) {
                    self.handle_event_at(event, now);
                } else {
                    other(&mut self, event.token());
                }
            }
            self.handle_timeouts();
        }
        Ok(())
    }

    fn on_signal(&mut self, signal: i32, peers: &[ServerHandle]) {
        #[cfg(feature = "tls")]
        if signal == SIGHUP {
            self.on_sighup(peers);
            return;
        }
        let name = if signal == SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        if self.shutdown_deadline.is_some() {
            info!("{name} again: dropping every connection now");
            for peer in peers {
                let _ = peer.shutdown_now();
            }
            self.shutdown_now();
        } else {
            info!("{name}: shutting down");
            for peer in peers {
                let _ = peer.shutdown();
            }
            self.begin_shutdown();
        }
    }
}
