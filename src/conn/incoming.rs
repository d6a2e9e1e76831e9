//! Where an open WebSocket's input comes from: tungstenite's whole messages (the default), or
//! frame by frame for protocols that stream. Both report the same [`Incoming`] items and the
//! same three kinds of trouble, so the OPEN and CLOSING phases read without caring which.

use super::frame_stream::{FrameStream, StreamItem, Violation};
use super::Wire;
use crate::config::Config;
use crate::net::{would_block, ReadBudget, Transport};
use crate::protocol::{Fragment, Message};
use tungstenite::error::{Error as WsError, ProtocolError};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::WebSocketContext;
use tungstenite::Bytes;

/// Bytes asked of the socket at least, when a frame needs more.
const MIN_READ_BYTES: usize = 4096;

/// Something the peer sent, ready for the protocol.
#[derive(Debug)]
pub(crate) enum Incoming {
    Message(Message),
    Fragment(Fragment),
    Pong(Bytes),
    Close(Option<CloseFrame>),
}

/// Why reading stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Nothing more until the socket is readable again (or the budget refills).
    Blocked,
    /// The connection ended without (the rest of) a close handshake.
    Gone(String),
    /// The peer broke the protocol: close with this code.
    Violation(CloseCode, String),
}

/// The input side of an open WebSocket.
pub(crate) enum Reader {
    /// tungstenite reassembles messages and answers pings and closes itself.
    Whole,
    /// Our frame reader; pings and closes are answered through `ws` by us.
    Frames(FrameStream),
}

impl Reader {
    /// The next item, reading from the socket within `budget` as needed.
    pub fn next(
        &mut self,
        ws: &mut WebSocketContext,
        wire: &mut Wire,
        budget: &mut ReadBudget,
        config: &Config,
    ) -> Result<Incoming, ReadError> {
        match self {
            Reader::Whole => next_message(ws, wire, budget),
            Reader::Frames(frames) => next_frame(frames, ws, wire, budget, config),
        }
    }

    /// Queue the answer to the peer's close frame if tungstenite does not do it itself.
    /// Returns true when the handshake is then complete (nothing more to read).
    pub fn answer_close(
        &self,
        ws: &mut WebSocketContext,
        wire: &mut Wire,
        frame: Option<&CloseFrame>,
    ) -> bool {
        match self {
            Reader::Whole => false,
            Reader::Frames(_) => {
                let echo = frame.map(|frame| CloseFrame {
                    code: frame.code,
                    reason: Default::default(),
                });
                let _ = ws.close(&mut Transport::queue_only(&mut wire.out), echo);
                true
            }
        }
    }
}

fn next_message(
    ws: &mut WebSocketContext,
    wire: &mut Wire,
    budget: &mut ReadBudget,
) -> Result<Incoming, ReadError> {
    loop {
        let read = ws.read(&mut Transport::new(&wire.socket, budget, &mut wire.out));
        return match read {
            Ok(tungstenite::Message::Text(text)) => Ok(Incoming::Message(Message::Text(text))),
            Ok(tungstenite::Message::Binary(data)) => Ok(Incoming::Message(Message::Binary(data))),
            Ok(tungstenite::Message::Pong(payload)) => Ok(Incoming::Pong(payload)),
            // tungstenite queued the pong itself.
            Ok(tungstenite::Message::Ping(_) | tungstenite::Message::Frame(_)) => continue,
            Ok(tungstenite::Message::Close(frame)) => Ok(Incoming::Close(frame)),
            Err(err) => Err(classify(err)),
        };
    }
}

/// What a tungstenite error means for the connection.
fn classify(err: WsError) -> ReadError {
    let code = match &err {
        WsError::Io(io_err) if would_block(io_err) => return ReadError::Blocked,
        WsError::ConnectionClosed
        | WsError::AlreadyClosed
        | WsError::Io(_)
        | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            return ReadError::Gone(err.to_string())
        }
        WsError::Capacity(_) => CloseCode::Size,
        WsError::Utf8(_) => CloseCode::Invalid,
        WsError::Protocol(_) => CloseCode::Protocol,
        _ => CloseCode::Error,
    };
    ReadError::Violation(code, err.to_string())
}

fn next_frame(
    frames: &mut FrameStream,
    ws: &mut WebSocketContext,
    wire: &mut Wire,
    budget: &mut ReadBudget,
    config: &Config,
) -> Result<Incoming, ReadError> {
    loop {
        match frames.next_item(config.max_frame_bytes, config.max_message_bytes) {
            Ok(Some(StreamItem::Fragment(fragment))) => return Ok(Incoming::Fragment(fragment)),
            Ok(Some(StreamItem::Pong(payload))) => return Ok(Incoming::Pong(payload)),
            Ok(Some(StreamItem::Close(frame))) => return Ok(Incoming::Close(frame)),
            Ok(Some(StreamItem::Ping(payload))) => {
                let pong = tungstenite::Message::Pong(payload);
                let _ = ws.write(&mut Transport::queue_only(&mut wire.out), pong);
            }
            Ok(None) => read_more(frames, wire, budget)?,
            Err(Violation { code, reason }) => {
                return Err(ReadError::Violation(code, reason.to_owned()))
            }
        }
    }
}

/// Read towards the next frame's end; `Blocked` when the socket or the budget has no more.
fn read_more(
    frames: &mut FrameStream,
    wire: &mut Wire,
    budget: &mut ReadBudget,
) -> Result<(), ReadError> {
    if budget.state.drained || budget.state.budget_exhausted {
        return Err(ReadError::Blocked);
    }
    let have = frames.buffer().len();
    let want = frames.wanted().max(have + MIN_READ_BYTES);
    budget
        .read_into(&wire.socket, frames.buffer(), want)
        .map_err(|err| ReadError::Gone(err.to_string()))?;
    if budget.state.eof {
        return Err(ReadError::Gone("peer closed without a close frame".into()));
    }
    if frames.buffer().len() == have {
        return Err(ReadError::Blocked);
    }
    Ok(())
}
