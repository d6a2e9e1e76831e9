//! The loop's shared codec (what uWebSockets calls the shared compressor): one compressor per
//! window size in use (15 unless a client asked for less) and one decompressor, each created
//! with the first message that needs it and reset after every message, so connections that
//! agreed no context takeover keep no deflate state at all. Compressed messages are cached
//! (see `cache.rs`), so a broadcast is compressed once.

use super::cache::Cache;
use super::{Deflater, Inflater, Params};
use log::error;

/// The output buffer is freed after a message that grew it past this.
const KEPT_OUTPUT_CAPACITY: usize = 256 << 10;

/// The shared compressors, decompressor and cache of one event loop.
#[derive(Debug)]
pub(crate) struct SharedDeflate {
    /// By window bits, 9..=15.
    deflaters: [Option<Deflater>; 7],
    inflater: Option<Inflater>,
    cache: Cache,
    /// The last compressed message.
    out: Vec<u8>,
}

impl SharedDeflate {
    /// No codec yet; `cache_bytes` bounds the cache (`deflate_cache_bytes`).
    pub fn new(cache_bytes: usize) -> Self {
        SharedDeflate {
            deflaters: Default::default(),
            inflater: None,
            cache: Cache::new(cache_bytes),
            out: Vec::new(),
        }
    }

    /// The shared decompressor. Its window (32 KiB) fits any client; the caller resets it
    /// after each message.
    pub fn inflater(&mut self) -> &mut Inflater {
        self.inflater.get_or_insert_with(|| Inflater::new(15))
    }

    /// `input` compressed as one message for a connection that agreed `params`: the payload
    /// to send with RSV1, or `None` to send `input` as it is (the shared compressor found it
    /// incompressible). A connection with context takeover passes its `own` compressor and
    /// always compresses, so both windows stay the same.
    pub fn compress(
        &mut self,
        params: Params,
        own: Option<&mut Deflater>,
        input: &[u8],
    ) -> Option<&[u8]> {
        if self.out.capacity() > KEPT_OUTPUT_CAPACITY {
            self.out = Vec::new();
        }
        self.out.clear();
        if let Some(deflater) = own {
            if let Err(err) = deflater.message(input, &mut self.out) {
                error!("bug: compressing with a connection's context failed: {err}");
                return None;
            }
            return Some(&self.out);
        }
        let bits = params.server_window_bits();
        if let Some(cached) = self.cache.find(bits, input) {
            let cached = cached?;
            self.out.extend_from_slice(cached);
            return Some(&self.out);
        }
        let deflater =
            self.deflaters[usize::from(bits - 9)].get_or_insert_with(|| Deflater::new(bits));
        let result = deflater.message(input, &mut self.out);
        deflater.reset();
        if let Err(err) = result {
            error!("bug: compressing with the shared compressor failed: {err}");
            return None;
        }
        let smaller = self.out.len() < input.len();
        self.cache
            .insert(bits, input, smaller.then_some(self.out.as_slice()));
        smaller.then_some(self.out.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::extensions::DeflateAgreement;

    fn params(shared: bool) -> Params {
        Params::agreed(&DeflateAgreement {
            server_no_context_takeover: shared,
            client_no_context_takeover: shared,
            server_max_window_bits: None,
            client_max_window_bits: None,
            server_window_bits: 15,
            client_window_bits: 15,
        })
    }

    #[test]
    fn shared_messages_stand_alone_and_repeats_come_from_the_cache() {
        let mut codec = SharedDeflate::new(1 << 20);
        let text = "{\"user\":\"ann\",\"text\":\"hello, hello, hello\"}".repeat(40);
        let first = codec
            .compress(params(true), None, text.as_bytes())
            .unwrap()
            .to_vec();
        let again = codec
            .compress(params(true), None, text.as_bytes())
            .unwrap()
            .to_vec();
        assert_eq!(first, again, "no context kept: the same bytes");
        let mut out = Vec::new();
        let inflater = codec.inflater();
        inflater.inflate(&again, true, &mut out, 1 << 20).unwrap();
        inflater.reset();
        assert_eq!(out, text.as_bytes());
        // Random-looking bytes are not worth compressing.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..2000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert_eq!(codec.compress(params(true), None, &noise), None);
    }

    #[test]
    fn a_broadcast_is_compressed_once() {
        let mut codec = SharedDeflate::new(1 << 20);
        let message = "{\"room\":\"lobby\",\"text\":\"everyone gets this\"}".repeat(50);
        let first = codec
            .compress(params(true), None, message.as_bytes())
            .unwrap()
            .to_vec();
        // Drop the compressor: the other recipients' copies must not need it.
        codec.deflaters = Default::default();
        for _ in 0..100 {
            let copy = codec.compress(params(true), None, message.as_bytes());
            assert_eq!(copy, Some(first.as_slice()));
        }
        assert!(
            codec.deflaters.iter().all(Option::is_none),
            "no compressor was made"
        );
    }

    #[test]
    fn takeover_uses_the_connections_own_context() {
        let mut codec = SharedDeflate::new(1 << 20);
        let mut own = Deflater::new(15);
        let text = b"{\"user\":\"ann\",\"text\":\"good morning\"}";
        let first = codec
            .compress(params(false), Some(&mut own), text)
            .unwrap()
            .len();
        let second = codec
            .compress(params(false), Some(&mut own), text)
            .unwrap()
            .len();
        assert!(second < first, "{second} < {first}");
    }
}
