//! A file too large for the cache, sent to a client that holds little unread: the body goes
//! out from disk in chunks as the client drains, what the transport did not take is read
//! again, and the bytes arrive whole and in order, followed by a pipelined range.

use super::harness::Harness;
use crate::config::Config;
use crate::conn::PhaseKind;
use std::fs;

const FILE_BYTES: usize = 300_000;
/// Less than one read chunk: every write is partial.
const CLIENT_BUFFER: usize = 10_000;
const CHUNK: usize = 16 * 1024;

#[test]
fn a_file_from_disk_goes_out_as_the_client_drains() {
    let root = std::env::temp_dir().join(format!("wsloop-conn-files-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).unwrap();
    let content: Vec<u8> = (0..FILE_BYTES).map(|i| (i % 251) as u8).collect();
    fs::write(root.join("big.bin"), &content).unwrap();
    let config = Config::default()
        .with_static_cache_bytes(1024)
        .with_read_buffer_bytes(CHUNK);
    let mut h = Harness::with_files(config, root.canonicalize().unwrap());
    h.peer.client.set_receive_capacity(CLIENT_BUFFER);
    h.peer.send(
        b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n\
          GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=-10\r\nConnection: close\r\n\r\n",
    );
    h.poll();
    assert_eq!(h.kind(), PhaseKind::ServingFile);
    assert_eq!(
        h.peer.client.unread(),
        CLIENT_BUFFER,
        "the client's end is full"
    );
    assert_eq!(
        h.queued(),
        0,
        "nothing of the body is buffered by the server"
    );

    let mut received = Vec::new();
    for _ in 0..2 * FILE_BYTES / CLIENT_BUFFER {
        received.extend(h.peer.client.receive());
        h.poll();
        if h.kind() != PhaseKind::ServingFile && h.peer.client.unread() == 0 {
            break;
        }
    }
    received.extend(h.peer.client.receive());
    let text = String::from_utf8_lossy(&received);
    let first_end = text.find("\r\n\r\n").expect("a head") + 4;
    assert!(text[..first_end].contains(&format!("Content-Length: {FILE_BYTES}\r\n")));
    let body = &received[first_end..first_end + FILE_BYTES];
    assert!(
        body == content.as_slice(),
        "the body arrived whole and in order"
    );
    let second = &received[first_end + FILE_BYTES..];
    let second_text = String::from_utf8_lossy(second);
    assert!(second_text.starts_with("HTTP/1.1 206 "), "{second_text}");
    let range = format!(
        "Content-Range: bytes {}-{}/{FILE_BYTES}\r\n",
        FILE_BYTES - 10,
        FILE_BYTES - 1
    );
    assert!(second_text.contains(&range), "{second_text}");
    assert!(second.ends_with(&content[FILE_BYTES - 10..]));
    assert_ne!(h.kind(), PhaseKind::ServingFile);
    fs::remove_dir_all(root).unwrap();
}
