//! `examples/embed.rs`: a host application's own mio `Poll` with an admin port, and wsloop
//! registered in it. The example file is compiled into this test as a module, so the test
//! always runs the current code (the example's `main` only parses flags and calls the same
//! `run`), in a thread, on port 0.
//!
//! Checks: both addresses are announced; `count` counts the WebSocket; `broadcast hi` reaches
//! WebSocket clients of every protocol; `quit` closes them with 1001 and `run` returns.

#[allow(dead_code)]
#[path = "../examples/embed.rs"]
mod embed;
mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use support::ws::{next_data, try_connect, Client};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

struct Admin {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Admin {
    fn connect(addr: SocketAddr) -> Admin {
        let stream = TcpStream::connect_timeout(&addr, WAIT).expect("admin connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        Admin {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    /// Send one command line, read one answer line.
    fn ask(&mut self, command: &str) -> String {
        self.writer
            .write_all(format!("{command}\n").as_bytes())
            .unwrap();
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("answer to {command:?}: {e}"));
        line.trim_end().to_owned()
    }
}

fn addr_after(line: &str, prefix: &str) -> SocketAddr {
    line.strip_prefix(prefix)
        .unwrap_or_else(|| panic!("expected {prefix:?}..., got {line:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("address in {line:?}: {e}"))
}

fn connect(addr: SocketAddr, protocols: &[&str]) -> Client {
    try_connect(addr, protocols)
        .unwrap_or_else(|e| panic!("WebSocket {protocols:?}: {e}"))
        .0
}

/// Read until the server's close frame; answer it (tungstenite does on the next read) and
/// hang up (the server waits for our FIN). Returns the server's close code.
fn close_code(mut ws: Client) -> Option<CloseCode> {
    let code = loop {
        match ws.read() {
            Ok(Message::Close(frame)) => break frame.map(|f| f.code),
            Ok(_) => continue,
            Err(e) => panic!("expected a close frame, got {e}"),
        }
    };
    loop {
        match ws.read() {
            Ok(_) => continue,
            Err(tungstenite::Error::ConnectionClosed) => return code,
            Err(e) => panic!("after the close frame: {e}"),
        }
    }
}

#[test]
fn options_parse() {
    let args = ["--port", "0", "--admin-port", "7", "--bind", "::1"].map(String::from);
    let options = embed::Options::parse(args.into_iter()).unwrap();
    assert_eq!((options.port, options.admin_port), (0, 7));
    assert_eq!(options.bind.to_string(), "::1");
    assert!(embed::Options::parse(["--nope".to_string()].into_iter()).is_err());
    assert!(embed::Options::parse(["--port".to_string()].into_iter()).is_err());
}

#[test]
fn admin_port_counts_broadcasts_and_quits() {
    let (line_tx, line_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let options = embed::Options {
            port: 0,
            admin_port: 0,
            ..embed::Options::default()
        };
        let result = embed::run(&options, |line| {
            let _ = line_tx.send(line);
        });
        let _ = done_tx.send(result.map_err(|e| e.to_string()));
    });
    let admin_addr = addr_after(&line_rx.recv_timeout(WAIT).unwrap(), "admin on ");
    let ws_addr = addr_after(&line_rx.recv_timeout(WAIT).unwrap(), "websocket on ");

    let mut admin = Admin::connect(admin_addr);
    let mut first = connect(ws_addr, &[]);
    // The 101 arrived, so the host's loop has the connection.
    assert_eq!(admin.ask("count"), "connections 1");

    let mut second = connect(ws_addr, &["echo"]);
    assert_eq!(admin.ask("count"), "connections 2");
    assert_eq!(admin.ask("broadcast hi there"), "ok");
    assert_eq!(next_data(&mut first), Message::text("hi there"));
    assert_eq!(next_data(&mut second), Message::text("hi there"));
    // wsloop still serves its own protocols in the host's loop.
    second.send(Message::text("echo?")).unwrap();
    assert_eq!(next_data(&mut second), Message::text("echo?"));
    assert!(admin
        .ask("frobnicate")
        .starts_with("error: unknown command"));

    assert_eq!(admin.ask("quit"), "bye");
    assert_eq!(close_code(first), Some(CloseCode::Away));
    assert_eq!(close_code(second), Some(CloseCode::Away));
    let result = done_rx
        .recv_timeout(WAIT)
        .expect("the host's loop did not end after quit");
    assert_eq!(result, Ok(()));
    // The admin connection went with the host.
    let mut rest = String::new();
    assert_eq!(
        admin.reader.read_line(&mut rest).ok(),
        Some(0),
        "got {rest:?}"
    );
}
