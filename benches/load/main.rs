//! wsloop's own WebSocket load generator: `cargo bench --bench load -- --help`.
//!
//! Built not to be the bottleneck: one mio loop per thread, frames masked once up front and
//! written from a pre-built buffer, server frames parsed by hand and checked against the
//! expected reply as they stream past (no per-message allocation), one shared read buffer per
//! thread, latency in a fixed log-linear histogram.

mod broadcast;
mod hist;
mod tls;
mod worker;
mod ws;

use hist::Histogram;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::time::Duration;
use worker::{Report, Worker};

const HELP: &str = "\
load: WebSocket load generator for wsloop and its peers

USAGE: cargo bench --bench load -- MODE --addr HOST:PORT [OPTIONS]

MODES
  pingpong   C connections, one message of S bytes in flight on each
  pipeline   C connections, P messages in flight on each (--depth)
  connect    handshakes/s: open, handshake, close handshake, repeat (C at a time);
             with --hold N: open N connections, keep them idle, and print the server's
             VmRSS (--server-pid) before and after: memory per connection = delta / N
  broadcast  C subscribers of one topic (lws-mirror-protocol's instance, or any server
             that sends each message to every client, the sender included); one of them
             publishes binary messages of S bytes with a window of P (--depth) it has not
             yet received back. Every delivery is checked (each message once, in order)
             and timed from its publication: rate = deliveries/s, latency = delivery
             latency, server CPU per delivery (--server-pid)

OPTIONS
  --addr HOST:PORT     server address (required)
  --second-addr H:P    every other client thread connects here (broadcast across two
                       instances, e.g. bridged through Redis); the publisher stays on --addr
  --settle SECS        broadcast: wait this long after every subscriber is in before the
                       first publication (another instance's SUBSCRIBE to be in place) [0]
  --path PATH          request path [/]
  --protocol NAME      Sec-WebSocket-Protocol to offer, or 'none'
                       [dumb-increment-protocol; broadcast: lws-mirror-protocol]
  --conns C            connections (connect: handshakes in progress at once) [100 | 32]
  --size S             payload bytes per message [20; broadcast: 64, at least 16]
  --depth P            messages in flight per connection (pipeline) [16]
  --binary             send binary messages (default: text, printable ASCII)
  --json               payload is chat-like JSON text (compresses like real traffic)
  --deflate            offer permessage-deflate and require it: messages go compressed
                       (RSV1), compressed replies are inflated and checked; RESULT adds
                       the bytes each message took on the wire
  --expect KIND        'reverse' (reply is the payload reversed), 'echo', or 'length'
                       (only type and size are checked: for the floor server) [reverse]
  --duration SECS      measured time [5]
  --warmup SECS        unmeasured time before it [1]
  --threads N          client threads, connections split between them [1]
  --hold N             connect mode: hold N idle connections and report memory
  --server-pid PID     server process whose VmRSS --hold reports
  --concurrency K      handshakes in progress at once while opening connections [256]
  --timeout SECS       bound on every wait: opening, a stall, the final drain [10]
  --tls-ca PEM         wss://: TLS 1.3 (rustls, ring) trusting only this CA; the server
                       name is the --addr host
  --tls-insecure       wss:// without verifying the certificate (signatures still checked)
  --tls12              with --tls-*: TLS 1.2 instead of 1.3
  --tls-resume         with --tls-*: resume sessions (default: every handshake is full)
  --quiet              print only the RESULT line
  --self-test          check the frame parser, histogram and argument parser, then exit
  -h, --help           this text

Every reply is checked byte for byte; any mismatch or connection error makes the exit
status 1. The last line is machine-readable: RESULT key=value ...
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    PingPong,
    Pipeline,
    Connect,
    Broadcast,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub mode: Mode,
    pub addr: SocketAddr,
    /// `--second-addr`: the odd-numbered client threads connect here.
    pub second_addr: Option<SocketAddr>,
    /// `--settle`: broadcast's pause between the last subscriber and the first publication.
    pub settle: Duration,
    pub host: String,
    pub path: String,
    pub protocol: Option<String>,
    pub conns: usize,
    pub size: usize,
    pub depth: usize,
    pub binary: bool,
    pub json: bool,
    pub deflate: bool,
    pub echo: bool,
    pub length_only: bool,
    pub duration: Duration,
    pub warmup: Duration,
    pub threads: usize,
    pub hold: Option<usize>,
    pub server_pid: Option<u32>,
    pub concurrency: usize,
    pub timeout: Duration,
    pub quiet: bool,
    pub tls: tls::TlsOptions,
}

fn parse_args(args: Vec<String>) -> Result<Option<Options>, String> {
    let mut mode = None;
    let mut addr = None;
    let mut second_addr = None;
    let mut settle = 0.0;
    let mut path = "/".to_string();
    let mut protocol = None;
    let mut conns = None;
    let mut size = None;
    let mut depth = 16;
    let mut binary = false;
    let mut json = false;
    let mut deflate = false;
    let mut echo = false;
    let mut length_only = false;
    let mut duration = 5.0;
    let mut warmup = 1.0;
    let mut threads = 1;
    let mut hold = None;
    let mut server_pid = None;
    let mut concurrency = 256;
    let mut timeout = 10.0;
    let mut quiet = false;
    let mut tls = tls::TlsOptions::default();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        fn num<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String> {
            v.parse().map_err(|_| format!("{flag}: bad number {v:?}"))
        }
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            // `cargo bench` passes --bench to harness-less targets.
            "--bench" => {}
            "pingpong" => mode = Some(Mode::PingPong),
            "pipeline" => mode = Some(Mode::Pipeline),
            "connect" => mode = Some(Mode::Connect),
            "broadcast" => mode = Some(Mode::Broadcast),
            "--addr" => addr = Some(value()?),
            "--second-addr" => second_addr = Some(value()?),
            "--settle" => settle = num(&flag, value()?)?,
            "--path" => path = value()?,
            "--protocol" => {
                let v = value()?;
                protocol = Some((v != "none").then_some(v));
            }
            "--conns" => conns = Some(num(&flag, value()?)?),
            "--size" => size = Some(num(&flag, value()?)?),
            "--depth" => depth = num(&flag, value()?)?,
            "--binary" => binary = true,
            "--json" => json = true,
            "--deflate" => deflate = true,
            "--expect" => match value()?.as_str() {
                "reverse" => (echo, length_only) = (false, false),
                "echo" => (echo, length_only) = (true, false),
                "length" => length_only = true,
                other => return Err(format!("--expect: reverse, echo or length, not {other:?}")),
            },
            "--duration" => duration = num(&flag, value()?)?,
            "--warmup" => warmup = num(&flag, value()?)?,
            "--threads" => threads = num(&flag, value()?)?,
            "--hold" => hold = Some(num(&flag, value()?)?),
            "--server-pid" => server_pid = Some(num(&flag, value()?)?),
            "--concurrency" => concurrency = num(&flag, value()?)?,
            "--timeout" => timeout = num(&flag, value()?)?,
            "--quiet" => quiet = true,
            "--tls-ca" => tls.ca = Some(value()?.into()),
            "--tls-insecure" => tls.insecure = true,
            "--tls12" => tls.tls12 = true,
            "--tls-resume" => tls.resume = true,
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    let mode = mode.ok_or("a mode is required: pingpong, pipeline, connect or broadcast")?;
    let broadcast = mode == Mode::Broadcast;
    let protocol = protocol.unwrap_or_else(|| {
        Some(
            if broadcast {
                "lws-mirror-protocol"
            } else {
                "dumb-increment-protocol"
            }
            .into(),
        )
    });
    let size = size.unwrap_or(if broadcast { 64 } else { 20 });
    if broadcast {
        if size < ws::STAMP_BYTES {
            return Err(format!(
                "broadcast: --size must be at least {}",
                ws::STAMP_BYTES
            ));
        }
        if deflate {
            return Err("broadcast: --deflate is not supported".into());
        }
        // The stamp is binary; the rest of the payload is checked as sent (an echo).
        (binary, echo, length_only) = (true, true, false);
    }
    let host = addr.ok_or("--addr HOST:PORT is required")?;
    let addr = host
        .to_socket_addrs()
        .map_err(|e| format!("--addr {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("--addr {host}: no address"))?;
    let second_addr = match second_addr {
        Some(host) => Some(
            host.to_socket_addrs()
                .map_err(|e| format!("--second-addr {host}: {e}"))?
                .next()
                .ok_or_else(|| format!("--second-addr {host}: no address"))?,
        ),
        None => None,
    };
    if mode == Mode::PingPong {
        depth = 1;
    }
    let conns = conns.unwrap_or(if mode == Mode::Connect { 32 } else { 100 });
    if conns == 0 || depth == 0 || threads == 0 || concurrency == 0 {
        return Err("--conns, --depth, --threads and --concurrency must be positive".into());
    }
    if (tls.tls12 || tls.resume) && !tls.enabled() {
        return Err("--tls12 and --tls-resume need --tls-ca or --tls-insecure".into());
    }
    if hold.is_some() && mode != Mode::Connect {
        return Err("--hold belongs to connect mode".into());
    }
    let secs = |name: &str, v: f64| {
        Duration::try_from_secs_f64(v).map_err(|_| format!("{name}: bad duration {v}"))
    };
    Ok(Some(Options {
        mode,
        addr,
        second_addr,
        settle: secs("--settle", settle)?,
        host,
        path,
        protocol,
        conns,
        size,
        depth,
        binary,
        json,
        deflate,
        echo,
        length_only,
        duration: secs("--duration", duration)?,
        warmup: secs("--warmup", warmup)?,
        threads,
        hold,
        server_pid,
        concurrency,
        timeout: secs("--timeout", timeout)?,
        quiet,
        tls,
    }))
}

/// The server's resident set in KiB, from `/proc/PID/status`.
fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn us(nanos: u64) -> f64 {
    nanos as f64 / 1000.0
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--self-test") {
        self_test();
        return ExitCode::SUCCESS;
    }
    let opts = match parse_args(args) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("load: {msg}");
            return ExitCode::from(2);
        }
    };
    let opts = Arc::new(opts);
    let ok = match (opts.mode, opts.hold) {
        (Mode::Connect, Some(n)) => hold(&opts, n),
        _ => traffic(&opts),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// pingpong, pipeline and connect: run the threads, merge, print.
fn traffic(opts: &Arc<Options>) -> bool {
    let threads = opts.threads.min(opts.conns);
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let opts = Arc::clone(opts);
            let barrier = Arc::clone(&barrier);
            // Split the connections as evenly as possible.
            let conns = opts.conns / threads + usize::from(t < opts.conns % threads);
            std::thread::spawn(move || -> Result<Report, String> {
                let mut worker = Worker::new(&opts)?;
                worker.sample_cpu = t == 0;
                if let Some(second) = opts.second_addr.filter(|_| t % 2 == 1) {
                    worker.addr = second;
                }
                match opts.mode {
                    Mode::Connect => Ok(worker.connect_cycle(conns, &barrier)),
                    Mode::Broadcast => Ok(worker.broadcast(conns, &barrier, t == 0)),
                    _ => Ok(worker.messages(conns, &barrier)),
                }
            })
        })
        .collect();
    let mut total = Report::default();
    let mut hist = Histogram::default();
    for handle in handles {
        match handle.join() {
            Ok(Ok(report)) => {
                hist.merge(&report.hist);
                total.add(&report);
            }
            Ok(Err(msg)) => {
                eprintln!("load: {msg}");
                total.errors += 1;
            }
            Err(_) => {
                eprintln!("load: a worker thread panicked");
                total.errors += 1;
            }
        }
    }
    let secs = total.elapsed.as_secs_f64().max(1e-9);
    let (kind, rate) = match opts.mode {
        Mode::Connect => ("handshakes", total.handshakes as f64 / secs),
        Mode::Broadcast => ("deliveries", total.messages as f64 / secs),
        _ => ("msgs", total.messages as f64 / secs),
    };
    let pct = |ns: Option<u64>| ns.map(|ns| ns as f64 / (secs * 1e7));
    let cpu_self = pct(total.cpu_self);
    let cpu_server = pct(total.cpu_server);
    let server_us_per_op = total
        .cpu_server
        .filter(|_| rate > 0.0)
        .map(|ns| ns as f64 / 1000.0 / (rate * secs));
    let show = |v: Option<f64>, digits: usize| v.map_or("?".into(), |v| format!("{v:.digits$}"));
    // What a server achieves per second of its own CPU (broadcast: deliveries).
    let per_server_cpu_s = server_us_per_op.filter(|&us| us > 0.0).map(|us| 1e6 / us);
    let wire_in_per_msg =
        (total.messages > 0).then(|| total.wire_in as f64 / total.messages as f64);
    let mode = match opts.mode {
        Mode::PingPong => "pingpong",
        Mode::Pipeline => "pipeline",
        Mode::Connect => "connect",
        Mode::Broadcast => "broadcast",
    };
    if !opts.quiet {
        println!(
            "{mode}: {} conns x {} in flight x {} B {}, {:.1} s measured, {} threads",
            opts.conns,
            if opts.mode == Mode::Connect {
                0
            } else {
                opts.depth
            },
            opts.size,
            if opts.binary { "binary" } else { "text" },
            secs,
            threads
        );
        println!(
            "  {kind}/s {rate:.0}  ({:.1} MB/s payload each way)",
            rate * opts.size as f64 / 1e6 * f64::from(u8::from(opts.mode != Mode::Connect))
        );
        println!(
            "  latency us: p50 {:.1}  p99 {:.1}  p999 {:.1}  max {:.1}  (n={})",
            us(hist.quantile(0.5)),
            us(hist.quantile(0.99)),
            us(hist.quantile(0.999)),
            us(hist.quantile(1.0)),
            hist.count()
        );
        println!(
            "  CPU: load generator {}%  server {}%  server CPU per {} {} us",
            show(cpu_self, 0),
            show(cpu_server, 0),
            kind.strip_suffix("ies")
                .map_or(&kind[..kind.len() - 1], |_| "delivery"),
            show(server_us_per_op, 2)
        );
        if opts.mode == Mode::Broadcast {
            println!(
                "  {kind} per server CPU-second {}",
                show(per_server_cpu_s, 0)
            );
        }
        println!(
            "  wire bytes per message (payload {} B): sent {}  received {}",
            opts.size,
            total.wire_out_per_msg,
            show(wire_in_per_msg, 0)
        );
        println!(
            "  verified {}  mismatches {}  errors {}",
            total.verified, total.mismatches, total.errors
        );
    }
    println!(
        "RESULT mode={mode} conns={} depth={} size={} binary={} rate={rate:.0} \
         p50_us={:.1} p99_us={:.1} p999_us={:.1} client_cpu_pct={} server_cpu_pct={} \
         server_us_per_op={} wire_out_per_msg={} wire_in_per_msg={} deflate={} tls={} \
         verified={} mismatches={} errors={} per_server_cpu_s={}",
        opts.conns,
        if opts.mode == Mode::Connect {
            0
        } else {
            opts.depth
        },
        opts.size,
        opts.binary,
        us(hist.quantile(0.5)),
        us(hist.quantile(0.99)),
        us(hist.quantile(0.999)),
        show(cpu_self, 0),
        show(cpu_server, 0),
        show(server_us_per_op, 2),
        total.wire_out_per_msg,
        show(wire_in_per_msg, 0),
        opts.deflate,
        opts.tls.label(),
        total.verified,
        total.mismatches,
        total.errors,
        show(per_server_cpu_s, 0)
    );
    let ok = total.mismatches == 0 && total.errors == 0 && total.verified > 0;
    if !ok {
        eprintln!("load: FAILED (mismatches, errors, or nothing verified)");
    }
    ok
}

/// connect --hold N: memory per idle connection.
fn hold(opts: &Arc<Options>, n: usize) -> bool {
    let rss = || opts.server_pid.and_then(vm_rss_kib);
    let mut worker = match Worker::new(opts) {
        Ok(w) => w,
        Err(msg) => {
            eprintln!("load: {msg}");
            return false;
        }
    };
    let before = rss();
    let opened = worker.open(n);
    // Let the server settle (it may still be reading our last handshakes).
    std::thread::sleep(Duration::from_millis(500));
    let idle = rss();
    let round = opened.as_ref().ok().map(|_| worker.one_round());
    std::thread::sleep(Duration::from_millis(200));
    let after_msg = rss();
    let report = worker.report();
    let per_conn = |after: Option<u64>| match (before, after) {
        (Some(b), Some(a)) => format!("{:.0}", (a as f64 - b as f64) * 1024.0 / n as f64),
        _ => "?".into(),
    };
    let show = |v: Option<u64>| v.map_or("?".into(), |v| v.to_string());
    if !opts.quiet {
        match &opened {
            Ok(elapsed) => println!(
                "hold: {n} connections open in {:.2} s ({:.0} handshakes/s)",
                elapsed.as_secs_f64(),
                n as f64 / elapsed.as_secs_f64().max(1e-9)
            ),
            Err(msg) => println!("hold: opening failed: {msg}"),
        }
        println!(
            "  server VmRSS KiB: before {}  idle {}  after one message each {}",
            show(before),
            show(idle),
            show(after_msg)
        );
        println!(
            "  bytes per connection: idle {}  after one message {}",
            per_conn(idle),
            per_conn(after_msg)
        );
    }
    println!(
        "RESULT mode=hold conns={n} rss_before_kib={} rss_idle_kib={} rss_msg_kib={} \
         bytes_per_conn={} bytes_per_conn_msg={} tls={} verified={} mismatches={} errors={}",
        show(before),
        show(idle),
        show(after_msg),
        per_conn(idle),
        per_conn(after_msg),
        opts.tls.label(),
        report.verified,
        report.mismatches,
        report.errors
    );
    let ok = opened.is_ok()
        && round == Some(true)
        && report.mismatches == 0
        && report.errors == 0
        && (opts.server_pid.is_none() || (before.is_some() && idle.is_some()));
    if !ok {
        eprintln!("load: FAILED");
    }
    ok
}

fn self_test() {
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let o = parse_args(args(
        "--bench pipeline --addr 127.0.0.1:1 --depth=4 --binary --expect echo",
    ))
    .unwrap()
    .unwrap();
    assert_eq!(o.mode, Mode::Pipeline);
    assert_eq!(o.depth, 4);
    assert!(o.binary && o.echo);
    assert!(parse_args(args("--help")).unwrap().is_none());
    assert!(parse_args(args("pingpong")).is_err());
    hist::self_test::buckets_are_contiguous_and_tight();
    hist::self_test::quantiles();
    ws::self_test::byte_by_byte_and_fragmented();
    ws::self_test::compressed_replies_are_inflated_and_checked();
    ws::self_test::stamps_are_handed_over_and_the_rest_checked();
    let o = parse_args(args("broadcast --addr 127.0.0.1:1"))
        .unwrap()
        .unwrap();
    assert!(o.binary && o.echo && o.size == 64);
    assert_eq!(o.protocol.as_deref(), Some("lws-mirror-protocol"));
    assert!(parse_args(args("broadcast --addr 127.0.0.1:1 --size 8")).is_err());
    println!("self-test: 6 passed, 0 failed");
}
