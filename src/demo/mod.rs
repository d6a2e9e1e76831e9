//! The protocols the `wsloop` binary serves: the tutorial's reverse protocol and a plain echo
//! (what conformance suites such as Autobahn expect). Each is an ordinary user of the public
//! API, in its own small file.

mod echo;
mod reverse;

pub use echo::Echo;
pub use reverse::{reverse_bytes, reverse_text, reverse_text_into, Reverse};

use crate::{Context, ProtocolTable, SendError, Sent};

/// The binary's table: the HTTP entry, then `dumb-increment-protocol` (the default for
/// clients that offer no subprotocol), then `echo`.
pub fn table() -> ProtocolTable {
    ProtocolTable::new()
        .with_protocol(Reverse::default())
        .with_protocol(Echo)
}

/// After answering: if the client has stopped reading our answers (`sent` is Congested),
/// stop reading its messages until it catches up (`ServerWriteable` then calls
/// [`resume_after_catch_up`]). A client that floods without reading is then held back by TCP,
/// not by our memory. (A full queue, `SendError::QueueFull`, closes with 1008 by itself.)
fn pace(cx: &mut Context<'_>, sent: Result<Sent, SendError>) {
    if let Ok(Sent::Congested) = sent {
        cx.pause_reading();
        cx.request_writeable();
    }
}

/// The other half of [`pace`], for `ServerWriteable`.
fn resume_after_catch_up(cx: &mut Context<'_>) {
    cx.resume_reading();
}
