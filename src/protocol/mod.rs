//! The user's API, in the libwebsockets model: a table of protocols, one callback per protocol
//! that receives a [`Reason`], answers with an [`Outcome`], and acts through a [`Context`].

mod context;
mod link;
mod loop_requests;
mod message;
mod reason;
mod table;

pub use crate::payload_writer::PayloadWriter;
pub use context::Context;
pub(crate) use link::{Compressing, ConnectionLink, SessionRequests};
pub use link::{Fragment, SendError, Sent};
pub use loop_requests::TimerId;
pub(crate) use loop_requests::{LoopRequests, TimerChange};
pub use message::Message;
pub use reason::Reason;
pub(crate) use table::Panicked;
pub use table::{in_protocol_callback, HttpOnly, ProtocolTable};
pub(crate) use table::{Event, ProtocolIndex};

use crate::http::Response;
use tungstenite::protocol::frame::coding::CloseCode;

/// A WebSocket subprotocol (or the table's HTTP entry): a name, a per-connection session type,
/// and one callback.
///
/// The callback receives every [`Reason`] that concerns this protocol. Reasons about one
/// connection carry that connection's `session`, typed as [`Protocol::Session`]; reasons about
/// the protocol as a whole (`ProtocolInit`, `ProtocolDestroy`) carry none.
///
/// ```
/// use wsloop::{Context, Outcome, Protocol, Reason};
///
/// /// Counts the messages each client sent and answers with the count.
/// struct Counter;
///
/// impl Protocol for Counter {
///     type Session = u64;
///     fn name(&self) -> &str {
///         "counter"
///     }
///     fn new_session(&mut self) -> u64 {
///         0
///     }
///     fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, u64>) -> Outcome {
///         if let Reason::Receive { session, .. } = reason {
///             *session += 1;
///             let _ = cx.send_text(session.to_string());
///         }
///         Outcome::Continue
///     }
/// }
/// ```
pub trait Protocol: 'static {
    /// State kept for each connection of this protocol, from `FilterProtocolConnection` to
    /// `Closed`.
    type Session: 'static;

    /// The subprotocol name matched against `Sec-WebSocket-Protocol` (case-sensitive, as the
    /// RFC's tokens are).
    fn name(&self) -> &str;

    /// A fresh session for a connection that selected this protocol.
    fn new_session(&mut self) -> Self::Session;

    /// Called for every reason that concerns this protocol; see [`Reason`].
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, Self::Session>) -> Outcome;

    /// Opt in to streaming: each data frame is delivered as `Reason::ReceiveFragment` as soon
    /// as it arrives, instead of whole messages as `Reason::Receive`. Text fragments carry
    /// whole UTF-8 characters only. Default: whole messages.
    fn streams_fragments(&self) -> bool {
        false
    }

    /// Let this protocol's connections negotiate permessage-deflate (RFC 7692) when the
    /// server offers it and the client asks (libwebsockets' `CONFIRM_EXTENSION_OKAY`).
    /// Return false for a protocol whose messages are already compressed, or that mixes
    /// secrets with text an attacker chooses; the 101 then carries no
    /// `Sec-WebSocket-Extensions`. Default: true. One message can still go out uncompressed
    /// with [`Context::send_uncompressed`].
    fn compresses(&self) -> bool {
        true
    }
}

/// What a callback wants done next.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// Carry on.
    Continue,
    /// Close the WebSocket with this code and reason (the reason is cut to the 123 bytes a
    /// close frame can carry). Outside an open WebSocket it closes the connection.
    Close {
        /// The close code sent to the peer.
        code: CloseCode,
        /// A short human-readable reason.
        reason: String,
    },
    /// Refuse a connection in `FilterProtocolConnection` with this HTTP status.
    Reject {
        /// The HTTP status, e.g. 403.
        status: u16,
        /// A short, server-chosen explanation for the response body.
        reason: &'static str,
    },
    /// Answer an HTTP request (`Reason::Http`, or after its body: `HttpBody`,
    /// `HttpBodyCompletion`) with this response instead of a static file.
    Respond(Response),
    /// In `Reason::Http`: read the request's body and deliver it as `Reason::HttpBody` pieces
    /// as they arrive, then `Reason::HttpBodyCompletion`, whose outcome answers the request
    /// (libwebsockets' `HTTP_BODY` / `HTTP_BODY_COMPLETION`). A request without a body goes
    /// straight to `HttpBodyCompletion`. `Expect: 100-continue` is answered with
    /// `100 Continue` only then: any other outcome of `Reason::Http` answers at once, and
    /// the body announced is never read (the connection closes after the answer).
    ReadBody,
}

impl Outcome {
    /// Close the WebSocket with `code` and `reason`.
    pub fn close(code: CloseCode, reason: impl Into<String>) -> Self {
        Outcome::Close {
            code,
            reason: reason.into(),
        }
    }

    /// Refuse the connection with an HTTP `status`.
    pub fn reject(status: u16, reason: &'static str) -> Self {
        Outcome::Reject { status, reason }
    }
}
