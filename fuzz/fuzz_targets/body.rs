//! Arbitrary bytes through the request body decoder, `chunked` and `Content-Length`, fed in
//! two reads (cut where the first byte says).
//!
//! Invariants: nothing panics; the data decoded and where the body ends are the same however
//! the input is cut; no data piece is empty; the data never passes the cap; `End` comes at
//! most once and nothing is decoded after it; every error maps to 400 or 413.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsloop::http::body::{BodyDecoder, BodyError, Piece};
use wsloop::http::BodyFraming;

const MAX_BODY: u64 = 4096;
const MAX_FRAMING: usize = 256;

/// The data and the offset of the body's end (if it ended), or the error.
fn decode(framing: BodyFraming, reads: &[&[u8]]) -> Result<(Vec<u8>, Option<usize>), BodyError> {
    let mut decoder = BodyDecoder::new(framing, MAX_BODY, MAX_FRAMING)?;
    let mut data = Vec::new();
    let mut offset = 0;
    for read in reads {
        let mut at = 0;
        loop {
            let (used, piece) = decoder.decode(&read[at..])?;
            assert!(at + used <= read.len());
            at += used;
            match piece {
                Piece::Data(bytes) => {
                    assert!(!bytes.is_empty(), "an empty data piece");
                    data.extend_from_slice(bytes);
                    assert!(data.len() as u64 <= MAX_BODY, "past the cap");
                }
                Piece::End => return Ok((data, Some(offset + at))),
                Piece::More => {
                    assert_eq!(at, read.len(), "More before the end of the input");
                    break;
                }
            }
        }
        offset += read.len();
    }
    Ok((data, None))
}

fuzz_target!(|input: &[u8]| {
    let Some((&cut, body)) = input.split_first() else {
        return;
    };
    let cut = usize::from(cut).min(body.len());
    let framings = [
        BodyFraming::Chunked,
        BodyFraming::ContentLength(u64::from(cut as u8) * 8),
    ];
    for framing in framings {
        let whole = decode(framing, &[body]);
        let split = decode(framing, &[&body[..cut], &body[cut..]]);
        assert_eq!(whole, split, "{framing:?}: depends on where the input is cut");
        if let Err(err) = whole {
            assert!(matches!(err.status(), 400 | 413), "{err:?}");
        }
    }
});
