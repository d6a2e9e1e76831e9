//! READING_HEAD: collect bytes until a complete request head, within the head size limit and
//! the head timeout; then hand the request on.

use super::http_request::{self, respond_error};
use super::{Env, Ident, Phase, Wire};
use crate::http::request::{take_head, ParsedHead};
use crate::tick::Tick;
use log::debug;

/// The head collected so far (it may start with bytes pipelined after the previous request).
pub(crate) struct HeadReader {
    buf: Vec<u8>,
    /// While nothing has arrived: `head_timeout` on a new connection, `keepalive_timeout`
    /// between requests.
    idle_deadline: Tick,
    /// Once the first byte of a head arrived: `head_timeout` from then (slowloris bound).
    head_deadline: Option<Tick>,
    /// No request was answered on this connection yet: at shutdown it is still waited for
    /// (it may have been taken from the backlog as the listener closed).
    first: bool,
}

impl HeadReader {
    /// A new connection: its first head must be complete within `head_timeout`.
    pub fn first(env: &Env<'_>) -> Self {
        let deadline = env.tick.after(env.config.head_timeout);
        HeadReader {
            buf: Vec::new(),
            idle_deadline: deadline,
            head_deadline: Some(deadline),
            first: true,
        }
    }

    /// A kept-alive connection after a response, with any bytes pipelined behind it.
    pub fn next(leftover: Vec<u8>, env: &Env<'_>) -> Self {
        let head_deadline = (!leftover.is_empty()).then(|| env.tick.after(env.config.head_timeout));
        HeadReader {
            buf: leftover,
            idle_deadline: env.tick.after(env.config.keepalive_timeout),
            head_deadline,
            first: false,
        }
    }

    pub fn deadline(&self) -> Tick {
        match self.head_deadline {
            Some(head_deadline) if !self.buf.is_empty() => head_deadline,
            _ => self.idle_deadline,
        }
    }

    pub fn step(mut self: Box<Self>, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        if env.shutting_down && !self.first {
            // An idle keep-alive connection just goes; a half-sent request learns why. A new
            // connection's first request is answered (within head_timeout).
            if self.buf.is_empty() {
                return Phase::Gone;
            }
            return respond_error(503, "server shutting down", None, wire, ident, env);
        }
        let max_head = env.config.max_head_bytes;
        let mut eof = false;
        if wire.readable() && self.buf.len() <= max_head {
            let mut budget = env.begin_read(wire);
            let read = budget.read_into(&wire.transport, &mut self.buf, max_head + 1);
            let state = env.end_read(budget);
            if let Err(err) = read {
                debug!("{}: read failed: {err}", ident.id);
                return Phase::Gone;
            }
            wire.note_read(state);
            eof = state.eof;
            if state.received && self.head_deadline.is_none() {
                self.head_deadline = Some(env.tick.after(env.config.head_timeout));
            }
        }
        match take_head(&mut self.buf, env.config.max_headers) {
            Ok(ParsedHead::Complete { head_len, .. }) if head_len > max_head => {
                respond_error(431, "request head too large", None, wire, ident, env)
            }
            // The request took the head's bytes; what is left was pipelined behind it.
            Ok(ParsedHead::Complete { request, .. }) => {
                http_request::answer(request, self.buf, wire, ident, env)
            }
            Ok(ParsedHead::Partial) if self.buf.len() > max_head => {
                respond_error(431, "request head too large", None, wire, ident, env)
            }
            Ok(ParsedHead::Partial) if eof && self.buf.is_empty() => Phase::Gone,
            Ok(ParsedHead::Partial) if eof => {
                respond_error(400, "incomplete request head", None, wire, ident, env)
            }
            Ok(ParsedHead::Partial) => Phase::ReadingHead(self),
            Err(err) => respond_error(
                err.status(),
                "malformed request head",
                None,
                wire,
                ident,
                env,
            ),
        }
    }

    pub fn on_deadline(self: Box<Self>, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        if !self.deadline().is_reached(env.tick) {
            return Phase::ReadingHead(self);
        }
        if self.buf.is_empty() {
            debug!("{}: idle, closing", ident.id);
            return Phase::Gone;
        }
        respond_error(
            408,
            "request head not received in time",
            None,
            wire,
            ident,
            env,
        )
    }
}
