//! Resource exhaustion: the connection cap, running out of file descriptors (EMFILE from
//! `accept`), and a thousand clients that hang up mid-head or mid-frame without leaking fds.

mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use support::hostile::{
    cpu_time, fd_count, have_prlimit, ms, nofile_soft, poll_until, set_nofile_soft,
};
use support::http::HttpConn;
use support::ws::{self, client_frame, op, Client, RawWs};
use support::{say, skip_or_fail, ServerProcess};
use tungstenite::Message;

fn echo_client(server: &ServerProcess) -> Client {
    ws::connect_with(server, &["echo"]).0
}

fn assert_echoes(clients: &mut [Client], tag: &str) {
    for (i, c) in clients.iter_mut().enumerate() {
        let text = format!("{tag} {i}");
        assert_eq!(
            ws::round_trip(c, Message::text(text.clone())),
            Message::text(text),
            "client {i} ({tag})"
        );
    }
}

#[test]
fn connections_beyond_max_connections_are_closed_at_once() {
    let server = ServerProcess::start_with(&["--max-connections", "50"]);
    let mut admitted: Vec<Client> = (0..50).map(|_| echo_client(&server)).collect();
    assert_echoes(&mut admitted, "before");

    let mut closes = Vec::new();
    for _ in 0..10 {
        let mut extra = HttpConn::open(server.connect_addr());
        let t = Instant::now();
        // It may even manage to send its request before the server gets to it: no answer.
        let _ = extra.stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let got = extra
            .wait_closed(Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("connection 51+ not refused: {e}"));
        assert!(got.is_empty(), "a refused connection got {got:?}");
        closes.push(t.elapsed());
    }
    assert_echoes(&mut admitted, "after");
    let refused = server
        .stderr()
        .lines()
        .filter(|l| l.contains("max_connections (50) reached"))
        .count();
    assert!(refused >= 1, "no max_connections warning in the log");
    say(&format!(
        "max-connections 50: 10 extra connections closed after at most {}; {refused} warning \
         line(s) logged (throttled)",
        ms(*closes.iter().max().unwrap())
    ));
    drop(admitted);
}

#[test]
fn emfile_on_accept_neither_spins_nor_stops_service() {
    if !have_prlimit() {
        skip_or_fail("emfile", "util-linux prlimit not found");
        return;
    }
    let server = ServerProcess::start();
    let pid = server.pid().expect("pid");
    let mut clients: Vec<Client> = (0..5).map(|_| echo_client(&server)).collect();
    let before_limit = fd_count(pid);
    let original = nofile_soft(pid);
    // Room for exactly three more connections, then accept fails with EMFILE.
    let limit = before_limit as u64 + 3;
    set_nofile_soft(pid, limit).unwrap_or_else(|e| panic!("{e}"));

    // The kernel completes these handshakes (listen backlog) whether or not wsloop accepts.
    let extra: Vec<TcpStream> = (0..20)
        .map(|_| {
            TcpStream::connect_timeout(&server.connect_addr(), Duration::from_secs(5)).unwrap()
        })
        .collect();
    let saw_emfile = poll_until(Duration::from_secs(5), || {
        server.stderr().contains("accept failed").then_some(())
    });
    assert!(
        saw_emfile.is_some(),
        "no `accept failed` warning with {} fds allowed",
        limit
    );
    // At the limit (fds inherited with numbers above it may add one or two to the count).
    let at_limit = fd_count(pid) as u64;
    assert!(
        at_limit >= limit,
        "{at_limit} fds open with a limit of {limit}"
    );

    // Two seconds of EMFILE: existing clients are served, the loop does not spin.
    let cpu0 = cpu_time(pid);
    let t0 = Instant::now();
    let mut rounds = 0;
    while t0.elapsed() < Duration::from_secs(2) {
        assert_echoes(&mut clients, "during EMFILE");
        rounds += 1;
        thread::sleep(Duration::from_millis(100));
    }
    let cpu = cpu_time(pid) - cpu0;
    let wall = t0.elapsed();
    let warnings = server
        .stderr()
        .lines()
        .filter(|l| l.contains("accept failed"))
        .count();
    assert!(
        cpu < Duration::from_millis(500),
        "server used {cpu:?} of CPU in {wall:?} of EMFILE: busy loop?"
    );
    assert!(
        warnings <= 5,
        "{warnings} `accept failed` lines: the warning should be throttled to one a second"
    );

    // Hang up the extra connections: fds come back and the server accepts again.
    drop(extra);
    let t1 = Instant::now();
    let mut fresh = poll_until(Duration::from_secs(10), || {
        ws::try_connect(server.connect_addr(), &["echo"])
            .ok()
            .map(|(c, _)| c)
    })
    .expect("server did not accept again after fds were freed");
    let recovered = t1.elapsed();
    assert_echoes(std::slice::from_mut(&mut fresh), "after EMFILE");
    assert_echoes(&mut clients, "after EMFILE");
    set_nofile_soft(pid, original).ok();
    say(&format!(
        "EMFILE: limit {limit} fds; server CPU {} over {} of EMFILE ({rounds} echo rounds to 5 \
         clients ok); {warnings} `accept failed` warning line(s); accepting again {} after the \
         extra connections hung up",
        ms(cpu),
        ms(wall),
        ms(recovered)
    ));
}

/// How a hostile client leaves.
#[derive(Clone, Copy, Debug)]
enum Hangup {
    /// Half a request head, then FIN.
    HalfHead,
    /// A full request and half the next (pipelined) head; the response is left unread, so our
    /// close is a reset.
    RequestThenHalfHeadReset,
    /// A good handshake, half a frame, then FIN.
    HalfFrame,
    /// A good handshake, a ping, half a frame; the pong is left unread, so our close is a reset.
    PingThenHalfFrameReset,
}

fn hang_up(addr: SocketAddr, how: Hangup) {
    let half_frame = {
        let frame = client_frame(true, op::TEXT, &[b'x'; 100]);
        frame[..frame.len() / 2].to_vec()
    };
    match how {
        Hangup::HalfHead => {
            let mut c = HttpConn::open(addr);
            c.send(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ye");
        }
        Hangup::RequestThenHalfHeadReset => {
            let mut c = HttpConn::open(addr);
            c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET / HTTP/1.1\r\nHo");
            let mut one = [0u8; 1];
            c.stream.peek(&mut one).expect("response starts");
        }
        Hangup::HalfFrame => {
            let mut raw = RawWs::open(addr, &[], &[]);
            raw.send(&half_frame);
        }
        Hangup::PingThenHalfFrameReset => {
            let mut raw = RawWs::open(addr, &[], &[]);
            let mut bytes = client_frame(true, op::PING, b"p");
            bytes.extend_from_slice(&half_frame);
            raw.send(&bytes);
            let mut one = [0u8; 1];
            // The pong arrives (unread: dropping the socket now sends RST).
            raw.conn.stream.peek(&mut one).expect("pong starts");
        }
    }
}

#[test]
fn a_thousand_half_sent_connections_leave_no_fd_behind() {
    let server = ServerProcess::start();
    let pid = server.pid().expect("pid");
    let addr = server.connect_addr();
    // The `listening` line comes before the loop creates its poll and signal fds: a round
    // trip first, so the baseline is the running loop's (this client stays, and is counted).
    let mut c = echo_client(&server);
    assert_echoes(std::slice::from_mut(&mut c), "before hang-ups");
    let baseline = fd_count(pid);
    let started = Instant::now();
    let kinds = [
        Hangup::HalfHead,
        Hangup::RequestThenHalfHeadReset,
        Hangup::HalfFrame,
        Hangup::PingThenHalfFrameReset,
    ];
    // 4 threads, one per kind, 250 connections each, one at a time.
    let threads: Vec<_> = kinds
        .iter()
        .map(|&how| {
            thread::spawn(move || {
                for _ in 0..250 {
                    hang_up(addr, how);
                }
            })
        })
        .collect();
    let mut peak = baseline;
    while threads.iter().any(|t| !t.is_finished()) {
        peak = peak.max(fd_count(pid));
        thread::sleep(Duration::from_millis(5));
    }
    for t in threads {
        t.join().expect("client thread");
    }
    let sent = started.elapsed();
    let back = poll_until(Duration::from_secs(10), || {
        (fd_count(pid) <= baseline).then_some(())
    });
    let now = fd_count(pid);
    assert!(
        back.is_some(),
        "server holds {now} fds, {baseline} before 1000 half-sent connections"
    );
    let settled = started.elapsed();
    // Still serving.
    assert_echoes(std::slice::from_mut(&mut c), "after hang-ups");
    say(&format!(
        "hang-ups: 1000 connections (250 each of {kinds:?}) in {}; server fds baseline \
         {baseline}, peak sampled {peak}, back to {now} at {}",
        ms(sent),
        ms(settled)
    ));
}
