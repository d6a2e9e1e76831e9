//! Why a protocol's callback is being called: libwebsockets' callback reasons as a typed enum.

use super::{Fragment, Message, TimerId};
use crate::http::Request;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Bytes;

/// The event a callback is told about. Reasons about one connection carry its `session`.
///
/// Order for one WebSocket connection: `FilterProtocolConnection`, `Established`, then any of
/// `Receive`, `ReceivePong`, `ServerWriteable`, `Timer`, `PeerInitiatedClose`, and finally
/// exactly one `Closed`. No reason is delivered for a connection after its `Closed`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Reason<'a, S> {
    /// The server is starting; sent once to every protocol before any connection.
    ProtocolInit,
    /// The server is stopping; sent once to every protocol after every connection closed.
    ProtocolDestroy,
    /// A timer set with [`Context::set_protocol_timer`](super::Context::set_protocol_timer)
    /// fired.
    ProtocolTimer {
        /// Which timer.
        timer: TimerId,
    },
    /// An HTTP request that is not a WebSocket upgrade (sent to the table's HTTP entry only).
    /// Answer [`Outcome::Respond`](super::Outcome::Respond), or `Continue` to fall through to
    /// static files.
    Http {
        /// The parsed request head.
        request: &'a Request,
    },
    /// A valid upgrade request chose this protocol. Return
    /// [`Outcome::Reject`](super::Outcome::Reject) to refuse it (an Origin or auth check).
    FilterProtocolConnection {
        /// The new connection's session.
        session: &'a mut S,
        /// The upgrade request head.
        request: &'a Request,
    },
    /// The handshake completed; the connection is open.
    Established {
        /// The connection's session.
        session: &'a mut S,
    },
    /// A whole data message arrived.
    Receive {
        /// The connection's session.
        session: &'a mut S,
        /// The message.
        message: Message,
    },
    /// One data frame of a message, for protocols whose
    /// [`streams_fragments`](super::Protocol::streams_fragments) is true (instead of `Receive`).
    ReceiveFragment {
        /// The connection's session.
        session: &'a mut S,
        /// The frame's payload and its place in the message.
        fragment: Fragment,
    },
    /// A pong arrived (the loop answers pings by itself).
    ReceivePong {
        /// The connection's session.
        session: &'a mut S,
        /// The pong's application data.
        payload: Bytes,
    },
    /// The connection can take more output, after
    /// [`Context::request_writeable`](super::Context::request_writeable). May come more often
    /// than asked for; send what is due and ask again if more remains.
    ServerWriteable {
        /// The connection's session.
        session: &'a mut S,
    },
    /// The timer set with [`Context::set_timer`](super::Context::set_timer) expired.
    Timer {
        /// The connection's session.
        session: &'a mut S,
    },
    /// The peer sent a close frame; the loop answers it and `Closed` follows.
    PeerInitiatedClose {
        /// The connection's session.
        session: &'a mut S,
        /// The peer's close code (`None` when its frame carried none).
        code: Option<CloseCode>,
        /// The peer's close reason.
        reason: &'a str,
    },
    /// The connection is gone. Sent exactly once; the session is dropped after it.
    Closed {
        /// The connection's session.
        session: &'a mut S,
        /// The close code of the handshake, or `CloseCode::Abnormal` (1006) when the TCP
        /// connection ended without one.
        code: CloseCode,
    },
}
