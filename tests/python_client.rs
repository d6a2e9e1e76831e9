//! The real binary against an independent client: `tests/clients/ws_roundtrip.py` (Python
//! `websockets`, asyncio client) checks the `dumb-increment-protocol` reversal (ASCII, grapheme
//! clusters, trailing newline, binary, 1 MiB), the default protocol, `echo`, the 400 for an
//! unknown subprotocol, and permessage-deflate (websockets' default offer: text and binary of
//! 20 B to 1 MiB; a build without the `deflate` feature must decline the offer, and the same
//! messages go uncompressed); then the same over `wss://` with an `ssl` context trusting the
//! test CA.
//! Then SIGTERM must end the server with exit status 0.
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
    let Some(version) = websockets_version(&python) else {
        return;
    };
    let server = ServerProcess::start();
    let url = server.ws_url();
    run_script(&python, &version, server, &url, &[]);
}

/// The same checks over `wss://`, with an `ssl` context trusting only the test CA.
#[cfg(feature = "tls")]
#[test]
fn python_websockets_roundtrip_over_wss() {
    let python = python();
    let Some(version) = websockets_version(&python) else {
        return;
    };
    let (server, ca) = support::tls::start_server("python_client", &[]);
    let ca_file = ca.write_ca_pem();
    let url = format!("wss://{}/", server.connect_addr());
    let ca_file = ca_file.to_str().expect("UTF-8 path").to_owned();
    run_script(&python, &version, server, &url, &["--ca", &ca_file]);
}

/// Run ws_roundtrip.py against `url`, then stop the server (exit status 0 wanted).
fn run_script(python: &str, version: &str, mut server: ServerProcess, url: &str, extra: &[&str]) {
    let script = support::repo_root().join("tests/clients/ws_roundtrip.py");
    println!("{python} (websockets {version}) {} {url}", script.display());
    let run = run_bounded(
        Command::new(python)
            .arg(&script)
            .arg(url)
            .args(extra)
            .args(["--timeout", "10"])
            .args([
                "--deflate",
                if cfg!(feature = "deflate") {
                    "yes"
                } else {
                    "no"
                },
            ])
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

/// The `websockets` version `python` imports, or `None` after skip_or_fail.
fn websockets_version(python: &str) -> Option<String> {
    let probe = run_bounded(
        Command::new(python).args([
            "-c",
            "import websockets, websockets.asyncio.client; print(websockets.__version__)",
        ]),
        Duration::from_secs(30),
    );
    match probe {
        Ok(f) if f.success() => Some(f.stdout.trim().to_string()),
        Ok(f) => {
            skip_or_fail(
                TEST,
                &format!(
                    "`{python}` cannot import websockets.asyncio.client (pip install websockets; \
                     WSLOOP_PYTHON picks the interpreter): {}",
                    f.stderr.trim().lines().last().unwrap_or("")
                ),
            );
            None
        }
        Err(e) => {
            skip_or_fail(TEST, &format!("cannot run `{python}`: {e}"));
            None
        }
    }
}
