//! The library's `Server` with the binary's protocol table, polled in a thread of the test:
//! for `Config` fields the binary has no flag for (`ping_interval`, `pong_timeout`,
//! `keepalive_timeout`). Uses only the public embedding calls (`register`, `handle_event`,
//! `handle_timeouts`), the same loop `Server::run` drives. No log output (no logger installed).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use mio::{Events, Poll, Token};
use wsloop::{demo, Config, Server};

/// A library `Server` with the demo protocols, polled in a thread until dropped.
pub struct InProcess {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl InProcess {
    pub fn start(config: Config) -> InProcess {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let (addr_tx, addr_rx) = mpsc::channel();
        // `Server` is not `Send`: it is built in the thread that polls it.
        let thread = thread::spawn(move || {
            let mut server = Server::bind("127.0.0.1:0".parse().unwrap(), config, demo::table())
                .expect("bind 127.0.0.1:0")
                .serve_files(super::www_dir())
                .expect("serve www");
            addr_tx.send(server.local_addr()).unwrap();
            let mut poll = Poll::new().expect("poll");
            server
                .register(poll.registry(), Token(0))
                .expect("register");
            let mut events = Events::with_capacity(256);
            while !flag.load(Ordering::Relaxed) {
                // Bounded so the stop flag is seen even when nothing happens.
                let timeout = server.timeout().map_or(Duration::from_millis(50), |t| {
                    t.min(Duration::from_millis(50))
                });
                if let Err(e) = poll.poll(&mut events, Some(timeout)) {
                    if e.kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    panic!("poll: {e}");
                }
                for event in events.iter() {
                    server.handle_event(event);
                }
                server.handle_timeouts();
            }
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("in-process server did not start");
        InProcess {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
