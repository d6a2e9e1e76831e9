//! The lws demo pages in headless Chromium, driven by `tests/clients/browser_lws.mjs`:
//! `increment.html` ticks, resets and closes with 1000 "seeya"; `mirror.html` in two tabs
//! shares a typed line and a drawn stroke. Screenshots go under the target dir (paths
//! printed). Skips (or fails with `WSLOOP_REQUIRE_EXTERNAL=1`) without node, playwright-core
//! or Chromium, like `browser_page`.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::{command_works, run_bounded, say, skip_or_fail, ServerProcess};

const TEST: &str = "browser_lws";

#[test]
fn increment_and_mirror_pages_in_headless_chromium() {
    let clients = support::repo_root().join("tests/clients");
    let chromium =
        PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if !command_works("node", &["--version"]) {
        return skip_or_fail(TEST, "`node` is not installed (apt-get install nodejs npm)");
    }
    if !clients
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return skip_or_fail(
            TEST,
            "tests/clients/node_modules/playwright-core is missing (run `npm ci` in tests/clients)",
        );
    }
    if !chromium.is_file() {
        let why = format!(
            "no Chromium at {} (apt-get install chromium)",
            chromium.display()
        );
        return skip_or_fail(TEST, &why);
    }

    let mut server = ServerProcess::start();
    let shots = support::scratch_dir("browser_lws");
    let url = server.http_url();
    let run = run_bounded(
        Command::new("node")
            .arg(clients.join("browser_lws.mjs"))
            .arg(&url)
            .arg(&shots)
            .current_dir(&clients)
            .env("CHROMIUM", &chromium)
            .env("BROWSER_TIMEOUT_MS", "15000"),
        Duration::from_secs(150),
    )
    .unwrap_or_else(|e| panic!("run node browser_lws.mjs: {e}"));
    println!("{}", run.transcript());
    if !run.success() {
        panic!(
            "browser_lws.mjs against {url} failed ({}):\n{}",
            run.describe(),
            run.transcript()
        );
    }
    for name in ["increment.png", "mirror-tab1.png", "mirror-tab2.png"] {
        let shot = shots.join(name);
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 0),
            "no screenshot {}",
            shot.display()
        );
    }
    say(&format!(
        "{TEST}: screenshots in {}; {} ({:.1}s)",
        shots.display(),
        run.stdout.lines().last().unwrap_or(""),
        run.elapsed.as_secs_f64()
    ));
    let status = server.terminate();
    assert!(status.success(), "wsloop exit after SIGTERM: {status:?}");
}
