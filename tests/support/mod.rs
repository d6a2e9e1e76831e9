//! Shared helpers for the integration tests: run the real `wsloop` binary, run external
//! clients with bounded waits, and skip (or, in CI, fail) when an external tool is missing.
//!
//! Use from a test file with `mod support;`. Not every test binary uses every helper.
#![allow(dead_code)]

pub mod autobahn;
pub mod browser;
pub mod files;
pub mod hostile;
pub mod http;
pub mod inproc;
pub mod loops;
mod process;
pub mod pubsub;
pub mod redis;
pub mod tls;
pub mod topics;
pub mod ws;

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long the server gets to print its `listening on` line.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server gets to exit after SIGTERM.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

const LISTENING_PREFIX: &str = "listening on http://";
const LISTENING_TLS_PREFIX: &str = "listening on https://";

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `<repo>/www`, the static files the tests serve.
pub fn www_dir() -> PathBuf {
    repo_root().join("www")
}

/// A per-test-binary scratch directory under the target dir (`CARGO_TARGET_TMPDIR/<name>`),
/// created if needed. Screenshots, reports and server logs go here, so they survive the run.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Print a line that is seen even when libtest captures the test's output (it writes to the
/// process's stderr directly, not through `eprintln!`). For SKIPPED lines, summaries, paths.
pub fn say(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// `WSLOOP_REQUIRE_EXTERNAL=1`: a test whose external tool (python websockets, node +
/// playwright-core + chromium, Autobahn's wstest) is missing must fail instead of skipping.
/// CI sets it after installing everything.
pub fn require_external() -> bool {
    std::env::var("WSLOOP_REQUIRE_EXTERNAL").is_ok_and(|v| v.trim() == "1")
}

/// Call when an external tool is missing, then `return` from the test. Panics when
/// [`require_external`] is set; otherwise prints a loud `SKIPPED:` line.
pub fn skip_or_fail(test: &str, why: &str) {
    if require_external() {
        panic!("{test}: {why} (WSLOOP_REQUIRE_EXTERNAL=1, so this is a failure, not a skip)");
    }
    say(&format!(
        "\n**** SKIPPED: {test}: {why} (set WSLOOP_REQUIRE_EXTERNAL=1 to make this fail) ****\n"
    ));
}

/// Send `signal` (e.g. "TERM", "INT", "KILL") to a process id, via kill(1) (no libc dependency).
pub fn send_signal(pid: u32, signal: &str) -> io::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("kill -{signal} {pid}: {status}")))
    }
}

/// Poll `child` until it exits or `timeout` passes. `Ok(None)` means still running.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Describe an exit status, including the signal that ended the process, if any.
pub fn describe_status(status: &ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => format!("{status}"),
    }
}

fn read_to_string_lossy(path: &Path) -> String {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => format!("<cannot read {}: {e}>", path.display()),
    }
}

/// The last `max` bytes of `s` (on a char boundary), with a marker when cut.
pub fn tail(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("[... {start} bytes cut ...]\n{}", &s[start..])
}

/// A running `wsloop` binary (`CARGO_BIN_EXE_wsloop`), started with `--port 0 --www <repo>/www`
/// plus extra arguments. Its stderr (the log) goes to a file under the target dir; stdout after
/// the `listening on` line is collected too. Killed (SIGKILL) on drop if still running, and when
/// the test is panicking the server's log is printed.
pub struct ServerProcess {
    child: Option<Child>,
    addr: SocketAddr,
    stderr_path: PathBuf,
    stdout_rest: Arc<Mutex<String>>,
    exit_status: Option<ExitStatus>,
}

impl ServerProcess {
    /// Start with the default limits and no extra arguments.
    pub fn start() -> ServerProcess {
        Self::start_with(&[])
    }

    /// Start with extra command-line arguments after `--port 0 --www <repo>/www`.
    /// Panics (with the server's stderr) when it does not report listening within
    /// [`STARTUP_TIMEOUT`].
    pub fn start_with(extra_args: &[&str]) -> ServerProcess {
        Self::start_with_env(extra_args, &[])
    }

    /// [`ServerProcess::start_with`] with environment variables for the server (`RUST_LOG`
    /// among them overrides the default `info`).
    pub fn start_with_env(extra_args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let logs = scratch_dir("server-logs");
        let stderr_path = logs.join(format!("wsloop-{}-{n}.stderr", std::process::id()));
        let stderr_file = File::create(&stderr_path)
            .unwrap_or_else(|e| panic!("create {}: {e}", stderr_path.display()));

        let bin = env!("CARGO_BIN_EXE_wsloop");
        let mut cmd = Command::new(bin);
        cmd.arg("--port")
            .arg("0")
            .arg("--www")
            .arg(www_dir())
            .args(extra_args)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr_file));
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {bin}: {e}"));

        let stdout = child.stdout.take().expect("piped stdout");
        let stdout_rest = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<Result<SocketAddr, String>>();
        {
            let rest = Arc::clone(&stdout_rest);
            thread::Builder::new()
                .name("wsloop-stdout".into())
                .spawn(move || read_stdout(stdout, tx, rest))
                .expect("spawn stdout reader thread");
        }

        let result = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(r) => r,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "no `{LISTENING_PREFIX}ADDR/` line on stdout within {STARTUP_TIMEOUT:?}"
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err("stdout reader ended without a result".into())
            }
        };
        match result {
            Ok(addr) => ServerProcess {
                child: Some(child),
                addr,
                stderr_path,
                stdout_rest,
                exit_status: None,
            },
            Err(why) => {
                let _ = child.kill();
                let status = wait_timeout(&mut child, SHUTDOWN_TIMEOUT)
                    .ok()
                    .flatten()
                    .map(|s| describe_status(&s))
                    .unwrap_or_else(|| "did not exit".into());
                panic!(
                    "wsloop {extra_args:?} failed to start: {why} (process: {status})\n\
                     stdout:\n{}\n--- stderr ({}) ---\n{}",
                    stdout_rest.lock().map(|s| s.clone()).unwrap_or_default(),
                    stderr_path.display(),
                    tail(&read_to_string_lossy(&stderr_path), 16 * 1024),
                );
            }
        }
    }

    /// The address the server reported (as printed: 127.0.0.1:PORT by default).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// An address a client can connect to: the reported one, or loopback for a wildcard bind.
    pub fn connect_addr(&self) -> SocketAddr {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.addr.port())
    }

    /// `ws://ADDR/`
    pub fn ws_url(&self) -> String {
        format!("ws://{}/", self.connect_addr())
    }

    /// `http://ADDR/`
    pub fn http_url(&self) -> String {
        format!("http://{}/", self.connect_addr())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Where the server's stderr (its log) is written.
    pub fn stderr_path(&self) -> &Path {
        &self.stderr_path
    }

    /// The server's stderr so far.
    pub fn stderr(&self) -> String {
        read_to_string_lossy(&self.stderr_path)
    }

    /// What the server printed on stdout after the `listening on` line.
    pub fn stdout_rest(&self) -> String {
        self.stdout_rest
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Print the server's log (last 32 KiB) through the test's captured output.
    pub fn print_logs(&self) {
        println!(
            "--- wsloop stderr ({}) ---\n{}\n--- end of wsloop stderr ---",
            self.stderr_path.display(),
            tail(&self.stderr(), 32 * 1024)
        );
    }

    /// Still running (not exited, not yet reaped)?
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => match child.try_wait() {
                Ok(None) => true,
                Ok(Some(status)) => {
                    self.exit_status = Some(status);
                    self.child = None;
                    false
                }
                Err(_) => false,
            },
            None => false,
        }
    }

    /// Send a signal ("TERM", "INT", ...) to the server without waiting.
    pub fn signal(&self, signal: &str) -> io::Result<()> {
        match self.pid() {
            Some(pid) => send_signal(pid, signal),
            None => Err(io::Error::other("server already exited")),
        }
    }

    /// SIGTERM, then wait up to [`SHUTDOWN_TIMEOUT`] for the exit status. Panics (after
    /// SIGKILL, with the server's log) when it does not exit in time.
    pub fn terminate(&mut self) -> ExitStatus {
        self.stop_with("TERM", SHUTDOWN_TIMEOUT)
    }

    /// Send `signal` and wait up to `timeout` for the exit status (see [`Self::terminate`]).
    pub fn stop_with(&mut self, signal: &str, timeout: Duration) -> ExitStatus {
        if let Some(status) = self.exit_status {
            return status;
        }
        let mut child = self.child.take().expect("server process handle");
        if let Ok(Some(status)) = child.try_wait() {
            self.exit_status = Some(status);
            return status;
        }
        if let Err(e) = send_signal(child.id(), signal) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sending SIG{signal} to wsloop: {e}");
        }
        match wait_timeout(&mut child, timeout) {
            Ok(Some(status)) => {
                self.exit_status = Some(status);
                status
            }
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                self.print_logs();
                panic!("wsloop did not exit within {timeout:?} after SIG{signal}");
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = wait_timeout(&mut child, SHUTDOWN_TIMEOUT);
        }
        if thread::panicking() {
            self.print_logs();
        }
    }
}

fn parse_listening(line: &str) -> Option<SocketAddr> {
    let line = line.trim_end();
    line.strip_prefix(LISTENING_PREFIX)
        .or_else(|| line.strip_prefix(LISTENING_TLS_PREFIX))?
        .strip_suffix('/')?
        .parse()
        .ok()
}

fn read_stdout(
    stdout: impl Read,
    tx: mpsc::Sender<Result<SocketAddr, String>>,
    rest: Arc<Mutex<String>>,
) {
    let mut reader = BufReader::new(stdout);
    let mut found = false;
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {
                if !found {
                    if let Some(addr) = parse_listening(&line) {
                        found = true;
                        let _ = tx.send(Ok(addr));
                        continue;
                    }
                }
                if let Ok(mut r) = rest.lock() {
                    r.push_str(&line);
                }
            }
            Err(e) => {
                if !found {
                    let _ = tx.send(Err(format!("reading stdout: {e}")));
                }
                return;
            }
        }
    }
    if !found {
        let _ = tx.send(Err(format!(
            "stdout closed (the process exited?) before a `{LISTENING_PREFIX}ADDR/` line"
        )));
    }
}

/// What a bounded external command did.
pub struct Finished {
    /// `None` when it was killed for running past its time limit.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn describe(&self) -> String {
        match &self.status {
            Some(s) => describe_status(s),
            None => "killed: time limit exceeded".into(),
        }
    }

    /// stdout and stderr, labelled, for a failure message or the test's captured output.
    pub fn transcript(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}\n--- {} after {:.1}s ---",
            tail(&self.stdout, 64 * 1024),
            tail(&self.stderr, 64 * 1024),
            self.describe(),
            self.elapsed.as_secs_f64()
        )
    }
}

/// Run `cmd` to completion with stdout/stderr captured, in its own process group; after
/// `timeout` the whole group is SIGKILLed (so a shell script's children go too).
pub fn run_bounded(cmd: &mut Command, timeout: Duration) -> io::Result<Finished> {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let out = drain(child.stdout.take().expect("piped stdout"));
    let err = drain(child.stderr.take().expect("piped stderr"));
    let status = match wait_timeout(&mut child, timeout)? {
        Some(status) => Some(status),
        None => {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    // A grandchild that kept the pipes open must not hang us: bounded joins.
    let stdout = out.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
    let stderr = err.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
    Ok(Finished {
        status,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    })
}

fn drain(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
    });
    rx
}

/// Is `program` runnable (`program ARGS` exits 0 within 30 s)?
pub fn command_works(program: &str, args: &[&str]) -> bool {
    let mut cmd = Command::new(program);
    cmd.args(args);
    matches!(run_bounded(&mut cmd, Duration::from_secs(30)), Ok(f) if f.success())
}
