//! Text as UTF-8, checked as it arrives: a text frame still arriving is checked up to its
//! last whole character (so invalid text fails at its first bad byte), a fragment's payload is
//! cut at a character boundary (the rest waits for the next fragment), and a whole message is
//! checked once as it becomes `Utf8Bytes`.

use super::checks::INVALID_UTF8;
use super::{Item, Violation};
use crate::frame;
use crate::protocol::Message;
use tungstenite::{Bytes, Utf8Bytes};

/// The checked part of an incomplete text frame.
#[derive(Debug, Default)]
pub(super) struct PartialText {
    /// Payload bytes unmasked in place and checked.
    pub unmasked: usize,
    /// The start of a character cut where the checked part ends.
    pub carry: Vec<u8>,
}

impl PartialText {
    /// Unmask (in place) and check the payload bytes of `arrived` (the frame's payload so
    /// far, still masked past `unmasked`) that came since the last check.
    pub fn check(&mut self, arrived: &mut [u8], mask: [u8; 4]) -> Result<(), Violation> {
        if arrived.len() <= self.unmasked {
            return Ok(());
        }
        let new = &mut arrived[self.unmasked..];
        frame::unmask(new, frame::mask_from(mask, self.unmasked));
        let mut text = std::mem::take(&mut self.carry);
        text.extend_from_slice(new);
        self.unmasked = arrived.len();
        match std::str::from_utf8(&text) {
            Ok(_) => Ok(()),
            Err(err) if err.error_len().is_none() => {
                self.carry = text.split_off(err.valid_up_to());
                Ok(())
            }
            Err(_) => Err(INVALID_UTF8),
        }
    }
}

pub(super) fn whole_message(payload: Bytes, binary: bool) -> Result<Item, Violation> {
    if binary {
        return Ok(Item::Message(Message::Binary(payload)));
    }
    Utf8Bytes::try_from(payload)
        .map(|text| Item::Message(Message::Text(text)))
        .map_err(|_| INVALID_UTF8)
}

/// The valid UTF-8 prefix of carry + `payload`; an incomplete last character waits for the
/// next fragment (an error if this is the last one). No copy unless a character was cut at
/// the previous fragment's end.
pub(super) fn whole_characters(
    carry: &mut Vec<u8>,
    payload: Bytes,
    is_final: bool,
) -> Result<Bytes, Violation> {
    let mut text = if carry.is_empty() {
        payload
    } else {
        let mut joined = std::mem::take(carry);
        joined.extend_from_slice(&payload);
        Bytes::from(joined)
    };
    match std::str::from_utf8(&text) {
        Ok(_) => Ok(text),
        Err(err) if err.error_len().is_none() && !is_final => {
            *carry = text.split_off(err.valid_up_to()).to_vec();
            Ok(text)
        }
        Err(_) => Err(INVALID_UTF8),
    }
}
