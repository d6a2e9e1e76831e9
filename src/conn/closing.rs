//! CLOSING: finish the close handshake (or skip it after a protocol failure), flush what is
//! queued, and close — all bounded by `close_timeout`. The server closes the TCP connection
//! first, as RFC 6455 §7.1.1 asks. Once both close frames were exchanged (or the peer's FIN
//! came) the socket is simply closed, which sends the FIN itself; our last bytes (the close
//! frame) are written to leave with it, in one segment. Where the peer may still be sending
//! (an HTTP connection, a protocol error) FIN goes first and the connection lingers until the
//! peer's, so our last bytes are read before any reset.

use super::incoming::ReadPass;
use super::websocket::WsSession;
use super::{Env, Ident, Phase, Wire};
use crate::net;
use crate::tick::Tick;
use log::debug;
use tungstenite::protocol::frame::coding::CloseCode;

/// Where the close stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseState {
    /// Our close frame is queued; reading frames until the peer's close answers it.
    AwaitingReply,
    /// Sending what is queued; then `then`.
    Flushing { then: AfterFin },
    /// FIN sent; reading and discarding until the peer's FIN.
    Lingering,
}

/// What follows once everything queued is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterFin {
    /// Both close frames were exchanged (or the peer's FIN already came): nothing will
    /// follow from the peer, so the connection is closed (which sends the FIN). Bytes after
    /// the peer's close frame would break RFC 6455 §5.5.1, so the reset they would cause is
    /// the peer's own doing.
    Done,
    /// Send FIN and wait for the peer's, so it reads our last bytes before any reset.
    AwaitPeerFin,
}

/// A connection on its way out. A WebSocket keeps its session until `Closed` is delivered.
pub(crate) struct Closing {
    ws: Option<WsSession>,
    /// The code `Closed` reports once the handshake is done (`None`: 1006).
    code: Option<CloseCode>,
    state: CloseState,
    deadline: Tick,
}

impl Closing {
    /// We sent a close frame with `code`: wait for the peer's, then flush, FIN, and go.
    pub fn handshake(ws: WsSession, code: CloseCode, env: &Env<'_>) -> Self {
        Self::new(Some(ws), Some(code), CloseState::AwaitingReply, env)
    }

    /// We answered the peer's close frame: flush, FIN, and go.
    pub fn answered(ws: WsSession, code: CloseCode, env: &Env<'_>) -> Self {
        let state = CloseState::Flushing {
            then: AfterFin::Done,
        };
        Self::new(Some(ws), Some(code), state, env)
    }

    /// Our last close frame is queued and nothing more will be parsed (the peer broke the
    /// protocol): flush, FIN, wait for the peer's FIN.
    pub fn done_reading(ws: WsSession, code: CloseCode, env: &Env<'_>) -> Self {
        Self::new(Some(ws), Some(code), Self::linger_after_flush(), env)
    }

    /// An HTTP connection that is done: flush, FIN, wait for the peer's FIN.
    pub fn lingering(env: &Env<'_>) -> Self {
        Self::new(None, None, Self::linger_after_flush(), env)
    }

    fn linger_after_flush() -> CloseState {
        CloseState::Flushing {
            then: AfterFin::AwaitPeerFin,
        }
    }

    fn new(
        ws: Option<WsSession>,
        code: Option<CloseCode>,
        state: CloseState,
        env: &Env<'_>,
    ) -> Self {
        Closing {
            ws,
            code,
            state,
            deadline: env.tick.after(env.config.close_timeout),
        }
    }

    pub fn deadline(&self) -> Tick {
        self.deadline
    }

    pub fn incoming_held(&self) -> usize {
        self.ws.as_ref().map_or(0, WsSession::incoming_held)
    }

    pub fn step(mut self: Box<Self>, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> Phase {
        let peer_fin = match self.read(wire, env) {
            Ok(peer_fin) => peer_fin,
            Err(err) => {
                debug!("{id} read failed while closing: {err}");
                return (*self).finish(wire, id, env);
            }
        };
        if peer_fin {
            match self.state {
                // The peer is gone: no reply will come, and no one waits for our FIN.
                CloseState::AwaitingReply | CloseState::Lingering => {
                    return (*self).finish(wire, id, env)
                }
                CloseState::Flushing { .. } => {
                    self.state = CloseState::Flushing {
                        then: AfterFin::Done,
                    }
                }
            }
        }
        if let CloseState::Flushing { then } = self.state {
            let flushed = match then {
                AfterFin::Done => wire.flush_last(),
                AfterFin::AwaitPeerFin => wire.flush(),
            };
            match flushed {
                Ok(true) if then == AfterFin::Done => {
                    // One system call fewer than shutdown + close: closing sends the FIN.
                    wire.transport.finish_sending();
                    return (*self).finish(wire, id, env);
                }
                Ok(true) => {
                    net::shutdown_write(&wire.transport);
                    self.state = CloseState::Lingering;
                }
                Ok(false) => {}
                Err(err) => {
                    debug!("{id} write failed while closing: {err}");
                    return (*self).finish(wire, id, env);
                }
            }
        } else if let Err(err) = wire.flush() {
            debug!("{id} write failed while closing: {err}");
            return (*self).finish(wire, id, env);
        }
        Phase::Closing(self)
    }

    /// Read what the state wants: frames until the peer's close, or anything until its FIN.
    /// True if the peer's FIN arrived.
    fn read(&mut self, wire: &mut Wire, env: &mut Env<'_>) -> std::io::Result<bool> {
        if !wire.readable() {
            return Ok(false);
        }
        match (self.state, self.ws.as_mut()) {
            (CloseState::AwaitingReply, Some(ws)) => {
                let mut pass = ReadPass::begin(wire, env);
                let replied = ws.read_close_reply(&mut pass, wire, env);
                let (state, _) = pass.end(ws.reader_mut(), wire, env);
                if replied {
                    self.state = CloseState::Flushing {
                        then: AfterFin::Done,
                    };
                }
                Ok(state.eof)
            }
            (CloseState::Flushing { .. } | CloseState::Lingering, _) | (_, None) => {
                let mut budget = env.begin_read(wire);
                let discarded = budget.discard(&wire.transport);
                let state = env.end_read(budget);
                discarded?;
                wire.note_read(state);
                Ok(state.eof)
            }
        }
    }

    pub fn on_deadline(self: Box<Self>, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> Phase {
        if !self.deadline.is_reached(env.tick) {
            return Phase::Closing(self);
        }
        debug!("{id} close_timeout passed; dropping");
        (*self).finish(wire, id, env)
    }

    /// Deliver `Closed`. A close we sent that was never answered reports 1006, as RFC 6455
    /// §7.1.5 has it: no close frame was received, so the handshake did not happen.
    pub fn finish(self, wire: &mut Wire, id: Ident, env: &mut Env<'_>) -> Phase {
        let Closing {
            ws, code, state, ..
        } = self;
        let code = if state == CloseState::AwaitingReply {
            None
        } else {
            code
        };
        match ws {
            Some(ws) => ws.finish(code, wire, id, env),
            None => Phase::Gone,
        }
    }
}
