//! The real binary serving `www/index.html` to headless Chromium, driven by
//! `tests/clients/browser_page.mjs` (node + playwright-core, Debian's `/usr/bin/chromium`):
//! the page's WebSocket opens (status turns green), "Hello, world!" + Enter comes back as
//! "!dlrow ,olleH", Reconnect works. A screenshot is saved under the target dir and its path
//! printed. Then SIGTERM must end the server with exit status 0.
//!
//! Needs `node`, `npm ci` in tests/clients (node_modules/playwright-core) and Chromium
//! (`CHROMIUM`, default /usr/bin/chromium). Without them the test prints `SKIPPED`, or fails
//! when `WSLOOP_REQUIRE_EXTERNAL=1`.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::{command_works, run_bounded, say, skip_or_fail, ServerProcess};

const TEST: &str = "browser_page";

#[test]
fn index_html_in_headless_chromium() {
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
        return skip_or_fail(
            TEST,
            &format!(
                "no Chromium at {} (apt-get install chromium)",
                chromium.display()
            ),
        );
    }

    let mut server = ServerProcess::start();
    let screenshot = support::scratch_dir("browser_page").join("wsloop-index.png");
    let _ = std::fs::remove_file(&screenshot);
    let url = server.http_url();
    println!("node browser_page.mjs {url} {}", screenshot.display());
    let run = run_bounded(
        Command::new("node")
            .arg(clients.join("browser_page.mjs"))
            .arg(&url)
            .arg(&screenshot)
            .current_dir(&clients)
            .env("CHROMIUM", &chromium)
            .env("BROWSER_TIMEOUT_MS", "15000"),
        Duration::from_secs(150),
    )
    .unwrap_or_else(|e| panic!("run node browser_page.mjs: {e}"));
    println!("{}", run.transcript());
    let shot_ok = std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 0);
    if shot_ok {
        say(&format!("{TEST}: screenshot: {}", screenshot.display()));
    }
    if !run.success() {
        panic!(
            "browser_page.mjs against {url} failed ({}):\n{}",
            run.describe(),
            run.transcript()
        );
    }
    assert!(shot_ok, "no screenshot at {}", screenshot.display());
    say(&format!(
        "{} ({:.1}s)",
        run.stdout.lines().last().unwrap_or(""),
        run.elapsed.as_secs_f64()
    ));

    let status = server.terminate();
    assert!(
        status.success(),
        "wsloop exited with {} after SIGTERM (want 0)",
        support::describe_status(&status)
    );
}
