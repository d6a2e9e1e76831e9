//! `--threads 2` with `--tls-cert`: every loop serves TLS (wss round trips on connections
//! spread over both loops by SO_REUSEPORT), and one SIGHUP reloads the certificate for all of
//! them: every new connection sees the new serial (if one loop kept the old certificate,
//! about half would), while connections opened before still echo.
#![cfg(feature = "tls")]

mod support;

use std::time::Duration;

use support::hostile::poll_until;
use support::tls::{self, TestCa};
use support::{scratch_dir, ServerProcess};
use tungstenite::Message;

/// Connections opened before the reload, and new ones checked after it.
const BEFORE: usize = 8;
const AFTER: usize = 16;

#[test]
fn two_loops_serve_wss_and_one_sighup_reloads_both() {
    let ca = TestCa::new(&scratch_dir("tls_threads").join("reload"));
    let first = ca.issue("server", 41);
    let mut args = vec!["--threads", "2"];
    args.extend(first.flags());
    let server = ServerProcess::start_with(&args);
    let addr = server.connect_addr();
    let config = ca.client_config(&[]);
    let mut old: Vec<_> = (0..BEFORE)
        .map(|_| tls::wss_connect(addr, config.clone(), &[]).expect("wss connect"))
        .collect();
    for (n, ws) in old.iter_mut().enumerate() {
        let text = format!("before {n}");
        ws.send(Message::text(text.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text(reversed(&text)));
    }
    let serial_now = || tls::peer_serial(&tls::tls_connect(addr, config.clone()).unwrap());
    assert_eq!(serial_now(), tls::serial_bytes(41));

    let second = ca.issue("second", 42);
    first.replace_with(&second);
    server.signal("HUP").unwrap();
    poll_until(Duration::from_secs(10), || {
        server
            .stderr()
            .contains("TLS certificate reloaded")
            .then_some(())
    })
    .expect("the reload logged");
    // The other loop takes the new config from its handle queue on its next pass; a new
    // connection that lands there first may still see the old one, so wait for all of them.
    let fresh = poll_until(Duration::from_secs(10), || {
        let serials: Vec<Vec<u8>> = (0..AFTER).map(|_| serial_now()).collect();
        serials
            .iter()
            .all(|serial| *serial == tls::serial_bytes(42))
            .then_some(serials)
    });
    assert!(
        fresh.is_some(),
        "some new connections still see the old certificate"
    );
    for (n, ws) in old.iter_mut().enumerate() {
        let text = format!("after {n}");
        ws.send(Message::text(text.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text(reversed(&text)));
    }
    let log = server.stderr();
    assert_eq!(log.matches("TLS certificate reloaded").count(), 1, "{log}");
    assert!(!log.contains("did not take"), "{log}");
}

fn reversed(text: &str) -> String {
    text.chars().rev().collect()
}
