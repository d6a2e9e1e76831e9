//! TLS helpers for the integration tests: a test CA (rcgen) that issues server certificates
//! with chosen serial numbers, written as PEM files for `--tls-cert`/`--tls-key`; rustls
//! client configs that trust it; and tungstenite and HTTP clients over rustls.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SerialNumber};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{
    ClientConfig, ClientConnection, RootCertStore, StreamOwned, SupportedProtocolVersion,
};
use tungstenite::client::ClientRequestBuilder;
use tungstenite::WebSocket;

use super::ws::WS_TIMEOUT;

/// A TLS stream to the server.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;
/// A tungstenite client over TLS.
pub type WssClient = WebSocket<TlsStream>;

/// A certificate authority for one test, and the files it wrote.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    ca_pem: String,
    dir: PathBuf,
}

/// A server certificate and key written as PEM files.
pub struct ServerCert {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub serial: u64,
}

impl ServerCert {
    /// `--tls-cert FILE --tls-key FILE` for these files.
    pub fn flags(&self) -> Vec<&str> {
        vec!["--tls-cert", path(&self.cert), "--tls-key", path(&self.key)]
    }

    /// Overwrite these files with `other`'s (what a renewal does before SIGHUP).
    pub fn replace_with(&self, other: &ServerCert) {
        fs::copy(&other.cert, &self.cert).expect("copy cert");
        fs::copy(&other.key, &self.key).expect("copy key");
    }
}

impl TestCa {
    /// A new CA whose files go under `dir` (created).
    pub fn new(dir: &Path) -> TestCa {
        fs::create_dir_all(dir).expect("create cert dir");
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "wsloop test CA");
        let cert = params.self_signed(&key).expect("CA cert");
        TestCa {
            issuer: Issuer::new(params, key),
            ca_pem: cert.pem(),
            dir: dir.to_path_buf(),
        }
    }

    /// Issue a certificate for 127.0.0.1 and localhost with serial `serial`, written to
    /// `<dir>/<name>.crt` and `<dir>/<name>.key` (an ECDSA P-256 key in PKCS#8).
    pub fn issue(&self, name: &str, serial: u64) -> ServerCert {
        self.issue_for(name, serial, KeyPair::generate().expect("server key"))
    }

    /// [`TestCa::issue`] with the key rewritten as SEC1 (`EC PRIVATE KEY`, by openssl).
    pub fn issue_sec1(&self, name: &str, serial: u64) -> ServerCert {
        let cert = self.issue(name, serial);
        let pkcs8 = self.dir.join(format!("{name}.pkcs8"));
        fs::rename(&cert.key, &pkcs8).unwrap();
        write_traditional_key(&pkcs8, &cert.key, "EC PRIVATE KEY");
        cert
    }

    /// A certificate for a 2048-bit RSA key written as PKCS#1 (`RSA PRIVATE KEY`; openssl
    /// makes the key, since ring cannot).
    pub fn issue_rsa_pkcs1(&self, name: &str, serial: u64) -> ServerCert {
        let pkcs8 = self.dir.join(format!("{name}.pkcs8"));
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            path(&pkcs8),
        ]);
        let key = KeyPair::from_pem(&fs::read_to_string(&pkcs8).unwrap()).expect("RSA key");
        let cert = self.issue_for(name, serial, key);
        write_traditional_key(&pkcs8, &cert.key, "RSA PRIVATE KEY");
        cert
    }

    fn issue_for(&self, name: &str, serial: u64, key: KeyPair) -> ServerCert {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server params");
        params.serial_number = Some(SerialNumber::from(serial));
        params
            .distinguished_name
            .push(DnType::CommonName, format!("wsloop test {serial}"));
        let cert = params.signed_by(&key, &self.issuer).expect("server cert");
        let (cert_path, key_path) = (
            self.dir.join(format!("{name}.crt")),
            self.dir.join(format!("{name}.key")),
        );
        fs::write(&cert_path, cert.pem()).expect("write cert");
        fs::write(&key_path, key.serialize_pem()).expect("write key");
        ServerCert {
            cert: cert_path,
            key: key_path,
            serial,
        }
    }

    /// The CA certificate as PEM (for Python's `ssl` and other clients).
    pub fn write_ca_pem(&self) -> PathBuf {
        let path = self.dir.join("ca.crt");
        fs::write(&path, &self.ca_pem).expect("write CA");
        path
    }

    /// A root store holding this CA alone.
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        let der = CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).expect("CA DER");
        roots.add(der).expect("add CA");
        roots
    }

    /// A rustls client config trusting this CA, with TLS 1.2 and 1.3, offering `alpn`
    /// (none: no ALPN extension).
    pub fn client_config(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        self.client_config_for(rustls::DEFAULT_VERSIONS, alpn)
    }

    /// [`TestCa::client_config`] speaking only `versions`.
    pub fn client_config_for(
        &self,
        versions: &[&'static SupportedProtocolVersion],
        alpn: &[&[u8]],
    ) -> Arc<ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("versions")
            .with_root_certificates(self.roots())
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

/// Connect TCP and finish a TLS handshake with `config` (for 127.0.0.1).
pub fn tls_connect(addr: SocketAddr, config: Arc<ClientConfig>) -> std::io::Result<TlsStream> {
    let tcp = TcpStream::connect_timeout(&addr, WS_TIMEOUT)?;
    tcp.set_read_timeout(Some(WS_TIMEOUT))?;
    tcp.set_write_timeout(Some(WS_TIMEOUT))?;
    tcp.set_nodelay(true)?;
    let name = ServerName::IpAddress(addr.ip().into());
    let conn = ClientConnection::new(config, name).map_err(std::io::Error::other)?;
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// The serial number of the certificate the server presented on `stream`.
pub fn peer_serial(stream: &TlsStream) -> Vec<u8> {
    let certs = stream
        .conn
        .peer_certificates()
        .expect("server certificates");
    serial_of(&certs[0])
}

/// A certificate's serial number bytes (DER, leading zeros stripped), found by hand: the
/// first INTEGER inside tbsCertificate after the optional [0] version.
fn serial_of(cert: &[u8]) -> Vec<u8> {
    fn header(der: &[u8]) -> (usize, usize) {
        // (header length, content length)
        let len = der[1];
        if len < 0x80 {
            (2, len as usize)
        } else {
            let n = (len & 0x7f) as usize;
            let content = der[2..2 + n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (2 + n, content)
        }
    }
    let (h, _) = header(cert); // Certificate SEQUENCE
    let tbs = &cert[h..];
    let (h, _) = header(tbs); // tbsCertificate SEQUENCE
    let mut rest = &tbs[h..];
    if rest[0] == 0xa0 {
        let (h, l) = header(rest);
        rest = &rest[h + l..];
    }
    assert_eq!(rest[0], 0x02, "serial INTEGER");
    let (h, l) = header(rest);
    let mut serial = rest[h..h + l].to_vec();
    while serial.len() > 1 && serial[0] == 0 {
        serial.remove(0);
    }
    serial
}

/// `serial` as the bytes [`peer_serial`] returns.
pub fn serial_bytes(serial: u64) -> Vec<u8> {
    let bytes = serial.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(7);
    bytes[first..].to_vec()
}

/// A WebSocket over TLS to `addr`, offering `protocols`.
pub fn wss_connect(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    protocols: &[&str],
) -> Result<WssClient, tungstenite::Error> {
    let stream = tls_connect(addr, config)?;
    let uri: tungstenite::http::Uri = format!("wss://{addr}/").parse().expect("valid uri");
    let mut request = ClientRequestBuilder::new(uri);
    for p in protocols {
        request = request.with_sub_protocol(*p);
    }
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    tungstenite::client::client_with_config(request, stream, Some(config))
        .map(|(ws, _)| ws)
        .map_err(|e| match e {
            tungstenite::HandshakeError::Failure(e) => e,
            tungstenite::HandshakeError::Interrupted(_) => {
                tungstenite::Error::Io(std::io::Error::other("handshake interrupted"))
            }
        })
}

/// One HTTP/1.1 response read from a TLS stream: (status, headers, body). `head_only` for HEAD.
pub fn read_response(stream: &mut TlsStream, head_only: bool) -> (u16, String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("read response head");
        assert_eq!(n, 1, "connection closed inside a response head: {buf:?}");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).expect("ASCII head");
    let status: u16 = head[9..12].parse().expect("status");
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; if head_only { 0 } else { length }];
    stream.read_exact(&mut body).expect("read body");
    (status, head, body)
}

/// Send a request on a TLS stream.
pub fn send(stream: &mut TlsStream, request: &str) {
    stream.write_all(request.as_bytes()).expect("send request");
    stream.flush().expect("flush request");
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Rewrite the PKCS#8 key in `pkcs8` at `out` in its traditional form (`BEGIN {label}`).
fn write_traditional_key(pkcs8: &Path, out: &Path, label: &str) {
    openssl(&[
        "pkey",
        "-in",
        path(pkcs8),
        "-traditional",
        "-out",
        path(out),
    ]);
    let pem = fs::read_to_string(out).unwrap();
    assert!(pem.contains(&format!("BEGIN {label}")), "{pem}");
}

/// Run the openssl command line tool (installed by .ci/run).
fn openssl(args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A wsloop serving TLS with a certificate (serial 1) of a new CA under
/// `<scratch>/<test>/`, plus `extra` arguments.
pub fn start_server(test: &str, extra: &[&str]) -> (super::ServerProcess, TestCa) {
    start_server_with_env(test, extra, &[])
}

/// [`start_server`] with environment variables for the server (`RUST_LOG=...`).
pub fn start_server_with_env(
    test: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (super::ServerProcess, TestCa) {
    let ca = TestCa::new(&super::scratch_dir("tls-servers").join(test));
    let cert = ca.issue("server", 1);
    let mut args = cert.flags();
    args.extend_from_slice(extra);
    (super::ServerProcess::start_with_env(&args, env), ca)
}
