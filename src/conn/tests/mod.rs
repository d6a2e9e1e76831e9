//! Unit tests of the connection state machine, with no socket: a [`Connection`] over an
//! in-memory transport, driven through `service` and `on_deadline` as the server drives it
//! ([`harness`]), talking to a recording protocol ([`recorder`]) and to a client that writes
//! real RFC 6455 bytes ([`peer`]). Time moves only when a test moves it.
//!
//! One file per behaviour: the upgrade and messages ([`open`]), both close handshakes and a
//! protocol violation ([`close`]), dead-peer detection ([`liveness`]), a client that does
//! not read ([`backpressure`]), and a file sent from disk to a client that reads little at a
//! time ([`files`]).

mod backpressure;
mod close;
mod files;
mod harness;
mod liveness;
mod open;
mod peer;
mod recorder;

use super::{Connection, CONNECTION_BUDGET};

#[test]
fn an_idle_websocket_connection_is_small() {
    // Unit-test builds add `Transport::Memory`: it fits in a debug build's 16-byte TcpStream,
    // but widens a release build's 4-byte one (by 16 bytes with alignment).
    let test_only = if cfg!(debug_assertions) { 0 } else { 16 };
    assert!(
        std::mem::size_of::<Connection>() <= CONNECTION_BUDGET + test_only,
        "Connection is {} bytes",
        std::mem::size_of::<Connection>()
    );
}
