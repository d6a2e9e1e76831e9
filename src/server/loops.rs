//! `--threads N`: N event loops in N threads on one port. Each loop is an ordinary
//! [`Server`] with its own `Poll`, slab and `SO_REUSEPORT` listener (the kernel spreads new
//! connections over them) and its own protocol table, built in its thread by a factory (so
//! a `Protocol` need not be `Send`). They share a [`LocalBus`] for topics and one count for
//! `max_connections`; nothing on a connection's path is shared. The first loop runs on the
//! calling thread and handles SIGINT/SIGTERM for all of them, and SIGHUP: with TLS it reads
//! the certificate files once and hands the new configuration to every loop.

use super::Server;
use super::StatsBoard;
use crate::config::Config;
use crate::net::reuseport_listener;
use crate::protocol::ProtocolTable;
use crate::topics::{Bus, LocalBus};
use mio::net::TcpListener;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{mpsc, Arc};
use std::thread;

/// N loops serving one address (see the module docs), configured as a builder:
///
/// ```no_run
/// # use wsloop::{Config, Loops, ProtocolTable};
/// let addr = "127.0.0.1:9001".parse().unwrap();
/// Loops::new(addr, Config::default())
///     .threads(2)
///     .www("./www")
///     .run(ProtocolTable::new, |addr| println!("listening on {addr}"))?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Loops {
    /// Loops to run; 0 means one per available CPU.
    threads: usize,
    /// Where to listen (port 0 picks one port for all loops).
    addr: SocketAddr,
    /// The limits of every loop; `max_connections` is for all of them together.
    config: Config,
    /// Serve static files from here, if set.
    www: Option<PathBuf>,
    /// Serve `https://` and `wss://` on every loop with these files.
    tls: Option<TlsFiles>,
}

/// A PEM certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// Everything one loop's thread needs to start.
struct Start {
    listener: TcpListener,
    config: Config,
    www: Option<PathBuf>,
    #[cfg(feature = "tls")]
    tls: Option<super::tls::TlsSetup>,
    bus: Arc<dyn Bus>,
    connections: Arc<AtomicUsize>,
    stats: Arc<StatsBoard>,
}

impl Loops {
    /// One loop listening on `addr` (port 0 picks one port for all loops) with the limits
    /// of `config` (`max_connections` is for all loops together); no static files, no TLS.
    pub fn new(addr: SocketAddr, config: Config) -> Self {
        Loops {
            threads: 1,
            addr,
            config,
            www: None,
            tls: None,
        }
    }

    /// Run `threads` loops, each in its own thread; 0 means one per available CPU.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Serve static files from `root` on every loop (as [`Server::serve_files`] does).
    pub fn www(mut self, root: impl Into<PathBuf>) -> Self {
        self.www = Some(root.into());
        self
    }

    /// Serve `https://` and `wss://` on every loop with these files. A build without the
    /// `tls` feature refuses them: `run` fails with `Unsupported`.
    pub fn tls(mut self, files: TlsFiles) -> Self {
        self.tls = Some(files);
        self
    }

    /// The limits every loop runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The number of loops `threads` stands for.
    pub fn count(&self) -> usize {
        match self.threads {
            0 => thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// Serve until SIGINT/SIGTERM, then shut every loop down gracefully (as
    /// [`Server::run`] does for one); `on_ready` gets the bound address once every loop
    /// is listening. `make_table` builds each loop's protocols, in that loop's thread.
    pub fn run(
        self,
        make_table: impl Fn() -> ProtocolTable + Send + Sync + 'static,
        on_ready: impl FnOnce(SocketAddr),
    ) -> io::Result<()> {
        self.run_on(Arc::new(LocalBus::new()), make_table, on_ready)
    }

    /// [`Loops::run`] with topics delivered through `bus` (a `RedisBus` shared
    /// with other instances, say: feature `redis`).
    pub fn run_on(
        self,
        bus: Arc<dyn Bus>,
        make_table: impl Fn() -> ProtocolTable + Send + Sync + 'static,
        on_ready: impl FnOnce(SocketAddr),
    ) -> io::Result<()> {
        let count = self.count();
        #[cfg(feature = "tls")]
        let tls = match &self.tls {
            Some(files) => Some(super::tls::TlsSetup::from_files(files)?),
            None => None,
        };
        #[cfg(not(feature = "tls"))]
        if self.tls.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "built without TLS (cargo feature `tls`)",
            ));
        }
        let first = reuseport_listener(self.addr)?;
        let addr = first.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let stats = Arc::new(StatsBoard::new());
        let make_table = Arc::new(make_table);
        let start = |listener| Start {
            listener,
            config: self.config.clone(),
            www: self.www.clone(),
            #[cfg(feature = "tls")]
            tls: tls.clone(),
            bus: bus.clone(),
            connections: connections.clone(),
            stats: stats.clone(),
        };
        let mut peers = Vec::new();
        let mut threads = Vec::new();
        for index in 1..count {
            let start = start(reuseport_listener(addr)?);
            let make_table = make_table.clone();
            let (ready_tx, ready_rx) = mpsc::channel();
            let thread = thread::Builder::new()
                .name(format!("wsloop-{index}"))
                .spawn(move || -> io::Result<()> {
                    let (server, poll) = match start.build(|| make_table()) {
                        Ok(built) => built,
                        Err(err) => {
                            let _ = ready_tx.send(Err(io::Error::new(err.kind(), err.to_string())));
                            return Err(err);
                        }
                    };
                    let _ = ready_tx.send(Ok(server.handle()));
                    server.serve(poll)
                })?;
            let handle = ready_rx
                .recv()
                .map_err(|_| io::Error::other("a loop thread ended before starting"))??;
            peers.push(handle);
            threads.push(thread);
        }
        let first = start(first);
        let (server, bus) = first.server(make_table())?;
        let result = server.run_first_of(peers, Some(bus), |_| on_ready(addr));
        for thread in threads {
            thread
                .join()
                .map_err(|_| io::Error::other("a loop thread panicked"))??;
        }
        result
    }
}

impl Start {
    /// The loop's server (its listener, limits, files and TLS), counted with the others
    /// (connections, stats), not yet attached to a `Poll`, and the bus it is to join.
    fn server(self, table: ProtocolTable) -> io::Result<(Server, Arc<dyn Bus>)> {
        let server = Server::from_listener(self.listener, self.config.clone(), table)?;
        let mut server = match &self.www {
            Some(www) => server.serve_files(www)?,
            None => server,
        };
        server.share_connection_count(self.connections);
        if self.config.status_endpoints {
            server.share_stats(self.stats);
        }
        #[cfg(feature = "tls")]
        {
            server.tls = self.tls;
        }
        Ok((server, self.bus))
    }

    /// The server and its `Poll`, attached and on the bus.
    fn build(self, make_table: impl FnOnce() -> ProtocolTable) -> io::Result<(Server, mio::Poll)> {
        let (mut server, bus) = self.server(make_table())?;
        let poll = mio::Poll::new()?;
        server.attach(&poll, Some(bus))?;
        Ok((server, poll))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_sets_what_it_is_told_and_nothing_else() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        let plain = Loops::new(addr, Config::default());
        assert_eq!(plain.count(), 1);
        assert!(plain.www.is_none() && plain.tls.is_none());
        let files = TlsFiles {
            cert: "cert.pem".into(),
            key: "key.pem".into(),
        };
        let full = plain.threads(3).www("site").tls(files.clone());
        assert_eq!(full.count(), 3);
        assert_eq!(full.www.as_deref(), Some(std::path::Path::new("site")));
        assert_eq!(full.tls, Some(files));
        let shown = format!("{full:?}");
        assert!(
            shown.contains("threads: 3") && shown.contains("site"),
            "{shown}"
        );
        assert!(full.threads(0).count() >= 1, "0 is one loop per CPU");
    }
}
