//! The protocols the `wsloop` binary serves: the tutorial's reverse protocol, a plain echo
//! (what conformance suites such as Autobahn expect), and two from the libwebsockets test
//! server: `increment` (a pushed counter) and `lws-mirror-protocol` (a shared board). Each is
//! an ordinary user of the public API, in its own small file.

mod echo;
pub mod increment;
pub mod mirror;
mod reverse;

pub use echo::Echo;
pub use increment::Increment;
pub use mirror::Mirror;
pub use reverse::{reverse_bytes, reverse_text, Reverse};

use crate::{Context, Message, ProtocolTable, Sent};

/// The binary's table: the HTTP entry, then `dumb-increment-protocol` (the default for
/// clients that offer no subprotocol), `echo`, `increment` and `lws-mirror-protocol`.
pub fn table() -> ProtocolTable {
    ProtocolTable::new()
        .with_protocol(Reverse)
        .with_protocol(Echo)
        .with_protocol(Increment)
        .with_protocol(Mirror::default())
}

/// Answer `message`; if the client has stopped reading our answers, stop reading its messages
/// until it catches up (`ServerWriteable` then calls [`resume_after_catch_up`]). This keeps a
/// client that floods without reading at bounded memory: TCP pushes back on it instead.
fn reply_paced(cx: &mut Context<'_>, message: Message) {
    // A full queue (SendError::QueueFull) closes the connection with 1008 by itself.
    if let Ok(Sent::Congested) = cx.send(message) {
        cx.pause_reading();
        cx.request_writeable();
    }
}

/// The other half of [`reply_paced`], for `ServerWriteable`.
fn resume_after_catch_up(cx: &mut Context<'_>) {
    cx.resume_reading();
}
