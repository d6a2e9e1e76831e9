//! wsloop inside a host application that owns the event loop.
//!
//! The host has its own mio `Poll` and its own sockets: a line-based admin port. wsloop is
//! registered in the same `Poll` and serves WebSockets (the binary's protocols) and HTTP next
//! to it, in the same thread, without a thread of its own.
//!
//! Run: `cargo run --example embed -- --port 9001 --admin-port 9002 [--www www]`, then
//!
//! ```text
//! $ websocat ws://127.0.0.1:9001/           # a WebSocket client (any protocol)
//! $ nc 127.0.0.1 9002                       # the admin port, one command a line:
//! count                                     # -> "connections 1"
//! broadcast hello                           # -> every WebSocket client gets "hello"; "ok"
//! quit                                      # -> WebSockets close with 1001; the host exits
//! ```
//!
//! Port 0 picks free ports; the chosen ones are printed as `admin on ADDR` and
//! `websocket on ADDR`.
//!
//! # Step by step
//!
//! 1. **One `Poll`, the host's.** Create it, and a `Waker` on a token of the host's
//!    ([`WAKER`]): mio allows one waker per `Poll`, so the host owns it and lends it to wsloop.
//! 2. **Bind the server** with [`Server::bind`] (or `Server::from_listener`), add static files
//!    with `serve_files` if wanted.
//! 3. **Pick a token base** and [`Server::register`] there ([`WSLOOP_BASE`]). wsloop uses the
//!    tokens `[base, base + 1 + max_connections)` and no others; the host keeps every other
//!    token. Here the host's listener and waker sit below the base, and its admin connections
//!    are numbered from [`Server::token_range_end`] upwards.
//! 4. **Give wsloop the waker** with [`Server::set_waker`], so a [`wsloop::ServerHandle`] (from
//!    [`Server::handle`], usable from any thread) wakes the loop when it asks for something.
//! 5. **The loop**: poll with `server.timeout()` (it is `Some(0)` when wsloop has work left over
//!    from a budget, else the next wsloop deadline; a host with timers of its own takes the
//!    minimum). Events whose token [`Server::owns_token`] go to [`Server::handle_event`]; the
//!    rest are the host's. After every poll, events or not, call [`Server::handle_timeouts`]:
//!    it runs expired timers, deferred work and the handle's requests (the waker's event needs
//!    nothing else).
//! 6. **Talk to clients** through the handle: `broadcast(protocol, message)` or
//!    `send(connection_id, message)`. From the loop's own thread this just queues the request;
//!    it is carried out by the `handle_timeouts` at the end of the same iteration.
//! 7. **Shut down** with [`Server::begin_shutdown`] (or `handle.shutdown()`): wsloop stops
//!    accepting, closes every WebSocket with 1001 and finishes HTTP responses; keep looping
//!    until [`Server::is_finished`], then drop the server (protocols get `ProtocolDestroy`).

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use wsloop::{demo, Config, Server};

/// The host's admin listener.
pub const ADMIN_LISTENER: Token = Token(0);
/// The host's waker, lent to wsloop.
pub const WAKER: Token = Token(1);
/// Where wsloop's tokens start (the host's choice).
pub const WSLOOP_BASE: Token = Token(16);

/// Longest admin command line; a longer one closes the admin connection.
const MAX_LINE: usize = 4096;

/// Command-line options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address both listeners bind to.
    pub bind: IpAddr,
    /// The WebSocket/HTTP port (0: any free port).
    pub port: u16,
    /// The admin port (0: any free port).
    pub admin_port: u16,
    /// Static files to serve, if any.
    pub www: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 9001,
            admin_port: 9002,
            www: None,
        }
    }
}

impl Options {
    /// Parse `--port N`, `--admin-port N`, `--bind IP`, `--www DIR`.
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options::default();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--port" => options.port = parse_value(&flag, &value()?)?,
                "--admin-port" => options.admin_port = parse_value(&flag, &value()?)?,
                "--bind" => options.bind = parse_value(&flag, &value()?)?,
                "--www" => options.www = Some(PathBuf::from(value()?)),
                other => {
                    return Err(format!(
                        "unknown argument {other:?}\n\
                         usage: embed [--port N] [--admin-port N] [--bind IP] [--www DIR]"
                    ))
                }
            }
        }
        Ok(options)
    }
}

fn parse_value<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: bad value {value:?}"))
}

/// One admin client: bytes in until a line is complete, answers out until written.
struct AdminConn {
    stream: TcpStream,
    input: Vec<u8>,
    output: Vec<u8>,
    /// Close once the output is written (`quit`, or a protocol error).
    closing: bool,
}

/// The host: wsloop plus the admin port, in one `Poll`.
pub struct Host {
    poll: Poll,
    server: Server,
    /// Subprotocol names, for `broadcast` to every WebSocket client.
    protocols: Vec<String>,
    admin: Option<TcpListener>,
    admin_conns: HashMap<Token, AdminConn>,
    next_admin_token: usize,
}

impl Host {
    /// Steps 1 to 4: bind both listeners and register everything in one `Poll`.
    pub fn new(options: &Options) -> io::Result<Host> {
        // 1. The host's Poll and waker.
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let mut admin = TcpListener::bind(SocketAddr::new(options.bind, options.admin_port))?;
        poll.registry()
            .register(&mut admin, ADMIN_LISTENER, Interest::READABLE)?;

        // 2. The server, with the binary's protocols.
        let table = demo::table();
        let protocols = table
            .websocket_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let addr = SocketAddr::new(options.bind, options.port);
        let mut server = Server::bind(addr, Config::default(), table)?;
        if let Some(www) = &options.www {
            server = server.serve_files(www)?;
        }

        // 3. wsloop's tokens start at the host's chosen base; 4. it wakes the host's Poll.
        server.register(poll.registry(), WSLOOP_BASE)?;
        server.set_waker(waker);
        let next_admin_token = server.token_range_end().expect("registered").0;
        Ok(Host {
            poll,
            server,
            protocols,
            admin: Some(admin),
            admin_conns: HashMap::new(),
            next_admin_token,
        })
    }

    /// Where the admin port listens.
    pub fn admin_addr(&self) -> io::Result<SocketAddr> {
        self.admin
            .as_ref()
            .ok_or_else(|| io::Error::other("admin listener closed"))?
            .local_addr()
    }

    /// Where WebSocket clients connect.
    pub fn websocket_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Step 5: the loop, until `quit` has shut wsloop down.
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        while !self.server.is_finished() {
            if let Err(err) = self.poll.poll(&mut events, self.server.timeout()) {
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err);
            }
            for event in events.iter() {
                let token = event.token();
                if self.server.owns_token(token) {
                    self.server.handle_event(event);
                } else if token == ADMIN_LISTENER {
                    self.accept_admin()?;
                } else if token == WAKER {
                    // A ServerHandle asked for something: handle_timeouts below runs it.
                } else {
                    self.service_admin(token);
                }
            }
            self.server.handle_timeouts();
        }
        // Answers to `quit` are flushed by now or dropped with their connections.
        Ok(())
    }

    fn accept_admin(&mut self) -> io::Result<()> {
        loop {
            let Some(listener) = self.admin.as_ref() else {
                return Ok(());
            };
            match listener.accept() {
                Ok((mut stream, _peer)) => {
                    let token = Token(self.next_admin_token);
                    self.next_admin_token += 1;
                    self.poll.registry().register(
                        &mut stream,
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    let conn = AdminConn {
                        stream,
                        input: Vec::new(),
                        output: Vec::new(),
                        closing: false,
                    };
                    self.admin_conns.insert(token, conn);
                    // Edge-triggered: bytes may already be waiting.
                    self.service_admin(token);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    eprintln!("embed: admin accept failed: {err}");
                    return Ok(());
                }
            }
        }
    }

    /// Read what the admin client sent, run complete lines, write the answers.
    fn service_admin(&mut self, token: Token) {
        let Some(mut conn) = self.admin_conns.remove(&token) else {
            return;
        };
        let mut open = read_available(&mut conn);
        while let Some(end) = conn.input.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = conn.input.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let answer = self.command(line.trim_end_matches(['\r', '\n']), &mut conn);
            conn.output.extend_from_slice(answer.as_bytes());
            conn.output.push(b'\n');
        }
        if conn.input.len() > MAX_LINE {
            conn.output.extend_from_slice(b"error: line too long\n");
            conn.input.clear();
            conn.closing = true;
        }
        open &= write_available(&mut conn);
        if open && !(conn.closing && conn.output.is_empty()) {
            self.admin_conns.insert(token, conn);
        } else {
            let _ = self.poll.registry().deregister(&mut conn.stream);
        }
    }

    /// Step 6 and 7: one admin command.
    fn command(&mut self, line: &str, conn: &mut AdminConn) -> String {
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        match verb {
            "count" => format!("connections {}", self.server.connection_count()),
            "broadcast" => {
                let handle = self.server.handle();
                let refused = self
                    .protocols
                    .iter()
                    .find_map(|protocol| handle.broadcast(protocol, rest).err());
                match refused {
                    // Carried out by handle_timeouts at the end of this loop iteration.
                    None => "ok".to_owned(),
                    Some(err) => format!("error: {err}"),
                }
            }
            "quit" => {
                self.server.begin_shutdown();
                if let Some(mut admin) = self.admin.take() {
                    let _ = self.poll.registry().deregister(&mut admin);
                }
                conn.closing = true;
                "bye".to_owned()
            }
            "" => String::new(),
            other => format!("error: unknown command {other:?} (count, broadcast TEXT, quit)"),
        }
    }
}

/// Read until `WouldBlock`; false when the peer closed or the socket failed.
fn read_available(conn: &mut AdminConn) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match conn.stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => conn.input.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return true,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Write until done or `WouldBlock` (the rest goes on the next writable event).
fn write_available(conn: &mut AdminConn) -> bool {
    while !conn.output.is_empty() {
        match conn.stream.write(&conn.output) {
            Ok(0) => return false,
            Ok(n) => {
                conn.output.drain(..n);
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return true,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

/// Bind, announce the addresses through `announce` (one line each), serve until `quit`.
pub fn run(options: &Options, mut announce: impl FnMut(String)) -> io::Result<()> {
    let host = Host::new(options)?;
    announce(format!("admin on {}", host.admin_addr()?));
    announce(format!("websocket on {}", host.websocket_addr()));
    host.run()
}

#[allow(dead_code)] // Unused when tests/embed.rs includes this file as a module.
fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(msg) => {
            eprintln!("embed: {msg}");
            std::process::exit(2);
        }
    };
    // println! flushes at each newline, so a parent reading our stdout sees the lines at once.
    if let Err(err) = run(&options, |line| println!("{line}")) {
        eprintln!("embed: {err}");
        std::process::exit(1);
    }
}
