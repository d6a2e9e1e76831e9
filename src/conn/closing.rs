//! CLOSING: finish the close handshake (or skip it after a protocol failure), flush what is
//! queued, send FIN, and wait for the peer's FIN — all bounded by `close_timeout`. The server
//! closes the TCP connection first, as RFC 6455 §7.1.1 asks.

use super::websocket::WsSession;
use super::{Env, Ident, Phase, Wire};
use crate::net;
use log::debug;
use std::time::Instant;

/// A connection on its way out. A WebSocket keeps its session until `Closed` is delivered.
pub(crate) struct Closing {
    ws: Option<Box<WsSession>>,
    /// Reading frames until the peer's close frame (or our reply) completes the handshake.
    awaiting_handshake: bool,
    /// Both close frames were exchanged: the peer sends nothing more, so once our bytes and
    /// FIN are out there is nothing to linger for.
    handshake_complete: bool,
    /// We sent FIN.
    write_shut: bool,
    /// The peer sent FIN.
    peer_done: bool,
    deadline: Instant,
}

impl Closing {
    /// We sent a close frame: wait for the peer's, then flush, FIN, and go.
    pub fn handshake(ws: Box<WsSession>, env: &Env<'_>) -> Self {
        Self::new(Some(ws), true, env)
    }

    /// We answered the peer's close frame: flush, FIN, and go.
    pub fn answered(ws: Box<WsSession>, env: &Env<'_>) -> Self {
        let mut closing = Self::new(Some(ws), false, env);
        closing.handshake_complete = true;
        closing
    }

    /// Our last close frame is queued and nothing more will be parsed (the peer broke the
    /// protocol, or we answered its close ourselves): flush, FIN, wait for the peer's FIN.
    pub fn done_reading(ws: Box<WsSession>, env: &Env<'_>) -> Self {
        Self::new(Some(ws), false, env)
    }

    /// An HTTP connection that is done: flush, FIN, wait for the peer's FIN.
    pub fn lingering(env: &Env<'_>) -> Self {
        Self::new(None, false, env)
    }

    fn new(ws: Option<Box<WsSession>>, awaiting_handshake: bool, env: &Env<'_>) -> Self {
        Closing {
            ws,
            awaiting_handshake,
            handshake_complete: false,
            write_shut: false,
            peer_done: false,
            deadline: env.now + env.config.close_timeout,
        }
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn step(mut self, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        let mut budget = env.begin_read(wire);
        if self.awaiting_handshake {
            if let Some(ws) = self.ws.as_mut() {
                self.awaiting_handshake = !ws.read_close_reply(wire, &mut budget, env.config);
                self.handshake_complete = !self.awaiting_handshake;
            }
        }
        let mut discarded = Ok(());
        if !self.awaiting_handshake && wire.readable && !self.peer_done {
            discarded = budget.discard(&wire.socket);
        }
        let state = env.end_read(budget);
        if let Err(err) = discarded {
            debug!("{} read failed while closing: {err}", ident.id);
            return self.finish(wire, ident, env);
        }
        wire.note_read(state);
        self.peer_done |= state.eof;
        match wire.flush() {
            Ok(true) if !self.awaiting_handshake && !self.write_shut => {
                net::shutdown_write(&wire.socket);
                self.write_shut = true;
            }
            Ok(_) => {}
            Err(err) => {
                debug!("{} write failed while closing: {err}", ident.id);
                return self.finish(wire, ident, env);
            }
        }
        let nothing_to_wait_for = self.write_shut && self.handshake_complete;
        if nothing_to_wait_for || (self.peer_done && (self.write_shut || self.awaiting_handshake)) {
            return self.finish(wire, ident, env);
        }
        Phase::Closing(self)
    }

    pub fn on_deadline(self, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        if env.now < self.deadline {
            return Phase::Closing(self);
        }
        debug!("{} close_timeout passed; dropping", ident.id);
        self.finish(wire, ident, env)
    }

    pub fn finish(self, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        match self.ws {
            Some(ws) => ws.finish(wire, ident, env),
            None => Phase::Gone,
        }
    }
}
