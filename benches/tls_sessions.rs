//! What rustls' two server APIs keep per idle session: `cargo bench --bench tls_sessions --
//! [N]` (default 10,000). For each API, a fresh child process opens N in-memory sessions with
//! the server config wsloop serves (`wsloop::tls::load_server_config`: ring, TLS 1.3, ALPN,
//! tickets), each with a rustls client (TLS 1.3, no resumption), does the handshake and one
//! 20-byte round trip, and keeps both ends; it reports its RSS growth per session pair. The
//! clients are the same in both runs, so the difference between the two figures is what the
//! buffered `ServerConnection` holds beyond the `UnbufferedServerConnection`, whose caller
//! owns the TLS buffers (here one shared incoming and one outgoing buffer, as a server-wide
//! buffer would be).

use rcgen::{CertificateParams, KeyPair};
use rustls::client::Resumption;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{ConnectionState, UnbufferedStatus};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use std::io::{Read, Write};
use std::process::Command;
use std::sync::Arc;

const MESSAGE: &[u8] = b"Hello, world! 20 B..";
/// Flights exchanged before a pair must be done (a handshake and a round trip take 3).
const MAX_FLIGHTS: usize = 16;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let [flag, api, n] = &args[..] {
        if flag == "--child" {
            child(api, n.parse().expect("N"));
            return;
        }
    }
    let n: usize = args.first().map_or(10_000, |n| n.parse().expect("N"));
    let exe = std::env::current_exe().expect("own path");
    let mut per_pair = Vec::new();
    for api in ["buffered", "unbuffered"] {
        let out = Command::new(&exe)
            .args(["--child", api, &n.to_string()])
            .output()
            .expect("run child");
        assert!(
            out.status.success(),
            "{api}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8(out.stdout).expect("UTF-8");
        print!("{line}");
        let bytes: f64 = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix("bytes_per_pair="))
            .expect("bytes_per_pair")
            .parse()
            .expect("number");
        per_pair.push(bytes);
    }
    println!(
        "RESULT buffered_minus_unbuffered_bytes_per_session={:.0}",
        per_pair[0] - per_pair[1]
    );
}

fn child(api: &str, n: usize) {
    let (server_config, client_config) = configs();
    let mut scratch = Scratch {
        incoming: Vec::with_capacity(64 * 1024),
        outgoing: vec![0; 64 * 1024],
    };
    // One pair first, so lazily built statics (provider, allocator arenas) are not counted.
    let warm = pair(api, &server_config, &client_config, &mut scratch);
    let before = rss_kib();
    let pairs: Vec<_> = (0..n)
        .map(|_| pair(api, &server_config, &client_config, &mut scratch))
        .collect();
    let after = rss_kib();
    println!(
        "RESULT api={api} pairs={n} rss_before_kib={before} rss_after_kib={after} \
         bytes_per_pair={:.0}",
        (after - before) as f64 * 1024.0 / n as f64
    );
    drop((warm, pairs));
}

/// The two ends of one session, kept alive while RSS is read (and never read otherwise).
#[allow(dead_code)]
enum Pair {
    Buffered(Box<ServerConnection>, Box<ClientConnection>),
    Unbuffered(Box<UnbufferedServerConnection>, Box<ClientConnection>),
}

struct Scratch {
    /// Ciphertext from the client not yet processed (unbuffered API).
    incoming: Vec<u8>,
    /// Where the unbuffered API encodes records.
    outgoing: Vec<u8>,
}

fn pair(
    api: &str,
    server: &Arc<ServerConfig>,
    client: &Arc<ClientConfig>,
    s: &mut Scratch,
) -> Pair {
    let mut c = ClientConnection::new(client.clone(), ServerName::try_from("localhost").unwrap())
        .expect("client");
    c.writer().write_all(MESSAGE).expect("queue the message");
    match api {
        "buffered" => {
            let mut server = ServerConnection::new(server.clone()).expect("server");
            server.set_buffer_limit(Some(32 * 1024));
            buffered_round_trip(&mut server, &mut c);
            Pair::Buffered(Box::new(server), Box::new(c))
        }
        "unbuffered" => {
            let mut server = UnbufferedServerConnection::new(server.clone()).expect("server");
            unbuffered_round_trip(&mut server, &mut c, s);
            Pair::Unbuffered(Box::new(server), Box::new(c))
        }
        other => panic!("unknown API {other}"),
    }
}

fn buffered_round_trip(server: &mut ServerConnection, client: &mut ClientConnection) {
    let (mut got, mut reply, mut echoed) = (Vec::new(), Vec::new(), false);
    for _ in 0..MAX_FLIGHTS {
        let mut wire = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut wire).unwrap();
        }
        let mut cursor = &wire[..];
        while !cursor.is_empty() {
            server.read_tls(&mut cursor).unwrap();
            server.process_new_packets().expect("server TLS");
        }
        read_plaintext(server.reader(), &mut got);
        if got == MESSAGE && !echoed {
            server.writer().write_all(&got).unwrap();
            echoed = true;
        }
        let mut wire = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut wire).unwrap();
        }
        to_client(client, &wire, &mut reply);
        if reply == MESSAGE {
            return;
        }
    }
    panic!("buffered: no reply after {MAX_FLIGHTS} flights");
}

fn unbuffered_round_trip(
    server: &mut UnbufferedServerConnection,
    client: &mut ClientConnection,
    scratch: &mut Scratch,
) {
    let Scratch { incoming, outgoing } = scratch;
    incoming.clear();
    let (mut got, mut reply, mut echoed) = (Vec::new(), Vec::new(), false);
    for _ in 0..MAX_FLIGHTS {
        while client.wants_write() {
            client.write_tls(incoming).unwrap();
        }
        let mut wire = Vec::new();
        loop {
            let UnbufferedStatus { discard, state } = server.process_tls_records(incoming);
            let mut blocked = false;
            match state.expect("server TLS") {
                ConnectionState::EncodeTlsData(mut data) => {
                    let n = data.encode(outgoing).expect("encode");
                    wire.extend_from_slice(&outgoing[..n]);
                }
                ConnectionState::TransmitTlsData(data) => data.done(),
                ConnectionState::BlockedHandshake => blocked = true,
                ConnectionState::ReadTraffic(mut traffic) => {
                    while let Some(record) = traffic.next_record() {
                        got.extend_from_slice(record.expect("record").payload);
                    }
                }
                ConnectionState::WriteTraffic(mut traffic) => {
                    if got == MESSAGE && !echoed {
                        let n = traffic.encrypt(&got, outgoing).expect("encrypt");
                        wire.extend_from_slice(&outgoing[..n]);
                        echoed = true;
                    }
                    blocked = true;
                }
                other => panic!("unbuffered: unexpected {other:?}"),
            }
            incoming.drain(..discard);
            if blocked {
                break;
            }
        }
        to_client(client, &wire, &mut reply);
        if reply == MESSAGE {
            return;
        }
    }
    panic!("unbuffered: no reply after {MAX_FLIGHTS} flights");
}

fn to_client(client: &mut ClientConnection, wire: &[u8], reply: &mut Vec<u8>) {
    let mut cursor = wire;
    while !cursor.is_empty() {
        client.read_tls(&mut cursor).unwrap();
        client.process_new_packets().expect("client TLS");
    }
    read_plaintext(client.reader(), reply);
}

fn read_plaintext(mut reader: rustls::Reader<'_>, into: &mut Vec<u8>) {
    let mut buf = [0u8; 256];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(e) => panic!("read plaintext: {e}"),
        }
    }
}

/// wsloop's server config (from PEM files, as `--tls-cert`/`--tls-key` read them) and a
/// client that trusts its self-signed certificate.
fn configs() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let dir = std::env::temp_dir().join(format!("wsloop-tls-sessions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    let server = wsloop::tls::load_server_config(&cert_path, &key_path).expect("server config");
    let _ = std::fs::remove_dir_all(&dir);
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.der().to_vec()))
        .expect("trust it");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![b"http/1.1".to_vec()];
    client.resumption = Resumption::disabled();
    (Arc::new(server), Arc::new(client))
}

fn rss_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS")
}
