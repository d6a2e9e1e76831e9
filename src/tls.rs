//! TLS setup (feature `tls`): a certificate chain and its private key, read from PEM files,
//! become the rustls [`ServerConfig`] wsloop serves `https://` and `wss://` with: the ring
//! provider, TLS 1.2 and 1.3, ALPN `http/1.1` only (a client that offers only `h2` gets a
//! handshake failure), stateless session tickets for resumption.
//!
//! `Server::with_tls_files` uses [`load_server_config`] and re-reads the same files on
//! `Server::reload_tls` (SIGHUP in the binary); `Server::with_tls_config` takes a
//! `ServerConfig` built any other way. The `rustls` crate is re-exported as `wsloop::rustls`,
//! so an embedder builds that config with the version wsloop links.

use rustls::crypto::ring;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::io;
use std::path::Path;
use std::sync::Arc;

/// The one application protocol spoken over TLS.
pub const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// Read `cert` (a PEM certificate chain, leaf first) and `key` (a PEM private key: PKCS#8,
/// PKCS#1 RSA or SEC1 EC) and build the server's TLS configuration.
///
/// Every error is `io::Error` whose message names the file and the problem: unreadable, no
/// certificate in it, no private key in it, or a key that does not match the certificate.
pub fn load_server_config(cert: &Path, key: &Path) -> io::Result<ServerConfig> {
    let chain = read_chain(cert)?;
    let key_der = read_key(key)?;
    let provider = Arc::new(ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|err| io::Error::other(format!("TLS setup: {err}")))?;
    let mut config = builder
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|err| {
            invalid(
                key,
                &format!("does not fit the certificate in {}: {err}", cert.display()),
            )
        })?;
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    config.ticketer = ring::Ticketer::new()
        .map_err(|err| io::Error::other(format!("TLS session tickets: {err}")))?;
    Ok(config)
}

fn read_chain(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let pem = read(path)?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid(path, &format!("not a PEM certificate chain: {err}")))?;
    if chain.is_empty() {
        return Err(invalid(path, "no certificate in it (empty chain)"));
    }
    Ok(chain)
}

fn read_key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|err| {
        invalid(
            path,
            &format!("no PEM private key (PKCS#8, PKCS#1 or SEC1) in it: {err}"),
        )
    })
}

fn read(path: &Path) -> io::Result<Vec<u8>> {
    std::fs::read(path).map_err(|err| {
        io::Error::new(
            err.kind(),
            format!("{}: cannot read: {err}", path.display()),
        )
    })
}

fn invalid(path: &Path, problem: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {problem}", path.display()),
    )
}
