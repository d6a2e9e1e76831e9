//! Slowloris: 200 connections dribble one request-head byte every 200 ms. With
//! `--head-timeout 2s` each must be answered `408` (or just closed) about 2 s after it
//! connected — the timeout runs from the first byte, a trickle does not extend it — while a
//! normal WebSocket client's echo round trips stay prompt the whole time.

mod support;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::hostile::{min_median_max, ms};
use support::{say, ws, ServerProcess};
use tungstenite::Message;

const SLOW_CLIENTS: usize = 200;
const HEAD_TIMEOUT: Duration = Duration::from_secs(2);
const DRIBBLE: Duration = Duration::from_millis(200);
/// Scheduling slack on top of the head timeout (debug build, shared 2-core machine).
const CLOSE_MARGIN: Duration = Duration::from_millis(1500);
/// Liveness bound for one echo round trip (not a performance figure).
const ROUND_TRIP_BOUND: Duration = Duration::from_secs(2);

/// The head the slow clients never finish (far longer than 2 s / 200 ms bytes).
const HEAD: &[u8] =
    b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa";

struct Slow {
    stream: TcpStream,
    opened: Instant,
    sent: usize,
    next_byte: Instant,
    got: Vec<u8>,
    closed_after: Option<Duration>,
}

#[test]
fn dribbling_heads_are_timed_out_without_delaying_others() {
    let server = ServerProcess::start_with(&["--head-timeout", "2s", "--accept-budget", "64"]);
    let addr = server.connect_addr();

    let (mut normal, _) = ws::connect_with(&server, &["echo"]);
    let warm = ws::round_trip(&mut normal, Message::text("warm-up"));
    assert_eq!(warm, Message::text("warm-up"));

    let mut slow: Vec<Slow> = (0..SLOW_CLIENTS)
        .map(|_| {
            let stream =
                TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
            stream.set_nodelay(true).unwrap();
            stream.set_nonblocking(true).unwrap();
            let now = Instant::now();
            Slow {
                stream,
                opened: now,
                sent: 0,
                next_byte: now,
                got: Vec::new(),
                closed_after: None,
            }
        })
        .collect();

    let started = Instant::now();
    let give_up = started + HEAD_TIMEOUT + CLOSE_MARGIN + Duration::from_secs(2);
    let mut next_echo = Instant::now();
    let mut round_trips = Vec::new();
    let mut echo_n = 0u32;
    while slow.iter().any(|s| s.closed_after.is_none()) && Instant::now() < give_up {
        let now = Instant::now();
        for s in slow.iter_mut().filter(|s| s.closed_after.is_none()) {
            let mut buf = [0u8; 512];
            match s.stream.read(&mut buf) {
                Ok(0) => s.closed_after = Some(s.opened.elapsed()),
                Ok(n) => s.got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => s.closed_after = Some(s.opened.elapsed()),
            }
            // Stop writing once the answer arrived: a write after the server's close would draw
            // a reset that can discard the unread 408.
            if s.closed_after.is_none()
                && s.got.is_empty()
                && now >= s.next_byte
                && s.sent < HEAD.len()
            {
                match s.stream.write(&HEAD[s.sent..s.sent + 1]) {
                    Ok(_) => s.sent += 1,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => s.closed_after = Some(s.opened.elapsed()),
                }
                s.next_byte = now + DRIBBLE;
            }
        }
        if now >= next_echo {
            echo_n += 1;
            let text = format!("ping {echo_n}");
            let t = Instant::now();
            let reply = ws::round_trip(&mut normal, Message::text(text.clone()));
            let rtt = t.elapsed();
            assert_eq!(reply, Message::text(text));
            assert!(
                rtt < ROUND_TRIP_BOUND,
                "echo round trip took {rtt:?} under the slowloris load"
            );
            round_trips.push(rtt);
            next_echo = Instant::now() + Duration::from_millis(100);
        }
        std::thread::sleep(Duration::from_millis(10));
    }

    let open: Vec<usize> = (0..slow.len())
        .filter(|&i| slow[i].closed_after.is_none())
        .collect();
    assert!(
        open.is_empty(),
        "{} slow connections still open after {:?}",
        open.len(),
        started.elapsed()
    );
    let closes: Vec<Duration> = slow.iter().filter_map(|s| s.closed_after).collect();
    let with_408 = slow
        .iter()
        .filter(|s| s.got.starts_with(b"HTTP/1.1 408"))
        .count();
    for s in &slow {
        assert!(
            s.got.is_empty() || s.got.starts_with(b"HTTP/1.1 408"),
            "a slow client got {:?}",
            String::from_utf8_lossy(&s.got)
        );
        let after = s.closed_after.unwrap();
        assert!(
            after <= HEAD_TIMEOUT + CLOSE_MARGIN,
            "closed only after {after:?} (head timeout {HEAD_TIMEOUT:?})"
        );
        assert!(
            after >= HEAD_TIMEOUT - Duration::from_millis(50),
            "closed after {after:?}, before the head timeout: dribbling client cut early"
        );
    }
    let (min, median, max) = min_median_max(&closes);
    let (rmin, rmed, rmax) = min_median_max(&round_trips);
    say(&format!(
        "slowloris: {SLOW_CLIENTS} clients, {with_408} saw 408 then EOF, the rest EOF; \
         close after connect min {} / median {} / max {} (head timeout {HEAD_TIMEOUT:?}); \
         bytes dribbled per client up to {}; {} echo round trips min {} / median {} / max {}",
        ms(min),
        ms(median),
        ms(max),
        slow.iter().map(|s| s.sent).max().unwrap_or(0),
        round_trips.len(),
        ms(rmin),
        ms(rmed),
        ms(rmax)
    ));

    // A fresh client is still served normally after the storm.
    let (mut fresh, _) = ws::connect_with(&server, &["echo"]);
    assert_eq!(
        ws::round_trip(&mut fresh, Message::text("after")),
        Message::text("after")
    );
}
