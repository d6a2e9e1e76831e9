//! Running a node + playwright-core script from `tests/clients/` against a server, in Debian's
//! headless Chromium, with skip-or-fail when node, playwright-core or Chromium is missing.

use super::{command_works, run_bounded, skip_or_fail, Finished};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Whole-script bound; the scripts bound each of their own waits by `BROWSER_TIMEOUT_MS`.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(150);

/// Run `tests/clients/<script> <url> <output>`; `None` when a tool is missing (after
/// skip_or_fail). Panics with the transcript when the script fails.
pub fn run_script(test: &str, script: &str, url: &str, output: &str) -> Option<Finished> {
    let clients = super::repo_root().join("tests/clients");
    let chromium =
        PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if !command_works("node", &["--version"]) {
        skip_or_fail(test, "`node` is not installed (apt-get install nodejs npm)");
        return None;
    }
    if !clients
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        skip_or_fail(
            test,
            "tests/clients/node_modules/playwright-core is missing (run `npm ci` in tests/clients)",
        );
        return None;
    }
    if !chromium.is_file() {
        let why = format!(
            "no Chromium at {} (apt-get install chromium)",
            chromium.display()
        );
        skip_or_fail(test, &why);
        return None;
    }
    println!("node {script} {url} {output}");
    let run = run_bounded(
        Command::new("node")
            .arg(clients.join(script))
            .arg(url)
            .arg(output)
            .current_dir(&clients)
            .env("CHROMIUM", &chromium)
            .env("BROWSER_TIMEOUT_MS", "15000")
            .env(
                "WSLOOP_DEFLATE",
                if cfg!(feature = "deflate") { "1" } else { "0" },
            ),
        SCRIPT_TIMEOUT,
    )
    .unwrap_or_else(|e| panic!("run node {script}: {e}"));
    println!("{}", run.transcript());
    if !run.success() {
        panic!(
            "{script} against {url} failed ({}):\n{}",
            run.describe(),
            run.transcript()
        );
    }
    Some(run)
}
