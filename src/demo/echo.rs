//! `echo`: every message goes back unchanged.

use super::{pace, resume_after_catch_up};
use crate::{Context, Outcome, Protocol, Reason};

/// Sends every text and binary message back as it came.
#[derive(Debug, Default, Clone, Copy)]
pub struct Echo;

impl Protocol for Echo {
    type Session = ();

    fn name(&self) -> &str {
        "echo"
    }

    fn new_session(&mut self) {}

    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        match reason {
            Reason::Receive { message, .. } => {
                let sent = cx.send(message);
                pace(cx, sent);
            }
            Reason::ServerWriteable { .. } => resume_after_catch_up(cx),
            _ => {}
        }
        Outcome::Continue
    }
}
