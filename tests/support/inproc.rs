//! A wsloop server in a thread of the test process, driven by the embedding API (the
//! crate-doc loop plus a `Waker`), for tests whose protocols exist only in the test file.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use mio::{Events, Poll, Token, Waker};
use wsloop::{Bus, Config, ProtocolTable, Server, ServerHandle};

const WAKER: Token = Token(0);
const SERVER_BASE: Token = Token(1);

/// How long the loop thread gets to finish after a shutdown.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the loop reports after each pass.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub connections: usize,
    pub topics: usize,
    pub subscriptions: usize,
}

/// A running in-process server. Dropping it shuts the server down (bounded wait).
pub struct InProcess {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    /// The server's counts after its latest loop pass.
    pub counts: Arc<Mutex<Counts>>,
    done: mpsc::Receiver<std::io::Result<()>>,
    finished: bool,
}

impl InProcess {
    /// Bind 127.0.0.1:0 with `config` and the table `make_table` builds (in the server's
    /// thread: a table need not be `Send`); the loop runs until shutdown finishes.
    pub fn start(
        config: Config,
        make_table: impl FnOnce() -> ProtocolTable + Send + 'static,
    ) -> InProcess {
        Self::start_on(config, make_table, None)
    }

    /// [`InProcess::start`], as one of several loops whose topics go through `bus`.
    pub fn start_on_bus(
        config: Config,
        make_table: impl FnOnce() -> ProtocolTable + Send + 'static,
        bus: Arc<dyn Bus>,
    ) -> InProcess {
        Self::start_on(config, make_table, Some(bus))
    }

    fn start_on(
        config: Config,
        make_table: impl FnOnce() -> ProtocolTable + Send + 'static,
        bus: Option<Arc<dyn Bus>>,
    ) -> InProcess {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let counts = Arc::new(Mutex::new(Counts::default()));
        let loop_counts = counts.clone();
        thread::Builder::new()
            .name("wsloop-inproc".into())
            .spawn(move || {
                let result = (|| -> std::io::Result<()> {
                    let addr = "127.0.0.1:0".parse().unwrap();
                    let mut server = Server::bind(addr, config, make_table())?;
                    let mut poll = Poll::new()?;
                    server.set_waker(Arc::new(Waker::new(poll.registry(), WAKER)?));
                    if let Some(bus) = bus {
                        server.join_bus(bus)?;
                    }
                    server.register(poll.registry(), SERVER_BASE)?;
                    let _ = ready_tx.send((server.local_addr(), server.handle()));
                    let mut events = Events::with_capacity(256);
                    while !server.is_finished() {
                        poll.poll(&mut events, server.timeout())?;
                        for event in events.iter() {
                            if server.owns_token(event.token()) {
                                server.handle_event(event);
                            }
                        }
                        server.handle_timeouts();
                        *loop_counts.lock().unwrap() = Counts {
                            connections: server.connection_count(),
                            topics: server.topic_count(),
                            subscriptions: server.subscription_count(),
                        };
                    }
                    Ok(())
                })();
                let _ = done_tx.send(result);
            })
            .expect("spawn server thread");
        let (addr, handle) = ready_rx
            .recv_timeout(STOP_TIMEOUT)
            .expect("in-process server did not start");
        InProcess {
            addr,
            handle,
            counts,
            done,
            finished: false,
        }
    }

    /// Wait (bounded) for the loop to end after a shutdown; panics if it does not.
    pub fn wait_finished(&mut self) {
        if self.finished {
            return;
        }
        let result = self
            .done
            .recv_timeout(STOP_TIMEOUT)
            .expect("server loop did not finish");
        self.finished = true;
        result.expect("server loop failed");
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if !self.finished {
            // Err(Stopped) if the loop already ended: then there is nothing to wait for.
            let _ = self.handle.shutdown();
            let _ = self.done.recv_timeout(STOP_TIMEOUT);
        }
    }
}
