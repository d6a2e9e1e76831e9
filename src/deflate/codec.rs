//! The zlib calls, in RFC 7692's framing: a message is compressed as raw deflate ending in a
//! sync flush whose 4-byte tail (`00 00 ff ff`) is removed (§7.2.1); inflating appends that
//! tail back (§7.2.2). Inflated output is capped while it is produced, so a zip bomb costs at
//! most the cap. Backend: `flate2` over the pure-Rust `zlib-rs` (window bits and sync flush).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// zlib's compression level. On JSON-like text, level 1 (zlib-rs' quick strategy: static
/// Huffman codes) takes 6 us per 1 KiB message and 37 us per 16 KiB, against 13 and 92 us for
/// level 2 and 15 and 227 us for the default 6, for output 20-30 % larger than level 2's
/// (ratios 0.39 and 0.26 against 0.32 and 0.20): the CPU a server spends per message matters
/// more here (`benches/RESULTS.md`).
const LEVEL: u32 = 1;

/// The tail a sync flush ends with, removed from every compressed message.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Most output produced per inflate call: the output buffer grows in steps up to the cap.
const FIRST_OUTPUT_STEP: usize = 4096;

/// A raw-deflate compressor with its own LZ77 window.
pub(crate) struct Deflater {
    inner: Compress,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater").finish_non_exhaustive()
    }
}

impl Deflater {
    /// A compressor whose window is 2^`window_bits` bytes (9..=15).
    pub fn new(window_bits: u8) -> Self {
        Deflater {
            inner: Compress::new_with_window_bits(Compression::new(LEVEL), false, window_bits),
        }
    }

    /// Append `input`, compressed as one message's payload, to `out`. The window keeps it
    /// (context takeover) until [`reset`](Self::reset).
    pub fn message(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), flate2::CompressError> {
        let start = out.len();
        let in_before = self.inner.total_in();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(64 + input.len() / 4);
            }
            let consumed = (self.inner.total_in() - in_before) as usize;
            self.inner
                .compress_vec(&input[consumed..], out, FlushCompress::Sync)?;
            let consumed = (self.inner.total_in() - in_before) as usize;
            // A sync flush is complete once it returns with output space left.
            if consumed == input.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out[start..].ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        Ok(())
    }

    /// Forget every message (no context takeover).
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}

/// Why an inflate stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// The output would pass the cap.
    TooBig,
    /// Not a valid deflate stream.
    Corrupt,
}

/// A raw-deflate decompressor with its own window.
pub(crate) struct Inflater {
    inner: Decompress,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").finish_non_exhaustive()
    }
}

impl Inflater {
    /// A decompressor for streams whose window is at most 2^`window_bits` bytes (9..=15).
    pub fn new(window_bits: u8) -> Self {
        Inflater {
            inner: Decompress::new_with_window_bits(false, window_bits),
        }
    }

    /// Inflate `input` (one frame's payload; `last` for a message's final frame, which gets
    /// the removed tail back) and append the output to `out`, which never grows past
    /// `cap` bytes: `TooBig` as soon as more would come.
    pub fn inflate(
        &mut self,
        input: &[u8],
        last: bool,
        out: &mut Vec<u8>,
        cap: usize,
    ) -> Result<(), InflateError> {
        self.feed(input, out, cap)?;
        if last {
            self.feed(&TAIL, out, cap)?;
        }
        Ok(())
    }

    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<(), InflateError> {
        let in_before = self.inner.total_in();
        loop {
            if out.len() == out.capacity() {
                // One byte past the cap tells "more would come" from "exactly the cap".
                let room = (cap + 1).saturating_sub(out.len());
                if room == 0 {
                    return Err(InflateError::TooBig);
                }
                let step = out.capacity().max(FIRST_OUTPUT_STEP).max(input.len() * 2);
                out.reserve_exact(step.min(room));
            }
            let consumed = (self.inner.total_in() - in_before) as usize;
            let before = out.len();
            let status = self
                .inner
                .decompress_vec(&input[consumed..], out, FlushDecompress::Sync)
                .map_err(|_| InflateError::Corrupt)?;
            if out.len() > cap {
                return Err(InflateError::TooBig);
            }
            let consumed = (self.inner.total_in() - in_before) as usize;
            match status {
                // A final block ended the stream: what follows it is ignored.
                Status::StreamEnd => {
                    self.reset();
                    return Ok(());
                }
                _ if consumed == input.len() && out.len() < out.capacity() => return Ok(()),
                Status::BufError if out.len() == before && out.len() < out.capacity() => {
                    return Ok(())
                }
                _ => {}
            }
        }
    }

    /// Forget the window (no context takeover, or after an error).
    pub fn reset(&mut self) {
        self.inner.reset(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| {
                format!(
                    "{{\"id\":{i},\"user\":\"u{}\",\"text\":\"hello there\"}}",
                    i % 7
                )
            })
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn messages_round_trip_without_their_tail() {
        let mut deflater = Deflater::new(15);
        let mut inflater = Inflater::new(15);
        for input in [json(1), json(300), Vec::new(), vec![0; 100_000]] {
            let mut compressed = Vec::new();
            deflater.message(&input, &mut compressed).unwrap();
            assert!(!compressed.ends_with(&TAIL));
            let mut out = Vec::new();
            inflater
                .inflate(&compressed, true, &mut out, usize::MAX / 2)
                .unwrap();
            assert_eq!(out, input);
            deflater.reset();
            inflater.reset();
        }
    }

    #[test]
    fn takeover_makes_repeats_small() {
        let mut deflater = Deflater::new(11);
        let mut inflater = Inflater::new(11);
        let input = json(3);
        let (mut first, mut second) = (Vec::new(), Vec::new());
        deflater.message(&input, &mut first).unwrap();
        deflater.message(&input, &mut second).unwrap();
        assert!(
            second.len() * 3 < first.len(),
            "{} vs {}",
            second.len(),
            first.len()
        );
        for compressed in [first, second] {
            let mut out = Vec::new();
            inflater
                .inflate(&compressed, true, &mut out, 1 << 20)
                .unwrap();
            assert_eq!(out, input);
        }
    }

    #[test]
    fn the_cap_holds_while_inflating() {
        let mut deflater = Deflater::new(15);
        let mut bomb = Vec::new();
        deflater.message(&vec![0; 8 << 20], &mut bomb).unwrap();
        assert!(bomb.len() < 128 << 10, "{}", bomb.len());
        let mut out = Vec::new();
        let mut inflater = Inflater::new(15);
        assert_eq!(
            inflater.inflate(&bomb, true, &mut out, 1 << 20),
            Err(InflateError::TooBig)
        );
        assert!(out.capacity() <= (1 << 20) + 1, "{}", out.capacity());
        // Exactly the cap is fine.
        let mut exact = Vec::new();
        inflater.reset();
        deflater.reset();
        let mut small = Vec::new();
        deflater.message(&[7; 5000], &mut small).unwrap();
        inflater.inflate(&small, true, &mut exact, 5000).unwrap();
        assert_eq!(exact.len(), 5000);
    }

    #[test]
    fn garbage_is_corrupt() {
        let mut out = Vec::new();
        assert_eq!(
            Inflater::new(15).inflate(&[0xff; 32], true, &mut out, 1 << 20),
            Err(InflateError::Corrupt)
        );
    }

    #[test]
    fn a_fragmented_message_inflates_piece_by_piece() {
        let input = json(200);
        let mut compressed = Vec::new();
        Deflater::new(15).message(&input, &mut compressed).unwrap();
        let mut inflater = Inflater::new(15);
        let mut out = Vec::new();
        let pieces: Vec<&[u8]> = compressed.chunks(7).collect();
        for (index, piece) in pieces.iter().enumerate() {
            inflater
                .inflate(piece, index + 1 == pieces.len(), &mut out, 1 << 20)
                .unwrap();
        }
        assert_eq!(out, input);
    }
}
