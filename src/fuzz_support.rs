//! Entry points for the fuzz targets in `fuzz/`; not part of the API (hidden from the docs).

use crate::conn::frame_stream::{FrameStream, StreamItem};

/// Limits the frame reader is fuzzed with: small, so the size checks are reached.
const FUZZ_MAX_FRAME: usize = 4096;
const FUZZ_MAX_MESSAGE: usize = 8192;

/// Feed `input` to the WebSocket frame reader in two pieces (cut at `split`), as a socket
/// might deliver it, and check its promises: it never panics; every text fragment is valid
/// UTF-8 on its own; fragments come in order (first .. last); no message passes the limit;
/// after a violation nothing more is read.
pub fn frame_reader(input: &[u8], split: usize) {
    let cut = split.min(input.len());
    let mut frames = FrameStream::new(input[..cut].to_vec());
    let mut pieces = [&input[cut..]].into_iter();
    let mut in_message = false;
    let mut message_bytes = 0usize;
    loop {
        match frames.next_item(FUZZ_MAX_FRAME, FUZZ_MAX_MESSAGE) {
            Ok(Some(StreamItem::Fragment(fragment))) => {
                assert_eq!(fragment.first, !in_message, "fragment order");
                if !fragment.binary {
                    assert!(std::str::from_utf8(&fragment.data).is_ok(), "text fragment");
                }
                message_bytes = if fragment.first { 0 } else { message_bytes };
                message_bytes += fragment.data.len();
                assert!(message_bytes <= FUZZ_MAX_MESSAGE, "message limit");
                in_message = !fragment.last;
            }
            Ok(Some(StreamItem::Ping(data) | StreamItem::Pong(data))) => {
                assert!(data.len() <= 125, "control frame size");
            }
            Ok(Some(StreamItem::Close(_))) => {}
            Ok(None) => match pieces.next() {
                Some(piece) => frames.append(piece, 0),
                None => return,
            },
            Err(_) => return,
        }
    }
}
