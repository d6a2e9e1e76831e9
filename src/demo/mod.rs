//! The protocols the `wsloop` binary serves: the tutorial's reverse protocol and a plain echo
//! (what conformance suites such as Autobahn expect). Each is an ordinary user of the public
//! API, in its own small file.

mod echo;
mod reverse;

pub use echo::Echo;
pub use reverse::{reverse_bytes, reverse_text, Reverse};

use crate::ProtocolTable;

/// The binary's table: the HTTP entry, then `dumb-increment-protocol` (the default for
/// clients that offer no subprotocol), then `echo`.
pub fn table() -> ProtocolTable {
    ProtocolTable::new()
        .with_protocol(Reverse)
        .with_protocol(Echo)
}
