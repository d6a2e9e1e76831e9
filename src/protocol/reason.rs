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
    /// Answer [`Outcome::Respond`](super::Outcome::Respond), `Continue` to fall through to
    /// static files, or [`Outcome::ReadBody`](super::Outcome::ReadBody) to receive the
    /// request's body first.
    Http {
        /// The parsed request head.
        request: &'a Request,
    },
    /// A piece of the body of a request whose `Http` asked for
    /// [`Outcome::ReadBody`](super::Outcome::ReadBody): the bytes that arrived (decoded from
    /// `Content-Length` or `chunked` framing, never empty), in order, at most
    /// `max_body_bytes` in all. `Continue` to go on; `Respond` or `Reject` answers at once
    /// (the rest of the body is not read: the connection closes after the answer).
    HttpBody {
        /// A fresh session of the HTTP entry, for this one request (dropped after
        /// `HttpBodyCompletion`).
        session: &'a mut S,
        /// The request head.
        request: &'a Request,
        /// The piece, borrowed from the server's read buffer: copy what must be kept.
        data: &'a [u8],
    },
    /// The whole body of that request arrived (trailer fields are checked and dropped).
    /// Answer with [`Outcome::Respond`](super::Outcome::Respond); `Continue` answers as
    /// static files would (`405` for a `POST`).
    HttpBodyCompletion {
        /// The request's session, as `HttpBody` left it.
        session: &'a mut S,
        /// The request head.
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
