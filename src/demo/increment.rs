//! `increment`: the libwebsockets test server's dumb-increment protocol (renamed: the
//! tutorial's reverse protocol owns `dumb-increment-protocol` here). Every connection has a
//! counter starting at 0 that is pushed as text every [`PUSH_INTERVAL`]; `reset` sets it back
//! to 0 and `closeme` closes the connection with 1000 "seeya".
//!
//! The push is paced by the loop, as lws's is by `lws_callback_on_writable`: the connection's
//! timer only asks for `ServerWriteable`, and the number is sent there, so a client that stops
//! reading gets no pushes while its outgoing queue is above the soft limit, not a growing queue.

use crate::{CloseCode, Context, Message, Outcome, Protocol, Reason};
use std::time::Duration;

/// Time between two pushes.
pub const PUSH_INTERVAL: Duration = Duration::from_millis(50);

/// The reason sent with the close `closeme` asks for (as the lws test server says).
pub const CLOSE_REASON: &str = "seeya";

/// The counting protocol; see the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Increment;

/// One connection's state.
#[derive(Debug, Default)]
pub struct Counter {
    /// The next number to push.
    next: u64,
    /// The timer fired and the number has not been sent yet.
    due: bool,
}

impl Protocol for Increment {
    type Session = Counter;

    fn name(&self) -> &str {
        "increment"
    }

    fn new_session(&mut self) -> Counter {
        Counter::default()
    }

    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, Counter>) -> Outcome {
        match reason {
            Reason::Established { session } => {
                // The first number (0) goes out at once.
                session.due = true;
                cx.request_writeable();
            }
            Reason::Timer { session } => {
                session.due = true;
                cx.request_writeable();
            }
            // Only here: the loop holds ServerWriteable back while the peer lags.
            Reason::ServerWriteable { session } if session.due => push(cx, session),
            Reason::Receive {
                session,
                message: Message::Text(text),
            } => match text.trim_end_matches(['\r', '\n']) {
                "reset" => session.next = 0,
                "closeme" => return Outcome::close(CloseCode::Normal, CLOSE_REASON),
                _ => {}
            },
            _ => {}
        }
        Outcome::Continue
    }
}

/// Send the counter and schedule the next push. A failed send means the connection is closing.
fn push(cx: &mut Context<'_>, session: &mut Counter) {
    if cx.send_text(session.next.to_string()).is_ok() {
        session.next += 1;
        session.due = false;
        cx.set_timer(PUSH_INTERVAL);
    }
}
