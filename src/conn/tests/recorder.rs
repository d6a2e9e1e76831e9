//! The protocol the state-machine tests talk to: it records the reasons it is given, answers
//! a text message with `re: <text>`, closes with 1000 "bye" on `close`, and on `flood` sends
//! binary messages until the outgoing cap refuses one; on `fill` it tries `send_text_with`
//! four ways (bytes that are not UTF-8, a withdrawn fill, one byte short, then `fillé`:
//! UTF-8 that is not ASCII).

use crate::protocol::{Context, Message, Outcome, Protocol, Reason, SendError};
use std::cell::RefCell;
use std::rc::Rc;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Bytes;

/// Payload of each message `flood` sends.
pub(super) const FLOOD_MESSAGE_BYTES: usize = 16 * 1024;

/// One reason as the protocol saw it (close codes as numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seen {
    Established,
    Receive(Message),
    Pong(Bytes),
    PeerClose(Option<u16>),
    Closed(u16),
    /// `fill`: how the three bad `send_text_with` calls were refused.
    FillRefused(Vec<SendError>),
    /// `flood` queued `sent` messages, then a send failed with `error`.
    Flooded {
        sent: usize,
        error: SendError,
    },
}

/// What the recorder saw, shared with the test.
pub(super) type Log = Rc<RefCell<Vec<Seen>>>;

pub(super) struct Recorder {
    log: Log,
}

impl Recorder {
    /// A recorder and the log the test reads.
    pub fn new() -> (Self, Log) {
        let log = Log::default();
        (Recorder { log: log.clone() }, log)
    }

    fn receive(&mut self, cx: &mut Context<'_>, message: Message) -> Outcome {
        self.log.borrow_mut().push(Seen::Receive(message.clone()));
        let Message::Text(text) = message else {
            return Outcome::Continue;
        };
        match text.as_str() {
            "close" => return Outcome::close(CloseCode::Normal, "bye"),
            "flood" => {
                let chunk = [0u8; FLOOD_MESSAGE_BYTES];
                let mut sent = 0;
                let error = loop {
                    match cx.send_binary(chunk) {
                        Ok(_) => sent += 1,
                        Err(error) => break error,
                    }
                };
                self.log.borrow_mut().push(Seen::Flooded { sent, error });
            }
            "fill" => {
                let refused = [
                    cx.send_text_with(2, |slot| {
                        slot.extend_from_slice(&[b'a', 0xff]);
                        true
                    }),
                    cx.send_text_with(4, |_| false),
                    cx.send_text_with(4, |slot| {
                        slot.extend_from_slice(b"abc");
                        true
                    }),
                ];
                let refused = refused.into_iter().filter_map(Result::err).collect();
                self.log.borrow_mut().push(Seen::FillRefused(refused));
                cx.send_text_with(6, |slot| {
                    slot.extend_from_slice("fillé".as_bytes());
                    true
                })
                .expect("a reply fits the queue");
            }
            text => {
                cx.send_text(format!("re: {text}"))
                    .expect("a reply fits the queue");
            }
        }
        Outcome::Continue
    }
}

impl Protocol for Recorder {
    type Session = ();

    fn name(&self) -> &str {
        "recorder"
    }

    fn new_session(&mut self) {}

    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        let seen = match reason {
            Reason::Receive { message, .. } => return self.receive(cx, message),
            Reason::Established { .. } => Seen::Established,
            Reason::ReceivePong { payload, .. } => Seen::Pong(payload),
            Reason::PeerInitiatedClose { code, .. } => Seen::PeerClose(code.map(u16::from)),
            Reason::Closed { code, .. } => Seen::Closed(code.into()),
            _ => return Outcome::Continue,
        };
        self.log.borrow_mut().push(seen);
        Outcome::Continue
    }
}
