//! The WebSocket frame reader on arbitrary bytes, delivered in two pieces: never panics,
//! text fragments are valid UTF-8, fragments keep their order, messages keep the size limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&split, bytes)) = input.split_first() else {
        return;
    };
    wsloop::fuzz_support::frame_reader(bytes, usize::from(split) * 4);
});
