//! SIGHUP reloads the TLS certificate and key from the same paths: a new connection sees the
//! new certificate's serial, one opened before still echoes; a garbage file (or a key that
//! does not fit) logs one warning and keeps the certificate in use.
#![cfg(feature = "tls")]

mod support;

use std::fs;
use std::time::Duration;

use support::hostile::poll_until;
use support::tls::{self, TestCa};
use support::{scratch_dir, ServerProcess};
use tungstenite::Message;

#[test]
fn sighup_swaps_the_certificate_for_new_connections_only() {
    let ca = TestCa::new(&scratch_dir("tls_reload").join("swap"));
    let first = ca.issue("server", 1001);
    let server = ServerProcess::start_with(&first.flags());
    let addr = server.connect_addr();
    let config = ca.client_config(&[]);
    let serial_now = || tls::peer_serial(&tls::tls_connect(addr, config.clone()).unwrap());
    assert_eq!(serial_now(), tls::serial_bytes(1001));
    let mut old = tls::wss_connect(addr, config.clone(), &[]).unwrap();

    let reloads = |n: usize| {
        server.signal("HUP").unwrap();
        poll_until(Duration::from_secs(10), || {
            let log = server.stderr();
            let done = log.matches("TLS certificate reloaded").count()
                + log.matches("TLS reload failed").count();
            (done >= n).then_some(())
        })
        .expect("the reload logged");
    };

    // New files at the same paths.
    let second = ca.issue("second", 2002);
    first.replace_with(&second);
    reloads(1);
    assert_eq!(serial_now(), tls::serial_bytes(2002));
    old.send(Message::text("still here")).unwrap();
    assert_eq!(old.read().unwrap(), Message::text("ereh llits"));

    // Garbage, then a key that does not fit: one warning each, the certificate stays.
    fs::write(&first.cert, "garbage").unwrap();
    reloads(2);
    assert_eq!(serial_now(), tls::serial_bytes(2002));
    let third = ca.issue("third", 3003);
    fs::copy(&third.cert, &first.cert).unwrap(); // the key is still second's
    reloads(3);
    assert_eq!(serial_now(), tls::serial_bytes(2002));
    let log = server.stderr();
    assert_eq!(log.matches("TLS reload failed").count(), 2, "{log}");
    assert!(log.contains("does not fit the certificate"), "{log}");
    old.send(Message::text("ab")).unwrap();
    assert_eq!(old.read().unwrap(), Message::text("ba"));
}
