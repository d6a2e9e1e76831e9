//! wsloop: a single-threaded, readiness-based WebSocket + HTTP server in the libwebsockets
//! tradition.
//!
//! One mio `Poll` drives every connection; each advances
//! `READING_HEAD -> [READING_BODY ->] (SERVING_FILE | OPEN) -> CLOSING` without ever blocking
//! on the network.
//! User code is a [`Protocol`]: a name, a typed per-connection session, and one callback that
//! receives [`Reason`]s (`Established`, `Receive`, `ServerWriteable`, `Closed`, ...) and acts
//! through a [`Context`]. Protocols are listed in a [`ProtocolTable`], the HTTP entry first.
//!
//! A complete server and client on port 0 — the embedding calls in a thread of their own
//! (`Server::run` does the same, plus signal handling):
//!
//! ```
//! use mio::{Events, Poll, Token};
//! use std::sync::mpsc;
//! use wsloop::{demo, Config, Server};
//!
//! let (addr_tx, addr_rx) = mpsc::channel();
//! std::thread::spawn(move || -> std::io::Result<()> {
//!     let addr = "127.0.0.1:0".parse().unwrap();
//!     let mut server = Server::bind(addr, Config::default(), demo::table())?;
//!     let mut poll = Poll::new()?;
//!     server.register(poll.registry(), Token(0))?;
//!     addr_tx.send(server.local_addr()).unwrap();
//!     let mut events = Events::with_capacity(64);
//!     loop {
//!         poll.poll(&mut events, server.timeout())?;
//!         for event in events.iter() {
//!             server.handle_event(event);
//!         }
//!         server.handle_timeouts();
//!     }
//! });
//!
//! let addr = addr_rx.recv().unwrap();
//! let (mut client, _) = tungstenite::connect(format!("ws://{addr}/")).unwrap();
//! client.send("Hello, world!".into()).unwrap();
//! assert_eq!(client.read().unwrap().into_text().unwrap(), "!dlrow ,olleH");
//! ```
//!
//! Writing a protocol of your own:
//!
//! ```no_run
//! use wsloop::{Config, Context, Outcome, Protocol, ProtocolTable, Reason, Server};
//!
//! /// Answers every message with its length.
//! struct Length;
//!
//! impl Protocol for Length {
//!     type Session = ();
//!     fn name(&self) -> &str {
//!         "length"
//!     }
//!     fn new_session(&mut self) {}
//!     fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
//!         if let Reason::Receive { message, .. } = reason {
//!             let _ = cx.send_text(message.len().to_string());
//!         }
//!         Outcome::Continue
//!     }
//! }
//!
//! let table = ProtocolTable::new().with_protocol(Length);
//! let addr = "127.0.0.1:9000".parse().unwrap();
//! Server::bind(addr, Config::default(), table)?
//!     .serve_files("www")?
//!     .run()
//! # ; Ok::<(), std::io::Error>(())
//! ```
//!
//! Module map: [`server`] (the loop and the embedding API), `conn` (one connection and its
//! phases), `net` and `transport` (the only code that touches sockets), [`http`] (pure HTTP
//! functions), [`protocol`] (the user's API), [`demo`] (the binary's protocols), [`config`]
//! (every limit), `tls` (feature `tls`, on by default: certificates for `https://` and
//! `wss://`), `deflate` (feature `deflate`, on by default: permessage-deflate; without it,
//! `deflate/off.rs` stands in and nothing is negotiated).

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod config;
mod conn;
mod connection_id;
#[cfg(feature = "deflate")]
mod deflate;
// Without the feature: the same API, never negotiated (no flate2, no zlib-rs).
#[cfg(not(feature = "deflate"))]
#[path = "deflate/off.rs"]
mod deflate;
pub mod demo;
mod frame;
#[doc(hidden)]
pub mod fuzz_support;
pub mod http;
mod log_text;
mod net;
mod out_queue;
mod payload_writer;
mod phase_kind;
pub mod protocol;
pub mod ring;
pub mod server;
mod stats;
mod tick;
#[cfg(feature = "tls")]
pub mod tls;
pub mod topics;
mod transport;

pub use config::Config;
pub use connection_id::ConnectionId;
pub use protocol::{
    Context, Fragment, HttpOnly, Message, Outcome, PayloadWriter, Protocol, ProtocolTable, Reason,
    SendError, Sent, TimerId,
};
/// The rustls wsloop links (feature `tls`), to build a `ServerConfig` for
/// [`Server::with_tls_config`].
#[cfg(feature = "tls")]
pub use rustls;
pub use server::{HandleError, Loops, Server, ServerHandle, StatsBoard, TlsFiles};
#[cfg(feature = "redis")]
pub use topics::redis::RedisBus;
pub use topics::{Bus, LocalBus, Publication, TopicError};
/// Close codes (RFC 6455 §7.4), as tungstenite names them.
pub use tungstenite::protocol::frame::coding::CloseCode;
/// Shared byte buffers used for message payloads.
pub use tungstenite::{Bytes, Utf8Bytes};
