//! Running the Autobahn|Testsuite fuzzing client (`../shared/tools/autobahn/run.sh`, found
//! beside the repository) against a server URL, with skip-or-fail when it is not installed.

use super::{describe_status, run_bounded, say, skip_or_fail, ServerProcess};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// run.sh's own limit on wstest; ours is a little longer so run.sh reports first.
const WSTEST_TIMEOUT_SECS: u64 = 1500;

/// The cases to run: `WSLOOP_AUTOBAHN_CASES` (e.g. "1.*,2.*" while developing) or `default`.
pub fn cases(default: &str) -> String {
    std::env::var("WSLOOP_AUTOBAHN_CASES")
        .ok()
        .filter(|cases| !cases.trim().is_empty())
        .unwrap_or_else(|| default.into())
}

/// Run `cases` (12.* and 13.*, permessage-deflate, only when listed) against `url` offering
/// `protocol`. Returns `None` when Autobahn is not installed
/// (after skip_or_fail: a CI run with WSLOOP_REQUIRE_EXTERNAL=1 has failed already); panics with
/// the transcript when a case FAILED, a close was not clean, a case was only NON-STRICT, or the
/// run broke; otherwise returns the summary line.
pub fn run(test: &str, url: &str, agent: &str, protocol: &str, cases: &str) -> Option<String> {
    let run_sh = super::repo_root().join("../shared/tools/autobahn/run.sh");
    if !run_sh.is_file() {
        skip_or_fail(
            test,
            &format!(
                "{} not found (shared/ must sit beside the repository)",
                run_sh.display()
            ),
        );
        return None;
    }
    let run_sh = run_sh.canonicalize().unwrap_or(run_sh);
    let prefix =
        PathBuf::from(std::env::var("AUTOBAHN_PREFIX").unwrap_or_else(|_| "/opt/py27".into()));
    let wstest = prefix.join("bin/wstest");
    if !wstest.is_file() {
        skip_or_fail(
            test,
            &format!(
                "{} missing (run ../shared/tools/autobahn/setup.sh)",
                wstest.display()
            ),
        );
        return None;
    }
    let outdir = super::scratch_dir("autobahn").join(agent);
    println!("{} {url} {} {cases}", run_sh.display(), outdir.display());
    let run = run_bounded(
        Command::new("bash")
            .arg(&run_sh)
            .arg(url)
            .arg(&outdir)
            .arg(cases)
            .env("AUTOBAHN_PROTOCOLS", protocol)
            // The case list decides, 12.*/13.* (permessage-deflate) included when listed.
            .env("AUTOBAHN_EXCLUDE", "")
            .env("AUTOBAHN_AGENT", agent)
            .env("AUTOBAHN_PREFIX", &prefix)
            .env("AUTOBAHN_TIMEOUT", WSTEST_TIMEOUT_SECS.to_string())
            // A close handshake that is not clean (wrong code, unclean) fails the run too.
            .env("AUTOBAHN_FAIL_ON_CLOSE", "1"),
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
    say(&format!("{test}: {summary}"));
    say(&format!(
        "{test}: report: {}",
        outdir.join("index.html").display()
    ));
    if !run.success() {
        panic!(
            "run.sh {url} failed ({}; exit 1 = some case FAILED, 2 = run broken):\n{summary}\n{}",
            run.describe(),
            run.transcript()
        );
    }
    // Strict, not only correct: invalid UTF-8 fails at its first byte (6.4.x), and so on.
    assert!(
        summary.contains(" NON-STRICT=0 "),
        "{test}: some cases are only NON-STRICT: {summary}"
    );
    Some(summary)
}

/// Run `cases` against the wsloop binary `server` at `url` offering `echo`, then check that
/// it kept running and exits 0 on SIGTERM. Skips as [`run`] does.
pub fn run_against_binary(
    server: &mut ServerProcess,
    test: &str,
    url: &str,
    agent: &str,
    cases: &str,
) {
    if run(test, url, agent, "echo", cases).is_none() {
        return;
    }
    assert!(server.is_running(), "wsloop exited during the Autobahn run");
    let status = server.terminate();
    assert!(
        status.success(),
        "wsloop exited with {} after SIGTERM (want 0)",
        describe_status(&status)
    );
}
