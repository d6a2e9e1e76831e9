//! The permessage-deflate parameters one connection agreed, packed in one byte so an open
//! WebSocket grows by nothing: which windows, and whether each direction keeps a context.

use crate::config::DeflateMode;
use crate::http::extensions::DeflateAgreement;

/// Bits 0-2: the server's window bits less 8 (1..=7), 0 when deflate was not negotiated;
/// bits 3-5: the client's window bits less 8; bit 6: the server compresses with the shared
/// compressor (no context kept); bit 7: the server inflates with the shared decompressor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Params(u8);

const SHARED_COMPRESSOR: u8 = 1 << 6;
const SHARED_INFLATER: u8 = 1 << 7;

impl Params {
    /// No permessage-deflate on this connection.
    pub const OFF: Params = Params(0);

    /// What `agreement` means for the server. Without context takeover in a direction, the
    /// loop's shared codec serves it.
    pub fn agreed(agreement: &DeflateAgreement) -> Params {
        let mut bits = (agreement.server_window_bits.clamp(9, 15) - 8)
            | (agreement.client_window_bits.clamp(9, 15) - 8) << 3;
        if agreement.server_no_context_takeover {
            bits |= SHARED_COMPRESSOR;
        }
        if agreement.client_no_context_takeover {
            bits |= SHARED_INFLATER;
        }
        Params(bits)
    }

    /// The policy negotiation applies for `mode` (`None`: never negotiate).
    pub fn policy(
        mode: DeflateMode,
        window_bits: u8,
    ) -> Option<crate::http::extensions::DeflatePolicy> {
        let takeover = match mode {
            DeflateMode::Off => return None,
            DeflateMode::Shared => false,
            DeflateMode::Takeover => true,
        };
        Some(crate::http::extensions::DeflatePolicy {
            takeover,
            window_bits,
        })
    }

    pub fn is_on(self) -> bool {
        self.0 & 0b111 != 0
    }

    /// The window our compressor may use (9..=15).
    pub fn server_window_bits(self) -> u8 {
        (self.0 & 0b111) + 8
    }

    /// The window the client may compress with, so the one we inflate with (9..=15).
    pub fn client_window_bits(self) -> u8 {
        (self.0 >> 3 & 0b111) + 8
    }

    /// Every message we send is compressed alone: the loop's shared compressor serves.
    pub fn shares_compressor(self) -> bool {
        self.0 & SHARED_COMPRESSOR != 0
    }

    /// Every message the client sends is compressed alone: the loop's shared decompressor
    /// serves (a message in one frame; a fragmented one gets an inflater of its own).
    pub fn shares_inflater(self) -> bool {
        self.0 & SHARED_INFLATER != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_holds_every_agreement() {
        assert!(!Params::OFF.is_on());
        for server in 9..=15 {
            for client in 9..=15 {
                for (snct, cnct) in [(false, false), (true, false), (false, true), (true, true)] {
                    let params = Params::agreed(&DeflateAgreement {
                        server_no_context_takeover: snct,
                        client_no_context_takeover: cnct,
                        server_max_window_bits: None,
                        client_max_window_bits: None,
                        server_window_bits: server,
                        client_window_bits: client,
                    });
                    assert!(params.is_on());
                    assert_eq!(params.server_window_bits(), server);
                    assert_eq!(params.client_window_bits(), client);
                    assert_eq!(params.shares_compressor(), snct);
                    assert_eq!(params.shares_inflater(), cnct);
                }
            }
        }
    }
}
