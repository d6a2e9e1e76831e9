//! READING_BODY: a request's body, decoded as it arrives ([`BodyDecoder`]: `Content-Length`
//! or `chunked`, within a size cap and `body_timeout`), handed to its [`Sink`]: the HTTP
//! entry's callback piece by piece (`Reason::HttpBody`, then `HttpBodyCompletion`, whose
//! outcome is the answer), or the publish endpoint, which collects it. Pieces are slices of
//! the server's read buffer: nothing is copied on the way to the callback. What follows the
//! body in the same read is the next request, kept for READING_HEAD.

use super::http_request::{ask_http_entry, respond, respond_error, static_response, EntryAnswer};
use super::publish::Collected;
use super::{Env, Ident, Mark, Phase, Wire};
use crate::http::body::{BodyDecoder, Piece};
use crate::http::request::BodyFraming;
use crate::http::{Reply, Request, Response};
use crate::net::would_block;
use crate::protocol::Event;
use crate::tick::Tick;
use log::debug;
use std::any::Any;

/// The interim response that tells a client waiting with `Expect: 100-continue` to send.
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Where a body's pieces go.
pub(crate) enum Sink {
    /// To the HTTP entry's callback, with its session for this request.
    Protocol(Box<dyn Any>),
    /// Into a buffer, published to a topic once complete.
    Publish(Collected),
    /// Published: the `204` goes out on the connection's next pass, after the loop handed
    /// the publication on (to its subscribers, or to the bus that orders it), so a client
    /// that publishes again once it has the `204` is ordered after this one, whichever loop
    /// takes the next request.
    Published,
}

/// A request whose body is on its way.
pub(crate) struct BodyReader {
    request: Request,
    decoder: BodyDecoder,
    sink: Sink,
    /// Bytes that came with the head and are not decoded yet.
    early: Vec<u8>,
    /// The body must be in by then (`body_timeout` after its head).
    deadline: Tick,
}

/// What feeding bytes to the decoder and the sink came to.
enum Fed {
    /// Every byte was used; the body goes on.
    More,
    /// The body is complete; these bytes followed it.
    End(Vec<u8>),
    /// The request is answered (or the connection ends) before its end.
    Answered(Phase),
}

impl BodyReader {
    /// Read the body of `request` (framed as `framing`; `early` is what came after its head)
    /// into `sink`. Refused at once with `413` when `Content-Length` is over the sink's cap;
    /// `100 Continue` is queued when the client waits for it.
    pub fn start(
        request: Request,
        framing: BodyFraming,
        sink: Sink,
        early: Vec<u8>,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        let max_body = match &sink {
            Sink::Protocol(_) => env.config.max_body_bytes,
            Sink::Publish(_) | Sink::Published => env.config.max_message_bytes,
        };
        // Chunk extensions and trailers are head-like bytes: they share the head's cap.
        let decoder = match BodyDecoder::new(framing, max_body as u64, env.config.max_head_bytes) {
            Ok(decoder) => decoder,
            Err(err) => {
                return respond_error(err.status(), err.detail(), Some(&request), wire, ident, env)
            }
        };
        if !decoder.is_done() && early.is_empty() && request.expects_continue() == Ok(true) {
            wire.out.buffer().extend_from_slice(CONTINUE);
        }
        Phase::ReadingBody(Box::new(BodyReader {
            request,
            decoder,
            sink,
            early,
            deadline: env.tick.after(env.config.body_timeout),
        }))
    }

    pub fn deadline(&self) -> Tick {
        self.deadline
    }

    /// Body bytes held here (the publish endpoint's buffer), counted against
    /// `max_incoming_buffered_bytes` with the WebSockets' partial messages.
    pub fn incoming_held(&self) -> usize {
        match &self.sink {
            Sink::Publish(collected) => collected.len(),
            Sink::Protocol(_) | Sink::Published => 0,
        }
    }

    pub fn step(mut self: Box<Self>, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        if env.shutting_down {
            return self.fail(503, "server shutting down", wire, ident, env);
        }
        // A `100 Continue` goes out before anything is waited for.
        if let Err(err) = wire.flush() {
            debug!("{ident}: write failed: {err}");
            return Phase::Gone;
        }
        let early = std::mem::take(&mut self.early);
        if let Sink::Published = self.sink {
            // `early` holds what was pipelined after the body.
            return answer_completed(
                &self.request,
                Response::new(204).into(),
                early,
                wire,
                ident,
                env,
            );
        }
        match self.feed(&early, wire, ident, env) {
            Fed::More => {}
            Fed::End(rest) => return self.complete(rest, wire, ident, env),
            Fed::Answered(phase) => return phase,
        }
        if !wire.readable() {
            return Phase::ReadingBody(self);
        }
        let mut budget = env.begin_read(wire);
        let fed = loop {
            if budget.state.drained {
                break Some(Ok(Fed::More));
            }
            match budget.read_chunk(&wire.transport, usize::MAX) {
                Ok([]) => break None,
                Ok(bytes) => match self.feed(bytes, wire, ident, env) {
                    Fed::More => continue,
                    done => break Some(Ok(done)),
                },
                Err(err) if would_block(&err) => break Some(Ok(Fed::More)),
                Err(err) => break Some(Err(err)),
            }
        };
        let state = env.end_read(budget);
        wire.note_read(state);
        match fed {
            Some(Ok(Fed::More)) => Phase::ReadingBody(self),
            Some(Ok(Fed::End(rest))) => self.complete(rest, wire, ident, env),
            Some(Ok(Fed::Answered(phase))) => phase,
            Some(Err(err)) => {
                debug!("{ident}: read failed: {err}");
                Phase::Gone
            }
            None => self.fail(400, "request body cut short", wire, ident, env),
        }
    }

    pub fn on_deadline(self: Box<Self>, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        if !self.deadline.is_reached(env.tick) {
            return Phase::ReadingBody(self);
        }
        self.fail(408, "request body not received in time", wire, ident, env)
    }

    /// Decode `bytes` and hand the pieces to the sink.
    fn feed(&mut self, mut bytes: &[u8], wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Fed {
        loop {
            let (used, piece) = match self.decoder.decode(bytes) {
                Ok(found) => found,
                Err(err) => {
                    let request = Some(&self.request);
                    let phase =
                        respond_error(err.status(), err.detail(), request, wire, ident, env);
                    return Fed::Answered(phase);
                }
            };
            let data = match piece {
                Piece::Data(data) => data,
                Piece::End => return Fed::End(bytes.get(used..).unwrap_or_default().to_vec()),
                Piece::More => return Fed::More,
            };
            bytes = bytes.get(used..).unwrap_or_default();
            let answer = match &mut self.sink {
                Sink::Protocol(session) => {
                    let event = Event::HttpBody(&self.request, data);
                    match ask_http_entry(event, Some(session.as_mut()), wire, ident, env) {
                        EntryAnswer::Default | EntryAnswer::ReadBody => continue,
                        answer => answer,
                    }
                }
                Sink::Publish(collected) => match collected.take(data, env) {
                    Ok(()) => continue,
                    Err(response) => EntryAnswer::Respond(response.into()),
                },
                Sink::Published => continue,
            };
            // Answered before the end: the rest of the body is never read.
            return Fed::Answered(match answer {
                EntryAnswer::Respond(response) => respond(
                    response,
                    Some(&self.request),
                    false,
                    Vec::new(),
                    wire,
                    ident,
                    env,
                ),
                _ => respond_error(403, "refused", Some(&self.request), wire, ident, env),
            });
        }
    }

    /// The whole body is in: the sink answers; `rest` is what was pipelined after it.
    fn complete(self, rest: Vec<u8>, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        let BodyReader { request, sink, .. } = self;
        let response: Reply = match sink {
            Sink::Protocol(mut session) => {
                let event = Event::HttpBodyDone(&request);
                match ask_http_entry(event, Some(session.as_mut()), wire, ident, env) {
                    EntryAnswer::Respond(response) => response,
                    EntryAnswer::Refused => {
                        return respond_error(403, "refused", Some(&request), wire, ident, env)
                    }
                    EntryAnswer::Default | EntryAnswer::ReadBody => static_response(&request, env),
                }
            }
            Sink::Publish(collected) => match collected.publish(env) {
                Err(response) => response.into(),
                Ok(()) => {
                    // Back next pass (see `Sink::Published`).
                    wire.marks.set(Mark::MoreWork, true);
                    return Phase::ReadingBody(Box::new(BodyReader {
                        request,
                        decoder: BodyDecoder::finished(),
                        sink: Sink::Published,
                        early: rest,
                        deadline: env.tick.after(env.config.body_timeout),
                    }));
                }
            },
            Sink::Published => Response::new(204).into(),
        };
        answer_completed(&request, response, rest, wire, ident, env)
    }

    /// Answer `status` and close: the body will not be read to its end.
    fn fail(
        self,
        status: u16,
        detail: &str,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        respond_error(status, detail, Some(&self.request), wire, ident, env)
    }
}

/// Answer a request whose body was read to its end: the connection may stay open, with what
/// was pipelined after the body (`rest`).
fn answer_completed(
    request: &Request,
    response: Reply,
    rest: Vec<u8>,
    wire: &mut Wire,
    ident: Ident,
    env: &mut Env<'_>,
) -> Phase {
    let keep_alive = request.keep_alive() && !env.shutting_down;
    respond(response, Some(request), keep_alive, rest, wire, ident, env)
}
