//! The protocols the `wsloop` binary serves: the tutorial's reverse protocol, a plain echo
//! (what conformance suites such as Autobahn expect), and two from the libwebsockets test
//! server: `increment` (a pushed counter) and `lws-mirror-protocol` (a shared board). Each is
//! an ordinary user of the public API, in its own small file. `echo-body`, an HTTP entry
//! that echoes request bodies, is served by `examples/echo_body.rs`.

mod echo;
pub mod echo_body;
pub mod increment;
pub mod mirror;
mod reverse;

pub use echo::Echo;
pub use echo_body::EchoBody;
pub use increment::Increment;
pub use mirror::Mirror;
pub use reverse::{reverse_bytes, reverse_text, reverse_text_into, Reverse};

use crate::{Context, ProtocolTable, SendError, Sent};

/// The binary's table: the HTTP entry, then `dumb-increment-protocol` (the default for
/// clients that offer no subprotocol), `echo`, `increment` and `lws-mirror-protocol`.
pub fn table() -> ProtocolTable {
    ProtocolTable::new()
        .with_protocol(Reverse::default())
        .with_protocol(Echo)
        .with_protocol(Increment)
        .with_protocol(Mirror)
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
