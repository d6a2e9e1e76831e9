//! Files larger than `--static-cache-bytes` are sent from disk as the socket drains, never
//! read whole: 20 concurrent slow readers of a 24 MiB file cost the server about nothing in
//! RSS (their data waits in socket buffers, not in 20 copies) and one file descriptor each; a
//! HEAD reads no body and a range reads only the range (`/proc/PID/io`); keep-alive and TLS
//! work as with memory bodies; a file that shrinks while it is sent ends that connection
//! instead of hanging it.

mod support;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use support::files::{get_with, pattern, request_bytes, serve, www};
use support::hostile::{fd_count, poll_until, rss_kib};
use support::http::{connect, find, get, HttpConn};
use support::say;
#[cfg(feature = "tls")]
use support::tls;

/// Larger than the default `--static-cache-bytes` (16M): sent from disk.
const SIZE: usize = 24 << 20;
const READERS: usize = 20;
/// What each slow reader takes before it stops reading for the measurement.
const FIRST_PART: usize = 1 << 20;
/// How much the server's RSS may grow while 20 transfers of the file are under way: far less
/// than one copy of it (24 MiB; 20 copies was the old behaviour).
const MAX_GROWTH_KIB: u64 = 8 * 1024;

/// Bytes the process has read with read(2)-like calls (`rchar` of `/proc/PID/io`): files and
/// sockets alike.
fn bytes_read(pid: u32) -> u64 {
    let io = fs::read_to_string(format!("/proc/{pid}/io")).expect("read /proc/PID/io");
    io.lines()
        .find_map(|line| line.strip_prefix("rchar: "))
        .and_then(|value| value.parse().ok())
        .expect("rchar in /proc/PID/io")
}

/// A reader that takes [`FIRST_PART`] of the file slowly, waits for `go`, then the rest;
/// checks every byte against `content` and returns how many body bytes it got.
fn slow_reader(
    addr: std::net::SocketAddr,
    content: Arc<Vec<u8>>,
    paused: Arc<AtomicUsize>,
    go: Arc<AtomicBool>,
) -> usize {
    let mut stream = connect(addr);
    stream
        .write_all(&request_bytes("GET", "/big.bin", &[], true))
        .unwrap();
    let mut received = Vec::new();
    let mut chunk = vec![0; 16 * 1024];
    let head_end = loop {
        let n = stream.read(&mut chunk).expect("read head");
        assert!(n > 0, "closed before the head");
        received.extend_from_slice(&chunk[..n]);
        if let Some(i) = find(&received, b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {SIZE}\r\n")),
        "{head}"
    );
    let mut body = received.split_off(head_end);
    let mut announced = false;
    loop {
        if body.len() >= FIRST_PART && !announced {
            announced = true;
            paused.fetch_add(1, Ordering::SeqCst);
            let released = poll_until(Duration::from_secs(30), || {
                go.load(Ordering::SeqCst).then_some(())
            });
            assert!(released.is_some(), "never released");
        }
        let n = stream.read(&mut chunk).expect("read body");
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
        if !announced {
            thread::sleep(Duration::from_millis(2));
        }
    }
    assert!(body.len() == SIZE && body == *content, "body differs");
    body.len()
}

#[test]
fn twenty_slow_readers_cost_socket_buffers_not_copies() {
    let content = Arc::new(pattern(SIZE));
    let www = www("slow-readers", &[("big.bin", &content)]);
    let server = serve(&www, &[]);
    let pid = server.pid().unwrap();
    let addr = server.connect_addr();
    // One whole transfer first: the loop's buffers exist and the file is in the page cache.
    assert!(get(addr, "/big.bin").body == *content);
    let rss_before = rss_kib(pid);
    let fds_before = fd_count(pid);

    let paused = Arc::new(AtomicUsize::new(0));
    let go = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (content, paused, go) = (content.clone(), paused.clone(), go.clone());
            thread::spawn(move || slow_reader(addr, content, paused, go))
        })
        .collect();
    let all_paused = poll_until(Duration::from_secs(60), || {
        (paused.load(Ordering::SeqCst) == READERS).then_some(())
    });
    // Every transfer is under way and stalled: the server has filled the socket buffers
    // and waits for them to drain.
    let mut rss_peak = 0;
    let mut fds_during = 0;
    for _ in 0..10 {
        rss_peak = rss_peak.max(rss_kib(pid));
        fds_during = fds_during.max(fd_count(pid));
        thread::sleep(Duration::from_millis(50));
    }
    go.store(true, Ordering::SeqCst);
    let received: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(
        all_paused.is_some(),
        "the readers did not all get their first part"
    );
    assert_eq!(received, READERS * SIZE);
    let rss_after = rss_kib(pid);
    say(&format!(
        "{READERS} slow readers of a {} MiB file: server RSS {rss_before} KiB before, \
         {rss_peak} KiB peak during (+{} KiB), {rss_after} KiB after; fds {fds_before} -> {fds_during}",
        SIZE >> 20,
        rss_peak.saturating_sub(rss_before)
    ));
    assert!(
        rss_peak.saturating_sub(rss_before) < MAX_GROWTH_KIB,
        "RSS grew from {rss_before} KiB to {rss_peak} KiB"
    );
    // One socket and one file per transfer, nothing else.
    assert!(
        fds_during <= fds_before + 2 * READERS,
        "fds {fds_before} -> {fds_during}"
    );
}

#[test]
fn a_head_reads_no_body_and_a_range_reads_only_the_range() {
    let content = pattern(SIZE);
    let www = www("head-range", &[("big.bin", &content)]);
    let server = serve(&www, &[]);
    let pid = server.pid().unwrap();
    let addr = server.connect_addr();
    let before = bytes_read(pid);
    let mut conn = HttpConn::open(addr);
    conn.send(&request_bytes("HEAD", "/big.bin", &[], false));
    let head = conn.read_response(true);
    assert_eq!(head.content_length(), Some(SIZE));
    let range = format!("bytes={}-{}", SIZE / 2, SIZE / 2 + 9);
    conn.send(&request_bytes(
        "GET",
        "/big.bin",
        &[("Range", &range)],
        true,
    ));
    let part = conn.read_response(false);
    assert_eq!(part.status, 206);
    assert!(part.body == content[SIZE / 2..SIZE / 2 + 10]);
    assert!(conn.wait_closed(Duration::from_secs(5)).unwrap().is_empty());
    let read = bytes_read(pid) - before;
    assert!(
        read < 1 << 20,
        "a HEAD and a 10-byte range read {read} bytes"
    );
    // A GET reads the file (once; the comparison shows the measure sees file reads).
    let before = bytes_read(pid);
    assert!(get(addr, "/big.bin").body == content);
    let read = bytes_read(pid) - before;
    assert!(read >= SIZE as u64, "a GET read only {read} bytes");
}

#[test]
fn large_and_small_responses_pipelined_on_one_connection() {
    let big = pattern(3 << 20);
    let www = www("pipelined", &[("big.bin", &big), ("small.txt", b"small")]);
    let server = serve(&www, &["--static-cache-bytes", "64K"]);
    let mut conn = HttpConn::open(server.connect_addr());
    let mut requests = Vec::new();
    for path in ["/big.bin", "/small.txt", "/big.bin"] {
        requests.extend(request_bytes("GET", path, &[], false));
    }
    requests.extend(request_bytes("GET", "/small.txt", &[], true));
    conn.send(&requests);
    // Read late, so the server's writes stop part-way and go on.
    thread::sleep(Duration::from_millis(300));
    for want in [&big[..], b"small", &big[..], b"small"] {
        let response = conn.read_response(false);
        assert_eq!(response.status, 200);
        assert!(response.body == want, "body differs");
    }
    assert!(conn.wait_closed(Duration::from_secs(5)).unwrap().is_empty());
}

#[cfg(feature = "tls")]
#[test]
fn large_files_stream_over_tls() {
    let big = pattern(8 << 20);
    let www = www("tls", &[("big.bin", &big)]);
    let (server, ca) = tls::start_server(
        "large-files",
        &[
            "--www",
            www.to_str().unwrap(),
            "--static-cache-bytes",
            "64K",
        ],
    );
    let mut stream = tls::tls_connect(server.connect_addr(), ca.client_config(&[b"http/1.1"]))
        .expect("TLS connect");
    tls::send(
        &mut stream,
        "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n\
         GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=-100\r\n\r\n\
         HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    // Read late: TLS records wait in rustls and the socket while the reader is away.
    thread::sleep(Duration::from_millis(300));
    let (status, head, body) = tls::read_response(&mut stream, false);
    assert_eq!(status, 200, "{head}");
    assert!(body == big, "body over TLS differs");
    let (status, head, body) = tls::read_response(&mut stream, false);
    assert_eq!(status, 206, "{head}");
    assert!(body == big[big.len() - 100..]);
    let (status, head, body) = tls::read_response(&mut stream, true);
    assert_eq!(status, 200, "{head}");
    assert!(head.contains(&format!("Content-Length: {}\r\n", big.len())));
    assert!(body.is_empty());
}

#[test]
fn a_file_that_shrinks_while_it_is_sent_ends_that_connection() {
    let content = pattern(SIZE);
    let www = www("shrinks", &[("big.bin", &content)]);
    let server = serve(&www, &[]);
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(&request_bytes("GET", "/big.bin", &[], false));
    let first = conn.take_exact(FIRST_PART);
    assert!(first.starts_with(b"HTTP/1.1 200 OK\r\n"));
    File::options()
        .write(true)
        .open(www.join("big.bin"))
        .unwrap()
        .set_len(2 << 20)
        .unwrap();
    let rest = conn
        .wait_closed(Duration::from_secs(10))
        .expect("the connection ends");
    assert!(
        FIRST_PART + rest.len() < SIZE,
        "got {} bytes of a file cut to 2 MiB",
        FIRST_PART + rest.len()
    );
    // Everyone else is served, the shrunk file included, at its new length.
    let now = poll_until(Duration::from_secs(10), || {
        let response = get_with(server.connect_addr(), "/big.bin", &[]);
        (response.body.len() == 2 << 20).then_some(response)
    });
    assert!(now.is_some_and(|response| response.body == content[..2 << 20]));
}
