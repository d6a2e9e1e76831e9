//! Several event loops on one port, in a few lines: a chat room where every message goes to
//! every client, on whichever loop it is (`--threads N`, as the binary runs them). Each loop
//! builds its own `Chat` in its own thread; the room is a topic, so messages cross loops in
//! one order. `/status` lists the connections of each loop.
//!
//! Run: `cargo run --example loops -- --port 9003 --threads 2`, then connect a few
//! `websocat --protocol chat ws://127.0.0.1:9003/` and type; `curl 127.0.0.1:9003/status`.
//! Ctrl-C closes every client with 1001 on every loop.

use std::io;
use std::net::SocketAddr;
use wsloop::{Config, Context, Loops, Outcome, Protocol, ProtocolTable, Reason};

/// Everyone subscribes to the room and publishes what they say to it.
struct Chat;

impl Protocol for Chat {
    type Session = ();
    fn name(&self) -> &str {
        "chat"
    }
    fn new_session(&mut self) {}
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        match reason {
            Reason::Established { .. } => {
                let _ = cx.subscribe("room");
            }
            Reason::Receive { message, .. } => {
                let _ = cx.publish("room", message);
            }
            _ => {}
        }
        Outcome::Continue
    }
}

/// Serve the room with `threads` loops on `addr` until SIGINT/SIGTERM.
pub fn run(addr: SocketAddr, threads: usize, on_ready: impl FnOnce(SocketAddr)) -> io::Result<()> {
    let config = Config::default().with_status_endpoints(true);
    Loops::new(addr, config)
        .threads(threads)
        .run(|| ProtocolTable::new().with_protocol(Chat), on_ready)
}

fn main() -> io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let mut args = std::env::args().skip(1);
    let (mut port, mut threads) = (9003, 2);
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match (flag.as_str(), value) {
            ("--port", Some(v)) => port = v,
            ("--threads", Some(v)) => threads = v as usize,
            _ => {
                eprintln!("usage: loops [--port P] [--threads N]");
                std::process::exit(2);
            }
        }
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    run(addr, threads, |addr| {
        println!("chat on ws://{addr}/ ({threads} loops)")
    })
}
