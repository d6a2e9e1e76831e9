//! RFC 6455 conformance: Autobahn|Testsuite's fuzzing client (`wstest`, via
//! `../shared/tools/autobahn/run.sh`, found beside the repository) against the real binary with
//! its default limits, offering the `echo` subprotocol. Cases 1-7, 9 and 10 (12.*/13.*,
//! permessage-deflate, are excluded). Passes when run.sh exits 0 (no case FAILED); prints
//! run.sh's summary line and the report's path.
//!
//! Needs run.sh and its wstest (`AUTOBAHN_PREFIX`, default /opt/py27, made by setup.sh).
//! Without them the test prints `SKIPPED`, or fails when `WSLOOP_REQUIRE_EXTERNAL=1`.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::{run_bounded, say, skip_or_fail, ServerProcess};

const TEST: &str = "autobahn";
/// The cases run (`WSLOOP_AUTOBAHN_CASES` overrides, e.g. "1.*,2.*" while developing).
const CASES: &str = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*";
/// run.sh's own limit on wstest; ours is a little longer so run.sh reports first.
const WSTEST_TIMEOUT_SECS: u64 = 1500;

#[test]
fn autobahn_fuzzingclient_echo() {
    let run_sh = support::repo_root().join("../shared/tools/autobahn/run.sh");
    if !run_sh.is_file() {
        return skip_or_fail(
            TEST,
            &format!(
                "{} not found (shared/ must sit beside the repository)",
                run_sh.display()
            ),
        );
    }
    let run_sh = run_sh.canonicalize().unwrap_or(run_sh);
    let prefix =
        PathBuf::from(std::env::var("AUTOBAHN_PREFIX").unwrap_or_else(|_| "/opt/py27".into()));
    let wstest = prefix.join("bin/wstest");
    if !wstest.is_file() {
        return skip_or_fail(
            TEST,
            &format!(
                "{} missing (run ../shared/tools/autobahn/setup.sh)",
                wstest.display()
            ),
        );
    }

    let cases = std::env::var("WSLOOP_AUTOBAHN_CASES")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| CASES.into());

    let mut server = ServerProcess::start();
    let outdir = support::scratch_dir("autobahn").join("wsloop");
    let url = server.ws_url();
    println!("{} {url} {} {cases}", run_sh.display(), outdir.display());
    let run = run_bounded(
        Command::new("bash")
            .arg(&run_sh)
            .arg(&url)
            .arg(&outdir)
            .arg(&cases)
            .env("AUTOBAHN_PROTOCOLS", "echo")
            .env("AUTOBAHN_AGENT", "wsloop")
            .env("AUTOBAHN_PREFIX", &prefix)
            .env("AUTOBAHN_TIMEOUT", WSTEST_TIMEOUT_SECS.to_string()),
        Duration::from_secs(WSTEST_TIMEOUT_SECS + 120),
    )
    .unwrap_or_else(|e| panic!("run {}: {e}", run_sh.display()));
    println!("{}", run.transcript());

    let summary = run
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("autobahn "))
        .unwrap_or("(no summary line)")
        .to_string();
    say(&format!("{TEST}: {summary}"));
    say(&format!(
        "{TEST}: report: {}",
        outdir.join("index.html").display()
    ));
    if !run.success() {
        panic!(
            "run.sh {url} failed ({}; exit 1 = some case FAILED, 2 = run broken):\n{summary}\n{}",
            run.describe(),
            run.transcript()
        );
    }

    assert!(server.is_running(), "wsloop exited during the Autobahn run");
    let status = server.terminate();
    assert!(
        status.success(),
        "wsloop exited with {} after SIGTERM (want 0)",
        support::describe_status(&status)
    );
}
