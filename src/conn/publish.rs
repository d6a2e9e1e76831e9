//! The HTTP publish endpoint (on with `publish_token`): `POST /publish/TOPIC` with
//! `Authorization: Bearer TOKEN` publishes its body to TOPIC (percent-decoded) and answers
//! `204`. The body goes out as a text message when it is UTF-8 and its `Content-Type` is
//! `text/*` or absent, as binary otherwise, through the loop's topics: the path
//! `Context::publish` takes, so with several loops (or any bus) every subscriber gets it, in
//! the topic's one order. Refusals: `401` (token missing or wrong, compared in constant
//! time), `405`/`501` (another method), `400` (a bad topic name), `413` (a body over
//! `max_message_bytes`), `503` (the server-wide `max_incoming_buffered_bytes` is reached).

use super::reading_body::Sink;
use super::Env;
use crate::frame::{OP_BINARY, OP_TEXT};
use crate::http::body::hex_value;
use crate::http::methods::refuse_other_methods;
use crate::http::{Method, Request, Response};
use crate::topics::{Publication, TopicError};
use bytes::{Bytes, BytesMut};

/// The endpoint's path prefix; the rest of the path is the topic.
const PREFIX: &str = "/publish/";

/// What the endpoint's paths allow.
const ALLOW: &str = "OPTIONS, POST";

/// `Some` when `request` is for the endpoint (it is on and the path starts with `/publish/`):
/// the sink that collects its body, or the refusal to answer at once.
pub(crate) fn route(request: &Request, env: &Env<'_>) -> Option<Result<Sink, Response>> {
    let token = env.config.publish_token.as_ref()?;
    let encoded_topic = request.path().strip_prefix(PREFIX)?;
    if request.method().as_str() != "POST" {
        return Some(Err(match request.method() {
            Method::Get | Method::Head => {
                Response::error(405, "publish with POST").with_header("Allow", ALLOW)
            }
            other => refuse_other_methods(other, ALLOW)
                .unwrap_or_else(|| Response::error(405, "publish with POST")),
        }));
    }
    let authorized = request.header_count("authorization") == 1
        && request
            .header("authorization")
            .is_some_and(|value| token.admits(value));
    if !authorized {
        return Some(Err(Response::error(401, "a valid bearer token is needed")
            .with_header("WWW-Authenticate", "Bearer realm=\"publish\"")));
    }
    let topic = match percent_decode(encoded_topic) {
        Some(topic) if !topic.is_empty() => topic,
        _ => return Some(Err(Response::error(400, "invalid topic name"))),
    };
    if let Err(TopicError::NameTooLong) = env.requests.topics.check_name(&topic) {
        return Some(Err(Response::error(400, "topic name too long")));
    }
    Some(Ok(Sink::Publish(Collected {
        topic: topic.into(),
        text: content_type_is_text(request),
        body: BytesMut::new(),
    })))
}

/// A publish request's body as it arrives (bounded by the decoder at `max_message_bytes`).
pub(crate) struct Collected {
    topic: Bytes,
    /// Published as text if the body turns out to be UTF-8.
    text: bool,
    body: BytesMut,
}

impl Collected {
    /// Bytes collected so far.
    pub fn len(&self) -> usize {
        self.body.len()
    }

    /// Keep `data`, unless that would pass the server-wide cap on incoming bytes held.
    pub fn take(&mut self, data: &[u8], env: &Env<'_>) -> Result<(), Response> {
        let room = env.incoming_room();
        let held = room.held_by_others + self.body.len() + data.len();
        if held > room.max {
            return Err(Response::error(
                503,
                "server busy: too many bytes in flight",
            ));
        }
        self.body.extend_from_slice(data);
        Ok(())
    }

    /// Publish the whole body, framed once for every subscriber (it reaches them, or the
    /// bus, when the pass ends); `Err` with the answer if the topic refused it.
    pub fn publish(self, env: &mut Env<'_>) -> Result<(), Response> {
        let opcode = if self.text && std::str::from_utf8(&self.body).is_ok() {
            OP_TEXT
        } else {
            OP_BINARY
        };
        let publication = Publication::frame(self.topic, opcode, &self.body);
        env.requests
            .topics
            .publish(publication)
            .map_err(|_| Response::error(400, "invalid topic name"))
    }
}

/// `Content-Type` absent, or `text/...` (any parameters): the body may be published as text.
fn content_type_is_text(request: &Request) -> bool {
    let Some(value) = request.header("content-type") else {
        return true;
    };
    let media_type = value.split(|&b| b == b';').next().unwrap_or_default();
    let main_type = media_type.split(|&b| b == b'/').next().unwrap_or_default();
    main_type.trim_ascii().eq_ignore_ascii_case(b"text")
}

/// The topic's bytes: `%XX` escapes decoded, anything else as it is; `None` for a bad escape.
fn percent_decode(encoded: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut bytes = encoded.bytes();
    while let Some(byte) = bytes.next() {
        out.push(match byte {
            b'%' => {
                let high = hex_value(bytes.next()?)?;
                let low = hex_value(bytes.next()?)?;
                high << 4 | low
            }
            byte => byte,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_percent_decoded() {
        for (encoded, want) in [
            ("room", Some(&b"room"[..])),
            ("mirror/default", Some(b"mirror/default")),
            ("a%20b%2Fc", Some(b"a b/c")),
            ("%ff", Some(b"\xff")),
            ("%", None),
            ("%4", None),
            ("%zz", None),
        ] {
            assert_eq!(percent_decode(encoded).as_deref(), want, "{encoded}");
        }
    }
}
