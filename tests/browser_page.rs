//! The real binary serving `www/index.html` to headless Chromium, driven by
//! `tests/clients/browser_page.mjs` (node + playwright-core, Debian's `/usr/bin/chromium`):
//! the page's WebSocket opens (status turns green), "Hello, world!" + Enter comes back as
//! "!dlrow ,olleH", Reconnect works, the page shows permessage-deflate as negotiated
//! (`ws.extensions`; "(none)" in a build without the `deflate` feature) and a 3000-character
//! message, compressed both ways when negotiated, comes back reversed. A
//! screenshot is saved under the target dir and its path printed. Then SIGTERM must end the
//! server with exit status 0. The same over `https://` and `wss://` with the TLS build.
//!
//! Needs `node`, `npm ci` in tests/clients (node_modules/playwright-core) and Chromium
//! (`CHROMIUM`, default /usr/bin/chromium). Without them the test prints `SKIPPED`, or fails
//! when `WSLOOP_REQUIRE_EXTERNAL=1`.

mod support;

use support::{say, ServerProcess};

const TEST: &str = "browser_page";

#[test]
fn index_html_in_headless_chromium() {
    let server = ServerProcess::start();
    let url = server.http_url();
    load_page(server, &url, "wsloop-index.png");
}

/// Over `https://` (Chromium with `--ignore-certificate-errors`): the page connects with
/// `wss://` (a `ws://` socket from an https page would be blocked as mixed content).
#[cfg(feature = "tls")]
#[test]
fn index_html_over_https_goes_green_over_wss() {
    let (server, _ca) = support::tls::start_server(TEST, &[]);
    let url = format!("https://{}/", server.connect_addr());
    load_page(server, &url, "wsloop-index-https.png");
}

fn load_page(mut server: ServerProcess, url: &str, png: &str) {
    let screenshot = support::scratch_dir("browser_page").join(png);
    let _ = std::fs::remove_file(&screenshot);
    let output = screenshot.display().to_string();
    let Some(run) = support::browser::run_script(TEST, "browser_page.mjs", url, &output) else {
        return;
    };
    assert!(
        std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 0),
        "no screenshot at {}",
        screenshot.display()
    );
    say(&format!("{TEST}: screenshot: {}", screenshot.display()));
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
