//! A connection's own deflate contexts: in takeover mode the compressor and the inflater that
//! keep their window from message to message (created by the first message that needs each,
//! dropped with the connection); in the shared mode only an inflater for a fragmented
//! compressed message while it arrives (the shared decompressor cannot wait across reads for
//! one connection), dropped with its last frame.

use super::{Deflater, Inflater, Params};

/// What a per-message inflater is charged against the server's incoming budget: zlib-rs
/// allocates a 32 KiB window and its state for every inflater.
pub(crate) const INFLATER_BYTES: usize = 40 << 10;

/// The contexts of one connection; empty in the shared mode between messages.
#[derive(Debug, Default)]
pub(crate) struct OwnContexts {
    deflater: Option<Deflater>,
    inflater: Option<Inflater>,
    /// The inflater serves only the message under way (shared mode).
    inflater_per_message: bool,
}

impl OwnContexts {
    pub fn is_empty(&self) -> bool {
        self.deflater.is_none() && self.inflater.is_none()
    }

    /// Bytes to count against the incoming budget: a per-message inflater (takeover
    /// contexts are the mode's price per connection, measured in `benches/RESULTS.md`).
    pub fn incoming_bytes(&self) -> usize {
        if self.inflater.is_some() && self.inflater_per_message {
            INFLATER_BYTES
        } else {
            0
        }
    }

    /// The connection's compressor (takeover mode), created on first use.
    pub fn deflater(&mut self, params: Params) -> &mut Deflater {
        self.deflater
            .get_or_insert_with(|| Deflater::new(params.server_window_bits()))
    }

    /// The inflater for the message under way, created by its first frame.
    pub fn inflater(&mut self, params: Params) -> &mut Inflater {
        self.inflater_per_message = params.shares_inflater();
        self.inflater
            .get_or_insert_with(|| Inflater::new(params.client_window_bits()))
    }

    /// A message ended (or failed): a per-message inflater goes.
    pub fn end_message(&mut self) {
        if self.inflater_per_message {
            self.inflater = None;
        }
    }
}
