//! `echo-body`: an HTTP entry that answers every request other than `GET` and `HEAD` with
//! the body it received (libwebsockets' `HTTP_BODY` / `HTTP_BODY_COMPLETION` in a few lines).
//! `examples/echo_body.rs` serves it; `GET` and `HEAD` still get the static files.

use crate::http::{Method, Request, Response};
use crate::{Context, Outcome, Protocol, Reason};

/// Header of an echo that tells how many `HttpBody` pieces the body arrived in.
pub const PIECES_HEADER: &str = "X-Body-Pieces";

/// Echoes request bodies: `200` with the same bytes and `Content-Type`.
#[derive(Debug, Default, Clone, Copy)]
pub struct EchoBody;

/// One request's body so far.
#[derive(Debug, Default)]
pub struct Received {
    body: Vec<u8>,
    pieces: usize,
}

impl Protocol for EchoBody {
    type Session = Received;

    fn name(&self) -> &str {
        "echo-body"
    }

    fn new_session(&mut self) -> Received {
        Received::default()
    }

    fn callback(&mut self, _cx: &mut Context<'_>, reason: Reason<'_, Received>) -> Outcome {
        match reason {
            Reason::Http { request } => match request.method() {
                Method::Get | Method::Head => Outcome::Continue,
                Method::Other(_) => Outcome::ReadBody,
            },
            Reason::HttpBody { session, data, .. } => {
                session.body.extend_from_slice(data);
                session.pieces += 1;
                Outcome::Continue
            }
            Reason::HttpBodyCompletion { session, request } => {
                Outcome::Respond(echo(request, std::mem::take(session)))
            }
            _ => Outcome::Continue,
        }
    }
}

/// The echo of `received` for `request`.
fn echo(request: &Request, received: Received) -> Response {
    let content_type = request
        .header_str("content-type")
        .unwrap_or("application/octet-stream");
    Response::new(200)
        .with_header(PIECES_HEADER, received.pieces.to_string())
        .with_body(content_type, received.body)
}
