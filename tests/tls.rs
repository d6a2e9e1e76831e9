//! `wss://` and `https://` on the one port (`--tls-cert`/`--tls-key`), with real TLS clients
//! trusting a test CA: tungstenite over rustls (reverse round trips of text, binary and 1 MiB,
//! ping/pong, close), HTTPS GET and HEAD with keep-alive, TLS 1.2 and 1.3, ALPN (`h2` alone is
//! refused with a handshake failure), session resumption, and what a client that speaks no
//! TLS gets (an alert or a close, never a cleartext answer).
#![cfg(feature = "tls")]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::tls::{self, TestCa};
use support::ServerProcess;
use tungstenite::Message;

fn tls_server(name: &str) -> (ServerProcess, TestCa) {
    tls::start_server(&format!("tls-{name}"), &[])
}

#[test]
fn wss_reverses_text_binary_and_a_mebibyte_and_answers_pings_and_closes() {
    let (server, ca) = tls_server("round_trips");
    let config = ca.client_config(&[]);
    let mut ws = tls::wss_connect(server.connect_addr(), config, &[]).expect("wss connect");
    ws.send(Message::text("Hello, world!")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("!dlrow ,olleH"));
    ws.send(Message::binary(vec![1u8, 2, 3])).unwrap();
    assert_eq!(ws.read().unwrap(), Message::binary(vec![3u8, 2, 1]));
    let big: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    ws.send(Message::binary(big.clone())).unwrap();
    let mut reversed = big;
    reversed.reverse();
    assert_eq!(ws.read().unwrap(), Message::binary(reversed));
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .unwrap();
    assert_eq!(
        ws.read().unwrap(),
        Message::Pong(b"are you there".to_vec().into())
    );
    ws.close(None).unwrap();
    loop {
        match ws.read() {
            Ok(Message::Close(_)) => continue,
            Err(tungstenite::Error::ConnectionClosed) => break,
            other => panic!("expected the close handshake, got {other:?}"),
        }
    }
}

#[test]
fn every_protocol_works_over_wss() {
    let (server, ca) = tls_server("protocols");
    let config = ca.client_config(&[b"http/1.1"]);
    let mut ws = tls::wss_connect(server.connect_addr(), config.clone(), &["echo"]).unwrap();
    ws.send(Message::text("same")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("same"));
    let mut ws =
        tls::wss_connect(server.connect_addr(), config, &["dumb-increment-protocol"]).unwrap();
    ws.send(Message::text("abc")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("cba"));
}

#[test]
fn https_serves_static_files_with_keep_alive() {
    let (server, ca) = tls_server("https");
    let index = std::fs::read(support::www_dir().join("index.html")).unwrap();
    let mut stream = tls::tls_connect(server.connect_addr(), ca.client_config(&[b"http/1.1"]))
        .expect("TLS connect");
    assert_eq!(stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    for _ in 0..3 {
        tls::send(&mut stream, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let (status, head, body) = tls::read_response(&mut stream, false);
        assert_eq!(status, 200, "{head}");
        assert!(body == index, "body differs from www/index.html");
        tls::send(&mut stream, "HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
        let (status, head, body) = tls::read_response(&mut stream, true);
        assert_eq!(status, 200, "{head}");
        assert!(head
            .to_ascii_lowercase()
            .contains(&format!("content-length: {}", index.len())));
        assert!(body.is_empty());
    }
    tls::send(&mut stream, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(tls::read_response(&mut stream, false).0, 404);
}

#[test]
fn tls_1_2_and_1_3_are_both_served_and_sessions_resume() {
    let (server, ca) = tls_server("versions");
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let config = ca.client_config_for(&[version], &[]);
        for round in 0..2 {
            let mut stream = tls::tls_connect(server.connect_addr(), config.clone()).unwrap();
            assert_eq!(stream.conn.protocol_version(), Some(version.version));
            tls::send(&mut stream, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(tls::read_response(&mut stream, false).0, 200);
            let kind = stream.conn.handshake_kind();
            if round == 1 {
                assert_eq!(
                    kind,
                    Some(rustls::HandshakeKind::Resumed),
                    "{:?}: the second connection resumes",
                    version.version
                );
            }
        }
    }
}

#[test]
fn a_client_offering_only_h2_gets_a_handshake_failure() {
    let (server, ca) = tls_server("alpn");
    let err = tls::tls_connect(server.connect_addr(), ca.client_config(&[b"h2"]))
        .expect_err("no common application protocol");
    assert!(
        err.to_string()
            .to_lowercase()
            .contains("no_application_protocol")
            || err.to_string().contains("NoApplicationProtocol"),
        "{err}"
    );
    // The server goes on serving.
    let mut ws = tls::wss_connect(server.connect_addr(), ca.client_config(&[]), &[]).unwrap();
    ws.send(Message::text("ok")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("ko"));
}

/// What the server sends back to bytes that are not TLS: at most a TLS alert record
/// (content type 21), then the close.
fn answer_to(server: &ServerProcess, bytes: &[u8]) -> Vec<u8> {
    let mut tcp = TcpStream::connect(server.connect_addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(bytes).unwrap();
    let mut answer = Vec::new();
    match tcp.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(err) => panic!("no close after {bytes:?}: {err} (got {answer:?})"),
    }
    answer
}

#[test]
fn cleartext_http_and_random_bytes_get_an_alert_or_a_close() {
    let (server, _ca) = tls_server("cleartext");
    let mut random = vec![0u8; 4096];
    let mut x: u32 = 0x9e37_79b9;
    for b in random.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    for bytes in [&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], &random] {
        let answer = answer_to(&server, bytes);
        assert!(
            answer.is_empty() || answer[0] == 21,
            "not an alert: {:?}",
            String::from_utf8_lossy(&answer)
        );
        assert!(
            !answer.windows(4).any(|w| w == b"HTTP"),
            "a cleartext answer"
        );
    }
    let status = tls::tls_connect(server.connect_addr(), _ca.client_config(&[]));
    assert!(status.is_ok(), "still serving TLS");
}
