//! permessage-deflate in a build without the cargo feature `deflate` (it replaces
//! `src/deflate/`, with the same API): negotiation never agrees ([`Params::policy`] is always
//! `None`, and `Config::validate` refuses any mode but off), so every connection's
//! [`Params`] is [`Params::OFF`], a frame with RSV1 is a protocol error, and nothing is ever
//! compressed. The codec types hold nothing; an inflate that could never be reached refuses.

use crate::config::DeflateMode;
use crate::http::extensions::{DeflateAgreement, DeflatePolicy};

/// The RSV1 bit of a frame's first byte: "this message is compressed" (RFC 7692 §6).
pub(crate) const RSV1: u8 = 0x40;

/// What a connection agreed: always nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Params;

impl Params {
    /// No permessage-deflate on this connection (the only value).
    pub const OFF: Params = Params;

    /// Never called with an agreement (none is ever made): off.
    pub fn agreed(_agreement: &DeflateAgreement) -> Params {
        Params
    }

    /// Never negotiate, whatever the mode.
    pub fn policy(_mode: DeflateMode, _window_bits: u8) -> Option<DeflatePolicy> {
        None
    }

    pub fn is_on(self) -> bool {
        false
    }

    pub fn shares_compressor(self) -> bool {
        true
    }

    pub fn shares_inflater(self) -> bool {
        true
    }
}

/// Why an inflate stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// The output would pass the cap.
    #[expect(
        dead_code,
        reason = "the frame reader matches it; nothing here makes it"
    )]
    TooBig,
    /// Not a valid deflate stream: what every inflate answers, here.
    Corrupt,
}

/// No compressor: nothing is compressed.
#[derive(Debug, Default)]
pub(crate) struct Deflater;

/// No decompressor: every input is refused as corrupt (unreachable, as RSV1 is refused).
#[derive(Debug, Default)]
pub(crate) struct Inflater;

impl Inflater {
    pub fn inflate(
        &mut self,
        _input: &[u8],
        _last: bool,
        _out: &mut Vec<u8>,
        _cap: usize,
    ) -> Result<(), InflateError> {
        Err(InflateError::Corrupt)
    }

    pub fn reset(&mut self) {}
}

/// A connection's contexts: none.
#[derive(Debug, Default)]
pub(crate) struct OwnContexts {
    deflater: Deflater,
    inflater: Inflater,
}

impl OwnContexts {
    pub fn is_empty(&self) -> bool {
        true
    }

    pub fn incoming_bytes(&self) -> usize {
        0
    }

    pub fn deflater(&mut self, _params: Params) -> &mut Deflater {
        &mut self.deflater
    }

    pub fn inflater(&mut self, _params: Params) -> &mut Inflater {
        &mut self.inflater
    }

    pub fn end_message(&mut self) {}
}

/// The loop's shared codec: none.
#[derive(Debug, Default)]
pub(crate) struct SharedDeflate {
    inflater: Inflater,
}

impl SharedDeflate {
    pub fn new(_cache_bytes: usize) -> Self {
        SharedDeflate::default()
    }

    pub fn inflater(&mut self) -> &mut Inflater {
        &mut self.inflater
    }

    /// Every message goes out as it is.
    pub fn compress(
        &mut self,
        _params: Params,
        _own: Option<&mut Deflater>,
        _input: &[u8],
    ) -> Option<&[u8]> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_ever_negotiated_compressed_or_inflated() {
        for mode in [DeflateMode::Off, DeflateMode::Shared, DeflateMode::Takeover] {
            assert_eq!(Params::policy(mode, 15), None);
        }
        assert!(!Params::OFF.is_on());
        let mut shared = SharedDeflate::new(1 << 20);
        assert_eq!(shared.compress(Params::OFF, None, &[b'a'; 4096]), None);
        let mut out = Vec::new();
        assert_eq!(
            shared.inflater().inflate(&[0; 8], true, &mut out, 1 << 20),
            Err(InflateError::Corrupt)
        );
        assert!(out.is_empty());
    }
}
