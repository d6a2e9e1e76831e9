//! The real binary against an independent client: `tests/clients/ws_roundtrip.py` (Python
//! `websockets`, sync client) checks the `dumb-increment-protocol` reversal (ASCII, grapheme
//! clusters, trailing newline, binary, 1 MiB), the default protocol, `echo`, the 400 for an
//! unknown subprotocol, and permessage-deflate (websockets' default offer: text and binary of
//! 20 B to 1 MiB). Then SIGTERM must end the server with exit status 0.
//!
//! Python: `WSLOOP_PYTHON` (default `python3`); it needs `websockets` (>= 13). Without it the
//! test prints `SKIPPED`, or fails when `WSLOOP_REQUIRE_EXTERNAL=1`.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{run_bounded, say, skip_or_fail, ServerProcess};

const TEST: &str = "python_client";

fn python() -> String {
    std::env::var("WSLOOP_PYTHON")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "python3".into())
}

#[test]
fn python_websockets_roundtrip() {
    let python = python();
    let probe = run_bounded(
        Command::new(&python).args([
            "-c",
            "import websockets, websockets.sync.client; print(websockets.__version__)",
        ]),
        Duration::from_secs(30),
    );
    let version = match probe {
        Ok(f) if f.success() => f.stdout.trim().to_string(),
        Ok(f) => {
            return skip_or_fail(
                TEST,
                &format!(
                    "`{python}` cannot import websockets.sync.client (pip install websockets; \
                     WSLOOP_PYTHON picks the interpreter): {}",
                    f.stderr.trim().lines().last().unwrap_or("")
                ),
            )
        }
        Err(e) => return skip_or_fail(TEST, &format!("cannot run `{python}`: {e}")),
    };

    let mut server = ServerProcess::start();
    let script = support::repo_root().join("tests/clients/ws_roundtrip.py");
    let url = server.ws_url();
    println!("{python} (websockets {version}) {} {url}", script.display());
    let run = run_bounded(
        Command::new(&python)
            .arg(&script)
            .arg(&url)
            .args(["--timeout", "10"])
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        Duration::from_secs(180),
    )
    .unwrap_or_else(|e| panic!("run {python} {}: {e}", script.display()));
    println!("{}", run.transcript());
    if !run.success() {
        panic!(
            "ws_roundtrip.py against {url} failed ({}):\n{}",
            run.describe(),
            run.transcript()
        );
    }
    let summary = run.stdout.lines().last().unwrap_or("").to_string();
    say(&format!("{summary} ({:.1}s)", run.elapsed.as_secs_f64()));

    let status = server.terminate();
    assert!(
        status.success(),
        "wsloop exited with {} after SIGTERM (want 0)",
        support::describe_status(&status)
    );
}
