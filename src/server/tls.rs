//! The server's side of TLS (feature `tls`): the `ServerConfig` new handshakes use, the
//! files it came from (so `reload_tls` and SIGHUP can read them again), wrapping each accepted
//! socket in a TLS session, and accounting for handshakes that never complete.
//!
//! A reload swaps the `Arc<ServerConfig>`: sessions already open keep the one they started
//! with, so open connections go on untouched; a reload that fails keeps the old one. With
//! several loops (`Loops`) each has its own `TlsSetup`; the first reads the files on SIGHUP and
//! hands the new config to the others ([`ServerHandle::set_tls_config`]).

use super::{Server, ServerHandle, TlsFiles};
use crate::tls::load_server_config;
use crate::transport::tls::TlsStream;
use crate::transport::Transport;
use log::{debug, info, warn};
use mio::net::TcpStream;
use rustls::ServerConfig;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// What new TLS connections are served with.
#[derive(Debug, Clone)]
pub(super) struct TlsSetup {
    config: Arc<ServerConfig>,
    /// Certificate chain and key files, when the config was read from them.
    files: Option<TlsFiles>,
}

impl TlsSetup {
    /// Read `files` (errors name the file and the problem).
    pub(super) fn from_files(files: &TlsFiles) -> io::Result<TlsSetup> {
        let config = load_server_config(&files.cert, &files.key)?;
        Ok(TlsSetup {
            config: Arc::new(config),
            files: Some(files.clone()),
        })
    }

    /// Start a TLS session on an accepted socket.
    pub(super) fn wrap(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
    ) -> Result<Transport, rustls::Error> {
        let stream = TlsStream::accept(tcp, peer, self.config.clone())?;
        Ok(Transport::Tls(Box::new(stream)))
    }
}

impl Server {
    /// Serve `https://` and `wss://` instead of cleartext, with the PEM certificate chain in
    /// `cert` and its private key (PKCS#8, PKCS#1 or SEC1) in `key` (see
    /// [`crate::tls::load_server_config`]). [`Server::reload_tls`] reads them again.
    pub fn with_tls_files(
        mut self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> io::Result<Server> {
        let files = TlsFiles {
            cert: cert.as_ref().to_path_buf(),
            key: key.as_ref().to_path_buf(),
        };
        self.tls = Some(TlsSetup::from_files(&files)?);
        Ok(self)
    }

    /// Serve TLS with a `ServerConfig` built by the caller (`wsloop::rustls`). wsloop speaks
    /// HTTP/1.1 only: leave `alpn_protocols` empty or `["http/1.1"]`.
    pub fn with_tls_config(mut self, config: Arc<ServerConfig>) -> Server {
        self.tls = Some(TlsSetup {
            config,
            files: None,
        });
        self
    }

    /// True if connections are served over TLS.
    pub fn serves_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Read the certificate and key files again (what SIGHUP does in `Server::run`): new
    /// handshakes present the new certificate, open connections go on untouched. On error the
    /// old certificate stays in use. Fails with `InvalidInput` if TLS was not set up from files.
    pub fn reload_tls(&mut self) -> io::Result<()> {
        let Some(files) = self.tls.as_ref().and_then(|tls| tls.files.clone()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "TLS was not set up from certificate files",
            ));
        };
        let config = load_server_config(&files.cert, &files.key)?;
        self.set_tls_config(Arc::new(config));
        info!("TLS certificate reloaded from {}", files.cert.display());
        Ok(())
    }

    /// [`Server::reload_tls`] for SIGHUP and `ServerHandle::reload_tls`: a failure is one
    /// warning, and the old certificate stays. The config in use afterwards, if it is new.
    pub(super) fn reload_tls_or_warn(&mut self) -> Option<Arc<ServerConfig>> {
        match self.reload_tls() {
            Ok(()) => self.tls.as_ref().map(|tls| tls.config.clone()),
            Err(err) => {
                warn!("TLS reload failed, keeping the current certificate: {err}");
                None
            }
        }
    }

    /// SIGHUP: reload the certificate, and hand it to the other loops (`peers`).
    pub(super) fn on_sighup(&mut self, peers: &[ServerHandle]) {
        if !self.serves_tls() {
            info!("SIGHUP ignored: no TLS certificate to reload");
            return;
        }
        info!("SIGHUP: reloading the TLS certificate");
        if let Some(config) = self.reload_tls_or_warn() {
            for peer in peers {
                if let Err(err) = peer.set_tls_config(config.clone()) {
                    warn!("a loop did not take the reloaded certificate: {err}");
                }
            }
        }
    }

    /// Use `config` for new handshakes from now on (open connections keep theirs).
    pub fn set_tls_config(&mut self, config: Arc<ServerConfig>) {
        match self.tls.as_mut() {
            Some(tls) => tls.config = config,
            None => {
                self.tls = Some(TlsSetup {
                    config,
                    files: None,
                })
            }
        }
    }

    /// A connection is going: if its TLS handshake never completed, count it and say why at
    /// debug level (one line per failure at info would let anyone fill the log).
    pub(super) fn note_unfinished_handshake(
        &mut self,
        transport: &Transport,
        id: impl std::fmt::Display,
    ) {
        if let Some(why) = transport.unfinished_handshake() {
            self.services.stats.tls_handshake_failures += 1;
            debug!("{id} TLS handshake {why}");
        }
    }
}
