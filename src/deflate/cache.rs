//! Recently compressed messages, so a message sent to many connections (a broadcast through
//! `request_writeable_all`, a `Ring`, `ServerHandle::broadcast`) is compressed once for every
//! recipient that agreed the same window, not once per recipient. Matched by content (a
//! fingerprint of the length and three samples of the bytes first, so a miss costs no
//! comparison of whole messages, then every byte), bounded in bytes, oldest dropped first. Only the shared compressor's
//! output can be reused: a context-takeover compressor's output depends on its history.

use std::collections::VecDeque;

/// One compressed message.
#[derive(Debug)]
struct Entry {
    window_bits: u8,
    fingerprint: u64,
    input: Vec<u8>,
    /// `None`: compressing did not make it smaller, so it goes out as it is.
    output: Option<Vec<u8>>,
}

impl Entry {
    fn bytes(&self) -> usize {
        self.input.len() + self.output.as_ref().map_or(0, Vec::len)
    }
}

/// The loop's cache of compressed messages.
#[derive(Debug)]
pub(crate) struct Cache {
    entries: VecDeque<Entry>,
    bytes: usize,
    max_bytes: usize,
}

impl Cache {
    pub fn new(max_bytes: usize) -> Self {
        Cache {
            entries: VecDeque::new(),
            bytes: 0,
            max_bytes,
        }
    }

    /// What `input` compressed to with a window of `window_bits`, if it was seen lately:
    /// `Some(None)` when it is better sent as it is.
    pub fn find(&self, window_bits: u8, input: &[u8]) -> Option<Option<&[u8]>> {
        let fingerprint = fingerprint(input);
        self.entries
            .iter()
            .rev()
            .find(|entry| {
                entry.fingerprint == fingerprint
                    && entry.window_bits == window_bits
                    && entry.input == input
            })
            .map(|entry| entry.output.as_deref())
    }

    /// Remember `input` and what it compressed to; the oldest entries make room.
    pub fn insert(&mut self, window_bits: u8, input: &[u8], output: Option<&[u8]>) {
        let size = input.len() + output.map_or(0, <[u8]>::len);
        if size > self.max_bytes {
            return;
        }
        while self.bytes + size > self.max_bytes {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old.bytes();
        }
        self.bytes += size;
        self.entries.push_back(Entry {
            window_bits,
            fingerprint: fingerprint(input),
            input: input.to_vec(),
            output: output.map(<[u8]>::to_vec),
        });
    }
}

/// Bytes of each sample a fingerprint mixes in.
const SAMPLE: usize = 32;

/// The length and 32 bytes from the start, the middle and the end, mixed: equal inputs have
/// equal fingerprints, and inputs that differ there (almost all) differ. Costs the same for
/// any length.
fn fingerprint(input: &[u8]) -> u64 {
    let len = input.len();
    let middle = (len / 2).saturating_sub(SAMPLE / 2);
    let samples = [
        &input[..len.min(SAMPLE)],
        &input[middle..len.min(middle + SAMPLE)],
        &input[len.saturating_sub(SAMPLE)..],
    ];
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ len as u64;
    for byte in samples.into_iter().flatten() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_match_by_content_and_window_and_stay_within_bytes() {
        let mut cache = Cache::new(100);
        cache.insert(15, b"hello hello", Some(b"xx"));
        cache.insert(15, b"incompressible", None);
        assert_eq!(cache.find(15, b"hello hello"), Some(Some(&b"xx"[..])));
        assert_eq!(cache.find(15, b"incompressible"), Some(None));
        assert_eq!(cache.find(9, b"hello hello"), None);
        assert_eq!(cache.find(15, b"hello hellO"), None);
        cache.insert(15, &[1; 90], Some(&[2; 5]));
        assert_eq!(cache.find(15, b"hello hello"), None, "evicted");
        assert!(cache.bytes <= 100);
        cache.insert(15, &[3; 200], None);
        assert_eq!(cache.find(15, &[3; 200]), None, "too big to keep");
        assert_eq!(Cache::new(0).find(15, b""), None);
        // Same samples, different bytes elsewhere: the fingerprint matches, the bytes do not.
        let mut cache = Cache::new(10_000);
        let mut long = vec![b'a'; 1000];
        cache.insert(15, &long, None);
        assert_eq!(cache.find(15, &long), Some(None));
        long[100] = b'b';
        assert_eq!(fingerprint(&long), fingerprint(&vec![b'a'; 1000]));
        assert_eq!(cache.find(15, &long), None);
    }
}
