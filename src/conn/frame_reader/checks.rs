//! What the frame reader refuses, and the close code and reason it answers with: RFC 6455's
//! rules for a client's frame header (reserved bits, masking, opcodes, control frames), the
//! size limits checked from the header before a payload is buffered, RSV1 (permessage-deflate)
//! where RFC 7692 allows it, and close payloads.

use super::Limits;
use super::MessageState;
use crate::frame::{Header, MAX_CONTROL_PAYLOAD, OP_BINARY, OP_CLOSE, OP_CONTINUATION};
use crate::frame::{OP_PING, OP_PONG, OP_TEXT};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;

/// Why the peer's frames are refused, as the close code and reason to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Violation {
    pub code: CloseCode,
    pub reason: &'static str,
}

pub(super) const fn protocol_error(reason: &'static str) -> Violation {
    Violation {
        code: CloseCode::Protocol,
        reason,
    }
}

pub(super) const INVALID_UTF8: Violation = Violation {
    code: CloseCode::Invalid,
    reason: "invalid UTF-8 in text",
};

pub(super) const MESSAGE_TOO_BIG: Violation = Violation {
    code: CloseCode::Size,
    reason: "message too big",
};

/// RSV1: the first frame of a compressed message (RFC 7692 §6).
pub(super) const RSV1: u8 = 0b100;

/// Corrupt deflate data: 1007 in a text message, 1002 in a binary one.
pub(super) fn corrupt(binary: bool) -> Violation {
    Violation {
        code: if binary {
            CloseCode::Protocol
        } else {
            CloseCode::Invalid
        },
        reason: "invalid compressed data",
    }
}

pub(super) const SERVER_BUFFERS_FULL: Violation = Violation {
    code: CloseCode::Size,
    reason: "server incoming buffer limit reached",
};

pub(super) fn check_header(
    header: &Header,
    message: Option<&MessageState>,
    limits: Limits,
    deflate: bool,
) -> Result<(), Violation> {
    if header.rsv & !RSV1 != 0 {
        return Err(protocol_error("reserved bits set"));
    }
    if header.mask.is_none() {
        return Err(protocol_error("unmasked frame from a client"));
    }
    if header.payload_len >> 63 != 0 {
        return Err(protocol_error("frame length with its top bit set"));
    }
    match header.opcode {
        OP_CONTINUATION | OP_TEXT | OP_BINARY => {}
        OP_CLOSE | OP_PING | OP_PONG => {}
        _ => return Err(protocol_error("reserved opcode")),
    }
    if header.rsv & RSV1 != 0 {
        if !deflate {
            return Err(protocol_error("RSV1 set without permessage-deflate"));
        }
        if header.is_control() {
            return Err(protocol_error("RSV1 set on a control frame"));
        }
        if header.opcode == OP_CONTINUATION {
            return Err(protocol_error("RSV1 set on a continuation frame"));
        }
    }
    if header.is_control() {
        if !header.fin {
            return Err(protocol_error("fragmented control frame"));
        }
        if header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(protocol_error("control frame too long"));
        }
        return Ok(());
    }
    if header.payload_len > limits.max_frame_bytes as u64 {
        return Err(Violation {
            code: CloseCode::Size,
            reason: "frame too big",
        });
    }
    // Refused before the payload is buffered.
    let so_far = message.map_or(0, |message| message.bytes) as u64;
    if so_far + header.payload_len > limits.max_message_bytes as u64 {
        return Err(MESSAGE_TOO_BIG);
    }
    Ok(())
}

/// A close frame's payload: nothing, or a valid code and a UTF-8 reason.
pub(super) fn parse_close(payload: &[u8]) -> Result<Option<CloseFrame>, Violation> {
    match payload {
        [] => Ok(None),
        [_] => Err(protocol_error("one-byte close payload")),
        [high, low, reason @ ..] => {
            let code = CloseCode::from(u16::from_be_bytes([*high, *low]));
            if !code.is_allowed() {
                return Err(protocol_error("invalid close code"));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| INVALID_UTF8)?;
            Ok(Some(CloseFrame {
                code,
                reason: reason.into(),
            }))
        }
    }
}
