//! One client thread: a mio `Poll`, a slab of connections, and the phases of a run.

use crate::broadcast::{self, Publisher};
use crate::hist::Histogram;
use crate::tls::Link;
use crate::ws::{self, Inflating, Parser, Seen};
use crate::{Mode, Options};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Shared read buffer per thread; the parser streams through it.
const READ_BUF: usize = 256 * 1024;
/// Upper bound on the pre-built frame train written in one call.
const TRAIN_BYTES: usize = 1 << 20;
/// Most errors printed per thread (all are counted).
const MAX_PRINTED_ERRORS: u64 = 5;

#[derive(Default)]
pub struct Report {
    /// Replies received inside the measured window.
    pub messages: u64,
    /// Replies checked (warmup and drain included).
    pub verified: u64,
    pub mismatches: u64,
    pub errors: u64,
    /// Handshakes completed inside the measured window.
    pub handshakes: u64,
    pub elapsed: Duration,
    pub hist: Histogram,
    /// CPU time (nanoseconds) over the measured window: this process, the server.
    pub cpu_self: Option<u64>,
    pub cpu_server: Option<u64>,
    /// Data frame payload bytes the server sent inside the measured window.
    pub wire_in: u64,
    /// Payload bytes of each message frame we send (compressed with --deflate).
    pub wire_out_per_msg: u64,
}

impl Report {
    pub fn add(&mut self, other: &Report) {
        self.messages += other.messages;
        self.verified += other.verified;
        self.mismatches += other.mismatches;
        self.errors += other.errors;
        self.handshakes += other.handshakes;
        self.elapsed = self.elapsed.max(other.elapsed);
        self.cpu_self = self.cpu_self.or(other.cpu_self);
        self.cpu_server = self.cpu_server.or(other.cpu_server);
        self.wire_in += other.wire_in;
        self.wire_out_per_msg = self.wire_out_per_msg.max(other.wire_out_per_msg);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Head,
    Open,
    /// Our close frame is out; waiting for the server's.
    Closing,
}

struct Conn {
    link: Link,
    phase: Phase,
    /// Handshake response bytes (only until the 101 is parsed).
    head: Vec<u8>,
    parser: Parser,
    /// Bytes of the frame train still to write, and the offset of the next one in a frame.
    to_send: usize,
    offset: usize,
    /// Send times of the messages in flight, oldest first (replies come in order).
    stamps: VecDeque<Instant>,
    started: Instant,
    /// Broadcast: the sequence number of the next message this subscriber must get.
    next_seq: u64,
    /// Broadcast: this connection publishes; its stamped frames wait here to be written.
    publishes: bool,
    pending: Vec<u8>,
}

/// Everything but the connections, so callbacks can borrow both.
struct Ctx {
    request: Vec<u8>,
    /// `train_count` copies of the masked message frame, back to back.
    train: Vec<u8>,
    frame_len: usize,
    close: Vec<u8>,
    expected: Vec<u8>,
    /// Offer permessage-deflate and require it.
    deflate: bool,
    opcode: u8,
    mode: Mode,
    depth: usize,
    length_only: bool,
    /// Measure what completes now.
    recording: bool,
    /// Send a new message for each reply (traffic) / open new connections (connect).
    sending: bool,
    report: Report,
    /// Connections not yet open, and how many more to start.
    opening: usize,
    to_open: usize,
    concurrency: usize,
    /// connect mode (not --hold): close each connection once its handshake is done.
    close_after_handshake: bool,
    /// Messages sent and not yet answered, over all connections.
    outstanding: u64,
    last_progress: Instant,
    /// Broadcast: the publisher, on the thread whose connection publishes.
    publisher: Option<Publisher>,
    /// Broadcast: stamped messages received (warmup and drain included).
    delivered: u64,
}

pub struct Worker {
    poll: Poll,
    events: Events,
    conns: Slab<Conn>,
    rbuf: Vec<u8>,
    ctx: Ctx,
    /// Where this thread's connections go.
    pub addr: std::net::SocketAddr,
    /// `--addr` as given: the TLS server name.
    host: String,
    /// wss:// (`--tls-ca`, `--tls-insecure`).
    tls: Option<Arc<rustls::ClientConfig>>,
    settle: Duration,
    timeout: Duration,
    warmup: Duration,
    duration: Duration,
    server_pid: Option<u32>,
    /// Only the first thread samples CPU time.
    pub sample_cpu: bool,
}

/// CPU time of every thread of process WHO, in nanoseconds: the first field of each
/// `/proc/WHO/task/*/schedstat`, which the scheduler adds to at every switch. (utime and
/// stime in `/proc/WHO/stat` are 10 ms ticks charged to whoever runs when a tick fires: for a
/// server busy half the time in short bursts that sample is off by several percent in 5 s.)
pub fn cpu_ns(who: &str) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{who}/task")).ok()?;
    let mut total = None;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue; // the thread ended meanwhile
        };
        let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
        total = Some(total.unwrap_or(0) + ns);
    }
    total
}

/// Chat-like JSON (`--json`): compresses like real traffic, neither random nor uniform, and
/// no palindrome.
fn json_payload(size: usize) -> Vec<u8> {
    const USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];
    const WORDS: [&str; 16] = [
        "hello", "the", "build", "is", "green", "again", "meeting", "at", "noon", "see", "you",
        "there", "thanks", "shipped", "today", "ok",
    ];
    let mut x: u32 = 0x9e37_79b9;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut out = String::with_capacity(size + 200);
    let mut id = 40_000;
    while out.len() < size {
        let words = 3 + next() as usize % 10;
        let text: Vec<&str> = (0..words)
            .map(|_| WORDS[next() as usize % WORDS.len()])
            .collect();
        out += &format!(
            "{{\"id\":{id},\"ts\":{},\"room\":\"general\",\"user\":\"{}\",\"text\":\"{}\"}}\n",
            1_767_225_600_000u64 + u64::from(next() % 100_000),
            USERS[next() as usize % USERS.len()],
            text.join(" ")
        );
        id += 1;
    }
    out.truncate(size);
    out.into_bytes()
}

/// Printable ASCII that is no palindrome, so a reversal is really checked.
fn payload(size: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b' ' + (x % 95) as u8
        })
        .collect()
}

fn note_error(report: &mut Report, what: &str) {
    report.errors += 1;
    if report.errors <= MAX_PRINTED_ERRORS {
        eprintln!("load: connection error: {what}");
    }
}

impl Worker {
    pub fn new(opts: &Options) -> Result<Worker, String> {
        let body = if opts.json {
            json_payload(opts.size)
        } else {
            payload(opts.size)
        };
        let expected = if opts.echo {
            body.clone()
        } else {
            body.iter().rev().copied().collect()
        };
        let opcode = if opts.binary { 2 } else { 1 };
        let frame = if opts.deflate {
            ws::compressed_client_frame(opcode, &body)
        } else {
            ws::client_frame(opcode, &body)
        };
        let header = 2
            + 4
            + match frame[1] & 0x7f {
                126 => 2,
                127 => 8,
                _ => 0,
            };
        let wire_out_per_msg = (frame.len() - header) as u64;
        let copies = opts.depth.min(TRAIN_BYTES / frame.len()).max(1);
        let train = frame.repeat(copies);
        let depth = if opts.mode == Mode::PingPong {
            1
        } else {
            opts.depth
        };
        let now = Instant::now();
        Ok(Worker {
            poll: Poll::new().map_err(|e| format!("poll: {e}"))?,
            events: Events::with_capacity(1024),
            conns: Slab::new(),
            rbuf: vec![0; READ_BUF],
            ctx: Ctx {
                request: ws::upgrade_request(
                    &opts.host,
                    &opts.path,
                    opts.protocol.as_deref(),
                    opts.deflate,
                ),
                deflate: opts.deflate,
                frame_len: frame.len(),
                train,
                close: ws::close_frame(),
                expected,
                opcode,
                mode: opts.mode,
                depth,
                length_only: opts.length_only,
                recording: false,
                sending: false,
                report: Report {
                    wire_out_per_msg,
                    ..Report::default()
                },
                opening: 0,
                to_open: 0,
                concurrency: opts.concurrency,
                outstanding: 0,
                close_after_handshake: opts.mode == Mode::Connect && opts.hold.is_none(),
                last_progress: now,
                publisher: None,
                delivered: 0,
            },
            addr: opts.addr,
            host: opts.host.clone(),
            tls: opts
                .tls
                .enabled()
                .then(|| opts.tls.client_config())
                .transpose()?,
            settle: opts.settle,
            timeout: opts.timeout,
            warmup: opts.warmup,
            duration: opts.duration,
            server_pid: opts.server_pid,
            sample_cpu: false,
        })
    }

    pub fn report(&mut self) -> Report {
        let wire_out_per_msg = self.ctx.report.wire_out_per_msg;
        let mut report = std::mem::take(&mut self.ctx.report);
        self.ctx.report.wire_out_per_msg = wire_out_per_msg;
        report.wire_out_per_msg = wire_out_per_msg;
        report
    }

    /// Start connections while fewer than `concurrency` are mid-handshake.
    fn fill(&mut self) {
        while self.ctx.to_open > 0 && self.ctx.opening < self.ctx.concurrency {
            self.ctx.to_open -= 1;
            match TcpStream::connect(self.addr) {
                Ok(mut sock) => {
                    let _ = sock.set_nodelay(true);
                    let entry = self.conns.vacant_entry();
                    let key = entry.key();
                    if let Err(e) = self.poll.registry().register(
                        &mut sock,
                        Token(key),
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        note_error(&mut self.ctx.report, &format!("register: {e}"));
                        continue;
                    }
                    let link = match Link::new(sock, self.tls.as_ref(), &self.host) {
                        Ok(link) => link,
                        Err(e) => {
                            note_error(&mut self.ctx.report, &e);
                            continue;
                        }
                    };
                    entry.insert(Conn {
                        link,
                        phase: Phase::Connecting,
                        head: Vec::new(),
                        parser: Parser::new(self.ctx.length_only, self.ctx.mode == Mode::Broadcast),
                        to_send: 0,
                        offset: 0,
                        stamps: VecDeque::new(),
                        started: Instant::now(),
                        next_seq: 0,
                        publishes: false,
                        pending: Vec::new(),
                    });
                    self.ctx.opening += 1;
                }
                Err(e) => note_error(&mut self.ctx.report, &format!("connect: {e}")),
            }
        }
    }

    /// One poll and its events; false when the wait timed out with nothing to do.
    fn turn(&mut self, until: Instant) {
        let wait = until
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(50));
        if let Err(e) = self.poll.poll(&mut self.events, Some(wait)) {
            if e.kind() != io::ErrorKind::Interrupted {
                note_error(&mut self.ctx.report, &format!("poll: {e}"));
            }
            return;
        }
        for event in self.events.iter() {
            let key = event.token().0;
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
            let writable = event.is_writable() || event.is_write_closed() || event.is_error();
            if let Err(msg) = step(conn, &mut self.ctx, &mut self.rbuf, readable, writable) {
                let mut conn = self.conns.remove(key);
                let _ = self.poll.registry().deregister(conn.link.sock());
                if msg.is_empty() {
                    // A finished close handshake (connect mode).
                    if self.ctx.sending {
                        self.ctx.to_open += 1;
                    }
                } else {
                    if conn.phase != Phase::Open && conn.phase != Phase::Closing {
                        self.ctx.opening -= 1;
                    }
                    self.ctx.outstanding -= conn.stamps.len() as u64;
                    note_error(&mut self.ctx.report, &msg);
                }
            }
        }
        self.fill();
    }

    /// Open `n` connections (handshake done, idle). Returns how long it took.
    pub fn open(&mut self, n: usize) -> Result<Duration, String> {
        let start = Instant::now();
        let deadline = start + self.timeout.max(Duration::from_secs(1)) * 3;
        self.ctx.to_open = n;
        self.fill();
        while self.ctx.to_open > 0 || self.ctx.opening > 0 {
            if Instant::now() >= deadline {
                return Err(format!(
                    "only {} of {n} connections open after {:?}",
                    self.conns.len() - self.ctx.opening,
                    deadline - start
                ));
            }
            self.turn(deadline);
        }
        if self.conns.len() < n {
            return Err(format!(
                "{} of {n} connections failed",
                n - self.conns.len()
            ));
        }
        Ok(start.elapsed())
    }

    /// Queue `count` messages on connection `key` and write what the socket takes.
    fn send(&mut self, key: usize, count: usize) {
        let now = Instant::now();
        let conn = &mut self.conns[key];
        for _ in 0..count {
            conn.stamps.push_back(now);
        }
        conn.to_send += count * self.ctx.frame_len;
        self.ctx.outstanding += count as u64;
        if let Err(e) = flush(conn, &self.ctx) {
            note_error(&mut self.ctx.report, &format!("write: {e}"));
        }
    }

    /// Run until no message is outstanding, or `limit` passes, or progress stalls.
    fn drain(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        self.ctx.last_progress = Instant::now();
        while self.ctx.outstanding > 0 {
            let now = Instant::now();
            if now >= deadline || now - self.ctx.last_progress > self.timeout {
                note_error(
                    &mut self.ctx.report,
                    &format!("{} replies never came", self.ctx.outstanding),
                );
                return false;
            }
            self.turn(deadline);
        }
        true
    }

    /// Run for `length`, failing on a stall of `timeout` with messages outstanding.
    /// CPU time of this process and the server, if this thread samples them.
    fn cpu_now(&self) -> (Option<u64>, Option<u64>) {
        if !self.sample_cpu {
            return (None, None);
        }
        let server = self.server_pid.and_then(|pid| cpu_ns(&pid.to_string()));
        (cpu_ns("self"), server)
    }

    fn note_cpu(&mut self, before: (Option<u64>, Option<u64>)) {
        let after = self.cpu_now();
        self.ctx.report.cpu_self = before.0.zip(after.0).map(|(b, a)| a - b);
        self.ctx.report.cpu_server = before.1.zip(after.1).map(|(b, a)| a - b);
    }

    fn run_for(&mut self, length: Duration) {
        let end = Instant::now() + length;
        self.ctx.last_progress = Instant::now();
        loop {
            let now = Instant::now();
            if now >= end {
                return;
            }
            if self.ctx.outstanding > 0 && now - self.ctx.last_progress > self.timeout {
                note_error(&mut self.ctx.report, "no reply for the whole --timeout");
                return;
            }
            self.turn(end);
        }
    }

    /// hold: one message on every connection; true if all answered correctly.
    pub fn one_round(&mut self) -> bool {
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        let before = self.ctx.report.verified;
        for &key in &keys {
            self.send(key, 1);
        }
        self.drain(self.timeout) && self.ctx.report.verified - before == keys.len() as u64
    }

    /// pingpong / pipeline.
    pub fn messages(&mut self, conns: usize, barrier: &Barrier) -> Report {
        if !self.open_with_the_others(conns, barrier) {
            return self.report();
        }
        self.ctx.sending = true;
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for key in keys {
            self.send(key, self.ctx.depth);
        }
        self.warm_up_and_measure();
        self.drain(self.timeout);
        self.report()
    }

    /// Open `conns` connections, then wait for the other threads to open theirs; false
    /// (noted as an error) if some failed.
    fn open_with_the_others(&mut self, conns: usize, barrier: &Barrier) -> bool {
        let opened = self.open(conns);
        barrier.wait();
        match opened {
            Ok(_) => true,
            Err(msg) => {
                note_error(&mut self.ctx.report, &msg);
                false
            }
        }
    }

    /// The warmup, then the measured window (its CPU time sampled); sending stops after it.
    fn warm_up_and_measure(&mut self) {
        self.run_for(self.warmup);
        self.ctx.recording = true;
        let cpu = self.cpu_now();
        let start = Instant::now();
        self.run_for(self.duration);
        self.ctx.report.elapsed = start.elapsed();
        self.note_cpu(cpu);
        self.ctx.recording = false;
        self.ctx.sending = false;
    }

    /// broadcast: open `conns` subscribers; on the thread that `publishes`, the first one
    /// publishes with a window of `depth`. Then drain until every subscriber has every
    /// message the publisher sent.
    pub fn broadcast(&mut self, conns: usize, barrier: &Barrier, publishes: bool) -> Report {
        // Every subscriber of every thread is in before the first publication.
        if !self.open_with_the_others(conns, barrier) {
            return self.report();
        }
        self.ctx.sending = true;
        if publishes {
            std::thread::sleep(self.settle);
            let mut publisher = Publisher::new(self.ctx.opcode, &self.ctx.expected, self.ctx.depth);
            let (key, conn) = self.conns.iter_mut().next().expect("one connection");
            conn.publishes = true;
            for _ in 0..publisher.window {
                publisher.push_next(&mut conn.pending);
            }
            self.ctx.outstanding += publisher.window as u64;
            self.ctx.publisher = Some(publisher);
            self.send(key, 0);
        }
        self.warm_up_and_measure();
        if self.ctx.publisher.is_some() {
            // The publisher's own copies come back first; then the others know the total.
            self.drain(self.timeout);
            publisher_of(&self.ctx).announce_total();
        }
        self.drain_deliveries();
        self.report()
    }

    /// Run until every subscriber here has all the publisher sent, or progress stalls.
    fn drain_deliveries(&mut self) {
        self.ctx.last_progress = Instant::now();
        loop {
            let done = broadcast::published_total()
                .is_some_and(|total| self.ctx.delivered >= total * self.conns.len() as u64);
            if done {
                return;
            }
            if self.ctx.last_progress.elapsed() > self.timeout {
                note_error(
                    &mut self.ctx.report,
                    &format!(
                        "deliveries stalled: {} received, published {:?} to {} here",
                        self.ctx.delivered,
                        broadcast::published_total(),
                        self.conns.len()
                    ),
                );
                return;
            }
            self.turn(Instant::now() + Duration::from_millis(50));
        }
    }

    /// connect: keep `conns` handshakes going, each closed cleanly, for warmup + duration.
    pub fn connect_cycle(&mut self, conns: usize, barrier: &Barrier) -> Report {
        barrier.wait();
        self.ctx.sending = true;
        self.ctx.concurrency = conns;
        self.ctx.to_open = conns;
        self.fill();
        self.run_for_connect(self.warmup);
        self.ctx.recording = true;
        let cpu = self.cpu_now();
        let start = Instant::now();
        self.run_for_connect(self.duration);
        self.ctx.report.elapsed = start.elapsed();
        self.note_cpu(cpu);
        self.ctx.recording = false;
        self.ctx.sending = false;
        self.ctx.to_open = 0;
        // Let the last closes finish, bounded.
        let deadline = Instant::now() + self.timeout;
        while !self.conns.is_empty() && Instant::now() < deadline {
            self.turn(deadline);
        }
        self.report()
    }

    fn run_for_connect(&mut self, length: Duration) {
        let end = Instant::now() + length;
        let mut last = (
            self.ctx.report.verified,
            self.ctx.report.handshakes,
            Instant::now(),
        );
        while Instant::now() < end {
            self.turn(end);
            let now_counts = (self.ctx.report.verified, self.ctx.report.handshakes);
            if now_counts != (last.0, last.1) {
                last = (now_counts.0, now_counts.1, Instant::now());
            } else if last.2.elapsed() > self.timeout {
                note_error(&mut self.ctx.report, "no handshake for the whole --timeout");
                return;
            }
        }
    }
}

fn publisher_of(ctx: &Ctx) -> &Publisher {
    ctx.publisher.as_ref().expect("the publishing thread")
}

/// Write the publisher's stamped frames the socket takes; true if all of them went.
fn flush_pending(conn: &mut Conn) -> io::Result<bool> {
    while !conn.pending.is_empty() {
        match conn.link.write(&conn.pending) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                conn.pending.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Write as much of the frame train (or the publisher's frames) as the socket takes.
fn flush(conn: &mut Conn, ctx: &Ctx) -> io::Result<()> {
    conn.link.flush_tls()?;
    if !flush_pending(conn)? {
        return Ok(());
    }
    while conn.to_send > 0 {
        let len = conn.to_send.min(ctx.train.len() - conn.offset);
        let chunk = &ctx.train[conn.offset..conn.offset + len];
        match conn.link.write(chunk) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                conn.to_send -= n;
                conn.offset = (conn.offset + n) % ctx.frame_len;
                if n < len {
                    return Ok(()); // the socket is full: wait for WRITABLE
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// React to readiness on one connection. `Err("")` means "done, remove it quietly".
fn step(
    conn: &mut Conn,
    ctx: &mut Ctx,
    rbuf: &mut [u8],
    readable: bool,
    writable: bool,
) -> Result<(), String> {
    if conn.phase == Phase::Connecting {
        if let Some(e) = conn.link.sock().take_error().map_err(|e| e.to_string())? {
            return Err(format!("connect: {e}"));
        }
        match conn.link.sock().peer_addr() {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(()),
            Err(e) => return Err(format!("connect: {e}")),
        }
        // A fresh socket takes a few hundred bytes whole.
        match conn.link.write(&ctx.request) {
            Ok(n) if n == ctx.request.len() => conn.phase = Phase::Head,
            Ok(_) => return Err("short write of the upgrade request".into()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(format!("write request: {e}")),
        }
    }
    if readable || conn.phase == Phase::Head {
        loop {
            let n = match conn.link.read(rbuf) {
                Ok(0) => {
                    return Err(if conn.phase == Phase::Closing {
                        String::new()
                    } else {
                        "server closed the connection".into()
                    })
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("read: {e}")),
            };
            let data = &rbuf[..n];
            if conn.phase == Phase::Head {
                conn.head.extend_from_slice(data);
                let Some(end) = ws::parse_response_head(&conn.head)? else {
                    continue;
                };
                let rest = conn.head.split_off(end);
                if ctx.deflate {
                    let Some(takeover) = ws::deflate_agreed(&conn.head) else {
                        return Err("the server did not agree to permessage-deflate".into());
                    };
                    conn.parser.inflating = Some(Inflating::new(takeover));
                }
                conn.head = Vec::new();
                conn.phase = Phase::Open;
                ctx.opening -= 1;
                if ctx.mode == Mode::Connect && ctx.close_after_handshake {
                    if ctx.recording {
                        ctx.report.handshakes += 1;
                        ctx.report
                            .hist
                            .record(conn.started.elapsed().as_nanos() as u64);
                    }
                    ctx.report.verified += 1;
                    conn.link
                        .write_all(&ctx.close)
                        .map_err(|e| format!("write close: {e}"))?;
                    conn.phase = Phase::Closing;
                }
                if !rest.is_empty() {
                    consume(conn, ctx, &rest)?;
                }
            } else {
                consume(conn, ctx, data)?;
            }
            if n < rbuf.len() && conn.link.short_read_drains() {
                // A short read drained the socket; edge-triggered readiness reports more.
                break;
            }
        }
    }
    if writable || conn.to_send > 0 || !conn.pending.is_empty() {
        flush(conn, ctx).map_err(|e| format!("write: {e}"))?;
    }
    Ok(())
}

/// Parse server bytes: check replies, time them, send the next message.
fn consume(conn: &mut Conn, ctx: &mut Ctx, data: &[u8]) -> Result<(), String> {
    let now = Instant::now();
    let mut closed = false;
    let Conn {
        parser,
        stamps,
        to_send,
        phase,
        next_seq,
        publishes,
        pending,
        ..
    } = conn;
    let wire_before = parser.wire_bytes;
    let recording = ctx.recording;
    let result = parser.feed(data, &ctx.expected, ctx.opcode, &mut |seen| match seen {
        Seen::Message(ok) => {
            let Some(sent) = stamps.pop_front() else {
                // A reply nobody asked for.
                ctx.report.mismatches += 1;
                return;
            };
            ctx.outstanding -= 1;
            ctx.last_progress = now;
            ctx.report.verified += 1;
            if !ok {
                ctx.report.mismatches += 1;
            }
            if ctx.recording {
                ctx.report.messages += 1;
                ctx.report.hist.record((now - sent).as_nanos() as u64);
            }
            if ctx.sending {
                stamps.push_back(now);
                *to_send += ctx.frame_len;
                ctx.outstanding += 1;
            }
        }
        Seen::Stamped { ok, stamp } => {
            let (seq, sent_ns) = broadcast::read_stamp(&stamp);
            ctx.delivered += 1;
            ctx.report.verified += 1;
            ctx.last_progress = now;
            if !ok || seq != *next_seq {
                ctx.report.mismatches += 1;
            }
            *next_seq = seq + 1;
            if ctx.recording {
                ctx.report.messages += 1;
                let latency = broadcast::now_ns(now).saturating_sub(sent_ns);
                ctx.report.hist.record(latency);
            }
            if *publishes {
                let publisher = ctx.publisher.as_mut().expect("the publishing thread");
                publisher.in_flight -= 1;
                ctx.outstanding -= 1;
                if ctx.sending {
                    publisher.push_next(pending);
                    ctx.outstanding += 1;
                }
            }
        }
        Seen::Close => closed = true,
    });
    if recording {
        ctx.report.wire_in += parser.wire_bytes - wire_before;
    }
    result.map_err(|e| format!("bad server frame: {e}"))?;
    if closed {
        if *phase == Phase::Closing {
            return Err(String::new());
        }
        return Err("server sent a close frame".into());
    }
    Ok(())
}
