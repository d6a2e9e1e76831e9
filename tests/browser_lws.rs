//! The lws demo pages in headless Chromium, driven by `tests/clients/browser_lws.mjs`:
//! `increment.html` ticks, resets and closes with 1000 "seeya"; `mirror.html` in two tabs
//! shares a typed line and a drawn stroke. Screenshots go under the target dir (paths
//! printed). Skips (or fails with `WSLOOP_REQUIRE_EXTERNAL=1`) without node, playwright-core
//! or Chromium, like `browser_page`.

mod support;

use support::{say, ServerProcess};

const TEST: &str = "browser_lws";

#[test]
fn increment_and_mirror_pages_in_headless_chromium() {
    let mut server = ServerProcess::start();
    let shots = support::scratch_dir("browser_lws");
    let output = shots.display().to_string();
    let Some(run) =
        support::browser::run_script(TEST, "browser_lws.mjs", &server.http_url(), &output)
    else {
        return;
    };
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
