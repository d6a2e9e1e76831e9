//! Unit tests of the connection state machine, with no socket: a [`Connection`] over an
//! in-memory transport, driven through `service` and `on_deadline` as the server drives it
//! ([`harness`]), talking to a recording protocol ([`recorder`]) and to a client that writes
//! real RFC 6455 bytes ([`peer`]). Time moves only when a test moves it.
//!
//! One file per behaviour: the upgrade and messages ([`open`]), both close handshakes and a
//! protocol violation ([`close`]), dead-peer detection ([`liveness`]), a client that does
//! not read ([`backpressure`]), published frames written straight or queued ([`delivery`]),
//! and a file sent from disk to a client that reads little at a time ([`files`]).

mod backpressure;
mod close;
mod delivery;
mod files;
mod harness;
mod liveness;
mod open;
mod peer;
mod recorder;

use super::{Connection, CONNECTION_BUDGET};

#[test]
fn an_idle_websocket_connection_is_small() {
    // Unit-test builds add `Transport::Memory` (an `Rc`): it fits in the TLS build's 16-byte
    // transport and in a debug build's 16-byte TcpStream, but widens a cleartext release
    // build's 4-byte one (by 8 bytes, with the Wire's packing). Every other build checks the
    // serving layout at compile time (`CONNECTION_BUDGET`).
    let test_only = if cfg!(debug_assertions) || cfg!(feature = "tls") {
        0
    } else {
        8
    };
    let size = std::mem::size_of::<Connection>();
    println!("Connection: {size} bytes (budget {CONNECTION_BUDGET} + {test_only} test-only)");
    assert!(
        size <= CONNECTION_BUDGET + test_only,
        "Connection is {size} bytes"
    );
}

#[test]
fn the_wire_packs_its_marks_beside_the_deadline() {
    // Transport, queue pointer, then the 4-byte tick and the marks' byte in one 8-byte word:
    // one more flag byte would still fit, a second tick or an 8-byte field would not.
    let transport = std::mem::size_of::<crate::transport::Transport>();
    let wire = std::mem::size_of::<super::Wire>();
    println!("Transport: {transport} bytes, Wire: {wire} bytes");
    assert_eq!(std::mem::size_of::<super::Marks>(), 1);
    assert!(
        wire <= (transport + 8).next_multiple_of(8) + 8,
        "Wire is {wire} bytes"
    );
}
