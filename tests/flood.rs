//! A client that floods 64 KiB binary messages at the `echo` protocol and never reads a reply.
//! The protocol pauses reading it once its replies pile up past `--outgoing-soft-limit`, so
//! TCP pushes back on the flooder (its writes stall) instead of the server buffering: the
//! server's RSS stays bounded and a second client's echoes stay prompt throughout.
//!
//! The RSS bound: per connection the server holds at most the soft limit (256 KiB) plus the
//! one reply that crossed it (64 KiB), one reassembled message (64 KiB), tungstenite's 4 KiB
//! read buffer, and what one read pass takes (`--read-budget-bytes`, 256 KiB) — under 1 MiB.
//! Kernel socket buffers are not part of the process's RSS. Allow 8 MiB for that, allocator
//! slack and the second client (measured: +0.4 MiB); unbounded buffering would cost ~200 MB.

mod support;

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::hostile::{min_median_max, ms, poll_until, rss_kib};
use support::ws::{self, client_frame, op, RawWs};
use support::{say, ServerProcess};
use tungstenite::Message;

const MESSAGE: usize = 64 * 1024;
const FLOOD_BYTES: u64 = 200 << 20;
/// A write that makes no progress for this long means TCP is pushing back: the flood stops.
const STALL: Duration = Duration::from_secs(2);
const RSS_BOUND_KIB: u64 = 8 * 1024;
const ROUND_TRIP_BOUND: Duration = Duration::from_secs(2);

#[test]
fn a_non_reading_flooder_costs_bounded_memory_and_delays_nobody() {
    let server = ServerProcess::start();
    let pid = server.pid().expect("pid");

    let (mut normal, _) = ws::connect_with(&server, &["echo"]);
    assert_eq!(
        ws::round_trip(&mut normal, Message::text("warm-up")),
        Message::text("warm-up")
    );
    let baseline = rss_kib(pid);

    let flooder = RawWs::open(
        server.connect_addr(),
        &["Sec-WebSocket-Protocol: echo"],
        &[],
    );
    let flooder_port = flooder.conn.stream.local_addr().unwrap().port();
    flooder.conn.stream.set_write_timeout(Some(STALL)).unwrap();
    let frame = client_frame(true, op::BINARY, &vec![0xA5; MESSAGE]);
    let written = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let mut stream = flooder.conn.stream.try_clone().unwrap();
        let (written, done) = (Arc::clone(&written), Arc::clone(&done));
        thread::spawn(move || {
            let mut why = String::from("sent everything");
            'flood: while written.load(Ordering::Relaxed) < FLOOD_BYTES {
                let mut at = 0;
                while at < frame.len() {
                    match stream.write(&frame[at..]) {
                        Ok(n) => {
                            at += n;
                            written.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                            ) =>
                        {
                            why = format!("no progress for {STALL:?} (pushback)");
                            break 'flood;
                        }
                        Err(e) => {
                            why = format!("write failed: {e}");
                            break 'flood;
                        }
                    }
                }
            }
            done.store(true, Ordering::Relaxed);
            why
        })
    };

    // While the flood runs: an echo every ~100 ms, each bounded, and RSS samples.
    let started = Instant::now();
    let mut round_trips = Vec::new();
    let mut peak = baseline;
    let mut n = 0u32;
    while !done.load(Ordering::Relaxed) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "flood still running after 60 s ({} bytes written)",
            written.load(Ordering::Relaxed)
        );
        n += 1;
        let text = format!("prompt {n}");
        let t = Instant::now();
        let reply = ws::round_trip(&mut normal, Message::text(text.clone()));
        let rtt = t.elapsed();
        assert_eq!(reply, Message::text(text));
        assert!(rtt < ROUND_TRIP_BOUND, "echo took {rtt:?} during the flood");
        round_trips.push(rtt);
        peak = peak.max(rss_kib(pid));
        thread::sleep(Duration::from_millis(100));
    }
    let why = writer.join().expect("writer thread");
    let flood_time = started.elapsed();
    let end = rss_kib(pid);
    peak = peak.max(end);
    let total = written.load(Ordering::Relaxed);

    assert!(
        total < FLOOD_BYTES,
        "the whole flood was accepted ({total} bytes): no pushback"
    );
    assert!(
        peak < baseline + RSS_BOUND_KIB,
        "server RSS grew from {baseline} KiB to {peak} KiB (bound +{RSS_BOUND_KIB} KiB)"
    );
    // Still prompt after the flood stalled, with the flooder connected.
    let t = Instant::now();
    assert_eq!(
        ws::round_trip(&mut normal, Message::text("after")),
        Message::text("after")
    );
    assert!(t.elapsed() < ROUND_TRIP_BOUND);

    // Find the flooder in the log, close it, and see the server let go of it.
    let log = server.stderr();
    let line = log
        .lines()
        .find(|l| l.contains(&format!(":{flooder_port} connected")))
        .unwrap_or_else(|| panic!("no `connected` line for port {flooder_port}:\n{log}"))
        .to_string();
    let id = line
        .split_whitespace()
        .find(|w| w.starts_with("conn#"))
        .expect("conn#N in the connected line")
        .to_string();
    drop(flooder);
    let closed = poll_until(Duration::from_secs(10), || {
        server
            .stderr()
            .lines()
            .find(|l| l.contains(&format!("{id} closed")))
            .map(str::to_string)
    })
    .unwrap_or_else(|| panic!("{id} (the flooder) not closed 10 s after it hung up"));
    let flooder_lines: Vec<String> = server
        .stderr()
        .lines()
        .filter(|l| l.contains(&format!("{id} ")))
        .filter(|l| !l.contains("binary bytes"))
        .map(str::to_string)
        .collect();

    let (rmin, rmed, rmax) = min_median_max(&round_trips);
    say(&format!(
        "flood: wrote {total} bytes ({:.1} MiB, {} messages) in {flood_time:.1?} before the writer \
         stopped: {why}; server VmRSS baseline {baseline} KiB, peak {peak} KiB (+{} KiB), end \
         {end} KiB, bound +{RSS_BOUND_KIB} KiB; {} echo round trips min {} / median {} / max {}; \
         server log for the flooder: {:?}; closed line: {closed:?}",
        total as f64 / (1 << 20) as f64,
        total / (MESSAGE as u64 + 14),
        peak - baseline,
        round_trips.len(),
        ms(rmin),
        ms(rmed),
        ms(rmax),
        flooder_lines,
    ));
}
