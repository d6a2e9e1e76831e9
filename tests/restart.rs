//! Restart without downtime: a second wsloop process listens on the same port while the
//! first still runs (`SO_REUSEPORT`); SIGTERM to the first stops its accepting at once and
//! drains it (its WebSockets get 1001), and a client that connects every 20 ms through the
//! switch never has a connection refused or dropped: every request gets its `200`.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use support::hostile::poll_until;
use support::ws::connect;
use support::ServerProcess;
use tungstenite::Message;

/// Between two connections of the client.
const EVERY: Duration = Duration::from_millis(20);

/// One `GET /` on a new connection: the status, or what went wrong.
fn fetch(addr: SocketAddr) -> Result<u16, String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let head = String::from_utf8_lossy(&response[..response.len().min(64)]).into_owned();
    head.split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))
}

/// Connects every [`EVERY`] until stopped; counts what it did.
struct Client {
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<Vec<Result<u16, String>>>,
}

impl Client {
    fn start(addr: SocketAddr) -> Client {
        let done = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, stopping) = (done.clone(), stop.clone());
        let thread = thread::spawn(move || {
            let mut results = Vec::new();
            while !stopping.load(Ordering::Relaxed) && results.len() < 2_000 {
                results.push(fetch(addr));
                counter.fetch_add(1, Ordering::Relaxed);
                thread::sleep(EVERY);
            }
            results
        });
        Client { done, stop, thread }
    }

    /// Wait until `more` further requests are done.
    fn wait_for(&self, more: usize) {
        let target = self.done.load(Ordering::Relaxed) + more;
        poll_until(Duration::from_secs(30), || {
            (self.done.load(Ordering::Relaxed) >= target).then_some(())
        })
        .expect("the client goes on");
    }

    fn finish(self) -> Vec<Result<u16, String>> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("client thread")
    }
}

fn served_requests(server: &ServerProcess) -> usize {
    server.stderr().matches("GET / -> 200").count()
}

#[test]
fn a_new_process_takes_over_the_port_and_no_connection_is_refused() {
    let mut old = ServerProcess::start();
    let port = old.port();
    let mut websocket = connect(&old);
    let new = ServerProcess::start_with(&["--port", &port.to_string()]);
    assert_eq!(new.port(), port, "both listen on one port");

    let client = Client::start(old.connect_addr());
    client.wait_for(15);
    old.signal("TERM").unwrap();
    match websocket.read() {
        Ok(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("the old process's WebSocket: expected close 1001, got {other:?}"),
    }
    // Answer the close, as a client does.
    let _ = websocket.flush();
    let status = old
        .wait_exit(Duration::from_secs(10))
        .expect("the old process exits after draining");
    assert!(status.success(), "{status:?}");
    client.wait_for(25);
    let results = client.finish();

    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed: {failures:?}",
        failures.len(),
        results.len()
    );
    assert!(results.iter().all(|r| r == &Ok(200)), "{results:?}");
    let (by_old, by_new) = (served_requests(&old), served_requests(&new));
    support::say(&format!(
        "{} requests through the switch: {by_old} served by the old process, {by_new} by the new",
        results.len()
    ));
    assert!(
        by_new >= 25,
        "the new process serves once the old is gone ({by_new})"
    );
    assert_eq!(by_old + by_new, results.len());
}

/// Connections to let wait in the kernel's backlog: more than one accept pass takes
/// (`--accept-budget`, 64), so SIGTERM finds some still there.
const WAITING: usize = 100;

#[test]
fn connections_waiting_in_the_backlog_at_sigterm_get_their_answer() {
    let mut server = ServerProcess::start();
    let addr = server.connect_addr();
    // Stopped, the server accepts nothing: every connection waits in the backlog, its
    // request sent.
    server.signal("STOP").unwrap();
    let waiting: Vec<TcpStream> = (0..WAITING)
        .map(|_| {
            let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                .unwrap();
            stream
        })
        .collect();
    server.signal("TERM").unwrap();
    server.signal("CONT").unwrap();
    for (n, mut stream) in waiting.into_iter().enumerate() {
        let mut response = Vec::new();
        let read = stream.read_to_end(&mut response);
        let head = String::from_utf8_lossy(&response[..response.len().min(15)]).into_owned();
        assert!(
            read.is_ok() && head.starts_with("HTTP/1.1 200"),
            "connection {n} of {WAITING}: {read:?}, {head:?}"
        );
    }
    let status = server.wait_exit(Duration::from_secs(10)).expect("exits");
    assert!(status.success(), "{status:?}");
}
