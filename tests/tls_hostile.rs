//! Hostile clients of the TLS port: 200 that connect and say nothing and 200 that send half a
//! ClientHello are all closed by `--head-timeout` (the handshake counts against it) and
//! counted as handshake failures in `/metrics`, while a normal wss client keeps its round
//! trips; each failure is logged at debug level with the peer's address, never at info; and a
//! client that completes the handshake, floods and never reads costs bounded memory, as over
//! cleartext (tests/flood.rs).
#![cfg(feature = "tls")]

mod support;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::hostile::{poll_until, rss_kib};
use support::tls::{self, TestCa};
use support::ws::{client_frame, op};
use support::{say, ServerProcess};
use tungstenite::Message;

const SILENT: usize = 200;
const HALF_HELLOS: usize = 200;
const HEAD_TIMEOUT: Duration = Duration::from_secs(1);

fn tls_server(name: &str, extra: &[&str]) -> (ServerProcess, TestCa) {
    tls::start_server(&format!("tls_hostile-{name}"), extra)
}

/// The first half of a real ClientHello.
fn half_client_hello(ca: &TestCa) -> Vec<u8> {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(ca.client_config(&[]), name).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello.truncate(hello.len() / 2);
    hello
}

/// True once the server closed `stream` (EOF or reset).
fn closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 64];
    loop {
        match stream.read(&mut byte) {
            Ok(0) => return true,
            Ok(_) => continue, // an alert
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn silent_clients_and_half_client_hellos_are_closed_by_the_head_timeout() {
    let (server, ca) = tls_server("head_timeout", &["--head-timeout", "1s", "--status"]);
    let addr = server.connect_addr();
    let mut normal = tls::wss_connect(addr, ca.client_config(&[]), &[]).expect("the normal client");
    let hello = half_client_hello(&ca);
    // One round trip of the normal client, checked.
    let mut rounds = 0;
    let mut round_trip = || {
        let text = format!("round {rounds}");
        normal.send(Message::text(text.clone())).unwrap();
        let reply = normal.read().unwrap();
        assert_eq!(reply, Message::text(text.chars().rev().collect::<String>()));
        rounds += 1;
    };
    let started = Instant::now();
    let mut hostile = Vec::new();
    for i in 0..SILENT + HALF_HELLOS {
        let mut stream = TcpStream::connect(addr).expect("connect");
        if i >= SILENT {
            stream.write_all(&hello).expect("half a ClientHello");
        }
        stream.set_nonblocking(true).unwrap();
        hostile.push(stream);
        if i % 50 == 49 {
            round_trip();
        }
    }
    // Round trips go on while the hostile connections wait out their timeout.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut all_closed = Some(());
    loop {
        hostile.retain_mut(|stream| !closed(stream));
        if hostile.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            all_closed = None;
            break;
        }
        round_trip();
        thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    assert!(
        all_closed.is_some(),
        "{} of {} hostile connections still open after {elapsed:?}",
        hostile.len(),
        SILENT + HALF_HELLOS
    );
    assert!(elapsed >= HEAD_TIMEOUT, "closed before the head timeout");
    normal.send(Message::text("after")).unwrap();
    assert_eq!(normal.read().unwrap(), Message::text("retfa"));

    // Counted as handshake failures, at debug level only (nothing at info per failure).
    let failures = handshake_failures(addr, &ca);
    assert_eq!(failures, (SILENT + HALF_HELLOS) as u64);
    assert!(!server.stderr().contains("TLS handshake"), "logged at info");
    say(&format!(
        "tls head timeout: {} silent + {} half-ClientHello connections closed after \
         {elapsed:.2?} (head timeout {HEAD_TIMEOUT:?}); {rounds} wss round trips meanwhile; \
         {failures} handshake failures in /metrics",
        SILENT, HALF_HELLOS
    ));
}

/// Fetch `/metrics` over TLS and read the handshake failure counter.
fn handshake_failures(addr: std::net::SocketAddr, ca: &TestCa) -> u64 {
    let mut stream = tls::tls_connect(addr, ca.client_config(&[])).unwrap();
    tls::send(&mut stream, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let (status, _, body) = tls::read_response(&mut stream, false);
    assert_eq!(status, 200);
    let body = String::from_utf8(body).unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix("wsloop_tls_handshake_failures_total "))
        .unwrap_or_else(|| panic!("no handshake counter in /metrics:\n{body}"))
        .parse()
        .unwrap()
}

#[test]
fn a_handshake_failure_is_logged_at_debug_with_the_peer_address_and_counted() {
    let (server, ca) = tls::start_server_with_env(
        "tls_hostile-debug_log",
        &["--head-timeout", "1s", "--status"],
        &[("RUST_LOG", "info,wsloop::server::tls=debug")],
    );
    let addr = server.connect_addr();
    // One that speaks cleartext HTTP (a TLS error), one that says nothing (the timeout).
    let mut cleartext = TcpStream::connect(addr).unwrap();
    cleartext
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let silent = TcpStream::connect(addr).unwrap();
    let (cleartext_peer, silent_peer) = (
        cleartext.local_addr().unwrap(),
        silent.local_addr().unwrap(),
    );
    let logged = poll_until(Duration::from_secs(10), || {
        let log = server.stderr();
        let failed = log.lines().any(|l| {
            l.contains("DEBUG")
                && l.contains(&format!("TLS handshake with {cleartext_peer} failed"))
        });
        let never = log.lines().any(|l| {
            l.contains("DEBUG")
                && l.contains(&format!("TLS handshake with {silent_peer} never completed"))
        });
        (failed && never).then_some(log)
    });
    assert!(
        logged.is_some(),
        "no debug line naming {cleartext_peer} and {silent_peer}:\n{}",
        server.stderr()
    );
    assert_eq!(handshake_failures(addr, &ca), 2);
    let mut ws = tls::wss_connect(addr, ca.client_config(&[]), &[]).unwrap();
    ws.send(Message::text("ok")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("ko"));
}

const MESSAGE: usize = 64 * 1024;
const FLOOD_BYTES: u64 = 200 << 20;
const STALL: Duration = Duration::from_secs(2);
const RSS_BOUND_KIB: u64 = 8 * 1024;

#[test]
fn a_non_reading_flooder_over_wss_costs_bounded_memory() {
    let (server, ca) = tls_server("flood", &[]);
    let pid = server.pid().expect("pid");
    let addr = server.connect_addr();
    let mut normal = tls::wss_connect(addr, ca.client_config(&[]), &["echo"]).unwrap();
    normal.send(Message::text("warm-up")).unwrap();
    assert_eq!(normal.read().unwrap(), Message::text("warm-up"));
    let baseline = rss_kib(pid);

    let flooder = tls::wss_connect(addr, ca.client_config(&[]), &["echo"]).unwrap();
    let mut stream = flooder.into_inner();
    stream.sock.set_write_timeout(Some(STALL)).unwrap();
    let frame = client_frame(true, op::BINARY, &vec![0xA5; MESSAGE]);
    let written = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (written, done) = (Arc::clone(&written), Arc::clone(&done));
        thread::spawn(move || {
            let mut why = String::from("sent everything");
            while written.load(Ordering::Relaxed) < FLOOD_BYTES {
                match stream.write_all(&frame) {
                    Ok(()) => {
                        written.fetch_add(frame.len() as u64, Ordering::Relaxed);
                    }
                    Err(e) => {
                        why = format!("write stalled or failed: {e}");
                        break;
                    }
                }
            }
            done.store(true, Ordering::Relaxed);
            (why, stream)
        })
    };
    let started = Instant::now();
    let mut peak = baseline;
    let mut n = 0;
    while !done.load(Ordering::Relaxed) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "flood never stalled"
        );
        n += 1;
        let text = format!("prompt {n}");
        let t = Instant::now();
        normal.send(Message::text(text.clone())).unwrap();
        assert_eq!(normal.read().unwrap(), Message::text(text));
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "echo slow during the flood"
        );
        peak = peak.max(rss_kib(pid));
        thread::sleep(Duration::from_millis(100));
    }
    let (why, _stream) = writer.join().unwrap();
    peak = peak.max(rss_kib(pid));
    let total = written.load(Ordering::Relaxed);
    assert!(
        total < FLOOD_BYTES,
        "the whole flood was accepted: no pushback"
    );
    assert!(
        peak < baseline + RSS_BOUND_KIB,
        "server RSS grew from {baseline} KiB to {peak} KiB (bound +{RSS_BOUND_KIB} KiB)"
    );
    say(&format!(
        "wss flood: wrote {:.1} MiB before the writer stopped ({why}); server VmRSS baseline \
         {baseline} KiB, peak {peak} KiB (+{} KiB), bound +{RSS_BOUND_KIB} KiB; {n} echoes",
        total as f64 / (1 << 20) as f64,
        peak - baseline
    ));
}
