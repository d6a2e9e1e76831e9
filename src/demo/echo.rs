//! `echo`: every message goes back unchanged.

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
        if let Reason::Receive { message, .. } = reason {
            // A full queue closes the connection with 1008 by itself; nothing else to do.
            let _ = cx.send(message);
        }
        Outcome::Continue
    }
}
