//! `wss://` for the load generator (`--tls-ca PEM` or `--tls-insecure`): a [`Link`] is a
//! connection's byte stream, plain TCP or rustls' client over it, read and written like a
//! non-blocking socket so the worker's loop is the same for both.
//!
//! TLS 1.3 only by default (`--tls12` for 1.2), ring provider, ALPN `http/1.1`, and no
//! session resumption unless `--tls-resume`: `connect` then measures full handshakes.

use mio::net::TcpStream;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::io::{self, ErrorKind, Read, Write};
use std::path::Path;
use std::sync::Arc;

/// What a `--tls-*` flag asked for.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Trust only this CA (PEM); `None` with `insecure`: verify nothing.
    pub ca: Option<std::path::PathBuf>,
    pub insecure: bool,
    /// Offer TLS 1.2 only (default: TLS 1.3 only).
    pub tls12: bool,
    /// Keep rustls' session cache, so handshakes after the first resume.
    pub resume: bool,
}

impl TlsOptions {
    pub fn enabled(&self) -> bool {
        self.ca.is_some() || self.insecure
    }

    /// For the RESULT line: `off`, `1.3` or `1.2` (`+resume` when sessions resume).
    pub fn label(&self) -> String {
        match (self.enabled(), self.tls12, self.resume) {
            (false, _, _) => "off".into(),
            (true, v12, resume) => format!(
                "{}{}",
                if v12 { "1.2" } else { "1.3" },
                if resume { "+resume" } else { "" }
            ),
        }
    }

    /// The client config every connection of a run shares.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        let provider = Arc::new(ring::default_provider());
        let version = if self.tls12 {
            &rustls::version::TLS12
        } else {
            &rustls::version::TLS13
        };
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[version])
            .map_err(|e| format!("TLS versions: {e}"))?;
        let mut config = match &self.ca {
            Some(ca) => builder
                .with_root_certificates(roots(ca)?)
                .with_no_client_auth(),
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(
                    provider.signature_verification_algorithms,
                )))
                .with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        if !self.resume {
            config.resumption = rustls::client::Resumption::disabled();
        }
        Ok(Arc::new(config))
    }
}

fn roots(ca: &Path) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| format!("{}: {e}", ca.display()))? {
        let cert = cert.map_err(|e| format!("{}: {e}", ca.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("{}: {e}", ca.display()))?;
    }
    Ok(roots)
}

/// `--tls-insecure`: any certificate is accepted (handshake signatures are still checked).
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// A connection's byte stream.
pub enum Link {
    Plain(TcpStream),
    Tls(Box<TlsLink>),
}

pub struct TlsLink {
    sock: TcpStream,
    conn: ClientConnection,
}

impl Link {
    /// `sock`, with TLS over it when `config` is set (for `host`, the `--addr` host).
    pub fn new(
        sock: TcpStream,
        config: Option<&Arc<ClientConfig>>,
        host: &str,
    ) -> Result<Link, String> {
        let Some(config) = config else {
            return Ok(Link::Plain(sock));
        };
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        let name = name.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(name.to_owned()).map_err(|e| format!("{host}: {e}"))?;
        let conn = ClientConnection::new(config.clone(), name).map_err(|e| format!("TLS: {e}"))?;
        Ok(Link::Tls(Box::new(TlsLink { sock, conn })))
    }

    pub fn sock(&mut self) -> &mut TcpStream {
        match self {
            Link::Plain(sock) => sock,
            Link::Tls(tls) => &mut tls.sock,
        }
    }

    /// True if a read shorter than the buffer means the socket is empty (not over TLS,
    /// whose reads end at record boundaries: read on to `WouldBlock`).
    pub fn short_read_drains(&self) -> bool {
        matches!(self, Link::Plain(_))
    }

    /// Push the TLS records rustls holds (the handshake, data it could not write).
    pub fn flush_tls(&mut self) -> io::Result<()> {
        match self {
            Link::Plain(_) => Ok(()),
            Link::Tls(tls) => tls.push(),
        }
    }
}

impl TlsLink {
    fn push(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            match self.conn.read_tls(&mut self.sock) {
                Ok(0) => return Ok(0),
                Ok(_) => {
                    self.conn
                        .process_new_packets()
                        .map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
                    self.push()?;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Hand rustls what it takes and write records until the socket is full (rustls still
    /// wants to write) or `buf` is gone, so a short write means what it means over TCP: wait
    /// for WRITABLE.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut taken = 0;
        loop {
            self.push()?;
            if self.conn.wants_write() || taken == buf.len() {
                break;
            }
            match self.conn.writer().write(&buf[taken..])? {
                0 => break,
                n => taken += n,
            }
        }
        if taken == 0 && !buf.is_empty() {
            return Err(ErrorKind::WouldBlock.into());
        }
        Ok(taken)
    }
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Link::Plain(sock) => sock.read(buf),
            Link::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Link::Plain(sock) => sock.write(buf),
            Link::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_tls()
    }
}
