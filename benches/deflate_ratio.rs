//! The compression ratio a running wsloop achieves on a sample of small JSON chat messages:
//! `cargo bench --bench deflate_ratio -- ADDR [COUNT]` sends COUNT distinct messages
//! (60-200 bytes each, chat-like JSON) to the `echo` protocol with permessage-deflate
//! offered, inflates every reply (keeping the window when the server keeps its own) and
//! checks it, then prints the bytes the server's replies took on the wire against their
//! size. Run it against `--deflate shared` and `--deflate takeover`, each with
//! `--deflate-min-bytes 0` (chat messages are below the 1 KiB default).

use flate2::{Decompress, FlushDecompress};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];
const WORDS: [&str; 24] = [
    "hello", "the", "build", "is", "green", "again", "meeting", "at", "noon", "see", "you",
    "there", "thanks", "shipped", "today", "ok", "lunch", "review", "please", "merged", "great",
    "tomorrow", "deploy", "done",
];

/// The `n`th chat message: distinct ids, timestamps and texts, the same shape throughout.
fn message(n: u32, x: &mut u32) -> String {
    let mut next = || {
        *x ^= *x << 13;
        *x ^= *x >> 17;
        *x ^= *x << 5;
        *x
    };
    let words = 2 + next() as usize % 14;
    let text: Vec<&str> = (0..words)
        .map(|_| WORDS[next() as usize % WORDS.len()])
        .collect();
    format!(
        "{{\"type\":\"message\",\"id\":{},\"ts\":{},\"room\":\"general\",\"user\":\"{}\",\"text\":\"{}\"}}",
        10_000 + n,
        1_767_225_600_000u64 + u64::from(n) * 1_500 + u64::from(next() % 1_000),
        USERS[next() as usize % USERS.len()],
        text.join(" ")
    )
}

fn masked_text_frame(payload: &[u8]) -> Vec<u8> {
    let mask = [0x11, 0x22, 0x33, 0x44];
    let mut frame = vec![0x81];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// One server frame: (RSV1, payload).
fn read_frame(stream: &mut TcpStream) -> (bool, Vec<u8>) {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).expect("frame header");
    let len = match head[1] & 0x7f {
        126 => {
            let mut ext = [0u8; 2];
            stream.read_exact(&mut ext).unwrap();
            usize::from(u16::from_be_bytes(ext))
        }
        127 => {
            let mut ext = [0u8; 8];
            stream.read_exact(&mut ext).unwrap();
            u64::from_be_bytes(ext) as usize
        }
        len => usize::from(len),
    };
    let mut payload = vec![0; len];
    stream.read_exact(&mut payload).unwrap();
    assert_eq!(head[0] & 0x0f, 1, "a text frame");
    (head[0] & 0x40 != 0, payload)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| arg != "--bench")
        .collect();
    let Some(addr) = args.first() else {
        eprintln!("usage: cargo bench --bench deflate_ratio -- HOST:PORT [COUNT]");
        std::process::exit(2);
    };
    let count: u32 = args.get(1).map_or(2_000, |n| n.parse().expect("COUNT"));
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.set_nodelay(true).unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: echo\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("101 head");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let agreed = head
        .lines()
        .find(|line| line.starts_with("sec-websocket-extensions:"))
        .unwrap_or("")
        .trim()
        .to_owned();
    assert!(agreed.contains("permessage-deflate"), "not agreed: {head}");
    let takeover = !agreed.contains("server_no_context_takeover");
    let mut inflater = Decompress::new_with_window_bits(false, 15);
    let (mut raw, mut wire, mut compressed) = (0usize, 0usize, 0usize);
    let mut x = 0x2545_f491;
    for n in 0..count {
        let text = message(n, &mut x);
        stream
            .write_all(&masked_text_frame(text.as_bytes()))
            .unwrap();
        let (rsv1, payload) = read_frame(&mut stream);
        raw += text.len();
        wire += payload.len();
        let echoed = if rsv1 {
            compressed += 1;
            let mut input = payload;
            input.extend_from_slice(&[0, 0, 0xff, 0xff]);
            let mut out = Vec::with_capacity(text.len() + 64);
            inflater
                .decompress_vec(&input, &mut out, FlushDecompress::Sync)
                .expect("valid deflate data");
            if !takeover {
                inflater.reset(false);
            }
            out
        } else {
            payload
        };
        assert_eq!(echoed, text.as_bytes(), "message {n} came back changed");
    }
    println!(
        "deflate_ratio: {agreed}\n  {count} messages, {:.0} B each on average, {compressed} \
         sent compressed; wire/raw = {wire}/{raw} = {:.3}",
        raw as f64 / f64::from(count),
        wire as f64 / raw as f64
    );
    println!(
        "RESULT takeover={takeover} messages={count} raw_bytes={raw} wire_bytes={wire} \
         ratio={:.3}",
        wire as f64 / raw as f64
    );
}
