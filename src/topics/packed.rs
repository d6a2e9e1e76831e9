//! Publications of one topic packed for the wire: the frames of a run of consecutive
//! publications copied once into one shared buffer, so each subscriber takes them with one
//! `send` of one buffer (the kernel's cheapest write) instead of a `writev` over every frame.
//! The copy is made once per run, whatever the number of subscribers; a single publication,
//! or a frame too large to be worth copying, is shared as it is.

use super::Publication;
use crate::out_queue::MAX_IO_SLICES;
use crate::stats::Traffic;
use bytes::{Bytes, BytesMut};
use std::io::IoSlice;

/// Most bytes copied into one packed buffer; a frame at least this large is never copied.
const PACK_LIMIT: usize = 64 * 1024;

/// Whole frames of consecutive publications, in order, as one shared buffer.
#[derive(Debug, Clone)]
pub(crate) struct Packed {
    pub bytes: Bytes,
    /// The messages it holds and their payload bytes (for the `sent` counters).
    pub traffic: Traffic,
}

/// `run`'s frames, in order, in as few buffers as [`PACK_LIMIT`] allows.
pub(crate) fn pack(run: &[Publication]) -> Vec<Packed> {
    let mut packed = Vec::new();
    let mut rest = run;
    while let Some((first, _)) = rest.split_first() {
        // The longest prefix that fits in one buffer (at least one publication).
        let mut len = first.frame_bytes().len();
        let mut count = 1;
        while let Some(next) = rest.get(count) {
            let next_len = next.frame_bytes().len();
            if len + next_len > PACK_LIMIT {
                break;
            }
            len += next_len;
            count += 1;
        }
        let (taken, left) = rest.split_at(count);
        packed.push(pack_prefix(taken, len));
        rest = left;
    }
    packed
}

/// The bytes of `packed` as slices for one write (the first `MAX_IO_SLICES` of them; a run
/// longer than that waits in the queue for the rest).
pub(crate) fn slices(packed: &[Packed]) -> Vec<IoSlice<'_>> {
    packed
        .iter()
        .take(MAX_IO_SLICES)
        .map(|frames| IoSlice::new(&frames.bytes))
        .collect()
}

/// One buffer of `taken`'s frames (`len` bytes in all).
fn pack_prefix(taken: &[Publication], len: usize) -> Packed {
    let mut traffic = Traffic::default();
    for publication in taken {
        traffic.count(publication.payload_len());
    }
    let bytes = match taken {
        [one] => one.frame_bytes().clone(),
        _ => {
            let mut bytes = BytesMut::with_capacity(len);
            for publication in taken {
                bytes.extend_from_slice(publication.frame_bytes());
            }
            bytes.freeze()
        }
    };
    Packed { bytes, traffic }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Message;

    fn publication(len: usize) -> Publication {
        Publication::new("t", &Message::Binary(vec![7; len].into()))
    }

    #[test]
    fn runs_are_packed_in_order_within_the_limit() {
        let run: Vec<_> = [10, 20, 30_000, 40_000, 70_000, 5]
            .map(publication)
            .into_iter()
            .collect();
        let packed = pack(&run);
        let counts: Vec<_> = packed.iter().map(|p| p.traffic.messages).collect();
        // 10+20+30,000 fit; 40,000 would pass 64 KiB; 70,000 alone (not copied); then 5.
        assert_eq!(counts, [3, 1, 1, 1]);
        let flat: Vec<u8> = packed.iter().flat_map(|p| p.bytes.to_vec()).collect();
        let expected: Vec<u8> = run.iter().flat_map(|p| p.frame_bytes().to_vec()).collect();
        assert_eq!(flat, expected);
        assert_eq!(packed[0].traffic.bytes, 30_030);
        assert_eq!(
            packed[2].bytes.as_ptr(),
            run[4].frame_bytes().as_ptr(),
            "a large frame is shared, not copied"
        );
        assert!(pack(&[]).is_empty());
    }
}
