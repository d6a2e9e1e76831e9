//! A real `redis-server` for the bridge tests (Debian package `redis-server`, which brings
//! `redis-cli`): started on a free loopback port with no persistence, stopped by its PID.
//! A missing binary fails the test with a clear message; nothing is skipped.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::hostile::poll_until;
use super::{scratch_dir, send_signal, wait_timeout};

/// How long redis-server gets to answer PING after starting.
const REDIS_STARTUP: Duration = Duration::from_secs(10);

/// The path of `tool` if it is installed (in `/usr/bin`, or on PATH).
pub fn require_tool(tool: &str, package: &str) -> String {
    let found = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(tool))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain([
            Path::new("/usr/sbin").join(tool),
            Path::new("/usr/bin").join(tool),
        ])
        .find(|candidate| candidate.is_file());
    match found {
        Some(path) => path.to_string_lossy().into_owned(),
        None => panic!(
            "{tool} is not installed: this test needs a real one (apt-get install {package}; \
             .ci/run installs it)"
        ),
    }
}

/// A free loopback port (bound and released; the caller binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// A running redis-server; killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    /// On a free port.
    pub fn start() -> RedisServer {
        Self::start_on(free_port())
    }

    /// On `port` (again, after [`RedisServer::kill`]: a restart).
    pub fn start_on(port: u16) -> RedisServer {
        let bin = require_tool("redis-server", "redis-server");
        let log = scratch_dir("redis-logs").join(format!("redis-{port}.log"));
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--logfile", log.to_str().expect("utf-8 path")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let server = RedisServer {
            child: Some(child),
            port,
        };
        let up = poll_until(REDIS_STARTUP, || server.ping().then_some(()));
        assert!(
            up.is_some(),
            "redis-server on port {port} did not answer PING (log: {})",
            log.display()
        );
        server
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL by PID and reap: Redis is gone without a goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = send_signal(child.id(), "KILL");
            let _ = wait_timeout(&mut child, Duration::from_secs(10));
        }
    }

    /// True if it answers PING.
    pub fn ping(&self) -> bool {
        self.command(&["PING"])
            .is_some_and(|reply| reply.starts_with("+PONG"))
    }

    /// Send one command (RESP array of bulk strings) and return the raw reply, read until
    /// it stops arriving; `None` if Redis cannot be reached.
    pub fn command(&self, args: &[&str]) -> Option<String> {
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .ok()?;
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
        stream.write_all(&request).ok()?;
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    reply.extend_from_slice(&buf[..n]);
                    if reply.ends_with(b"\r\n") {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        (!reply.is_empty()).then(|| String::from_utf8_lossy(&reply).into_owned())
    }

    /// Subscriptions Redis counts for `channel` (`PUBSUB NUMSUB`): one per wsloop instance
    /// with a local subscriber of its topic.
    pub fn subscribers(&self, channel: &str) -> Option<u64> {
        let reply = self.command(&["PUBSUB", "NUMSUB", channel])?;
        reply.lines().last()?.strip_prefix(':')?.trim().parse().ok()
    }

    /// Wait until `channel` has `count` subscribers; panics after 10 s.
    pub fn wait_subscribers(&self, channel: &str, count: u64) {
        let got = poll_until(Duration::from_secs(10), || {
            (self.subscribers(channel) == Some(count)).then_some(())
        });
        assert!(
            got.is_some(),
            "{channel} never had {count} subscribers on Redis (now {:?})",
            self.subscribers(channel)
        );
    }

    /// `PUBLISH channel payload`: how many subscriptions got it.
    pub fn publish(&self, channel: &str, payload: &str) -> Option<u64> {
        let reply = self.command(&["PUBLISH", channel, payload])?;
        reply.trim().strip_prefix(':')?.parse().ok()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
