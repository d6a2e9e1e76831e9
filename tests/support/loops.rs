//! `/status` of a server with several loops: WebSockets per loop, and which loop a new
//! connection landed on.
#![allow(dead_code)]

use super::http::get;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

/// Bound on every wait for the loops' counters (shared every 250 ms).
const SETTLE: Duration = Duration::from_secs(10);

/// WebSockets per loop, from the `loops` list of `/status`.
pub fn websockets_per_loop(addr: SocketAddr) -> Vec<u64> {
    let json = get(addr, "/status").body_text();
    let loops = json
        .split_once("\"loops\":[")
        .unwrap_or_else(|| panic!("no loops in {json}"))
        .1;
    loops
        .split("\"websockets\":")
        .skip(1)
        .map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().unwrap()
        })
        .collect()
}

/// Poll the per-loop counts until `done` holds for them (bounded); returns them.
pub fn wait_for_loops(addr: SocketAddr, done: impl Fn(&[u64]) -> bool) -> Vec<u64> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let loops = websockets_per_loop(addr);
        if done(&loops) {
            return loops;
        }
        assert!(
            Instant::now() < deadline,
            "loops never got there: {loops:?}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Open one connection with `open` and find its loop from the per-loop counts, which were
/// `before` (every connection before it still open). Returns the loop, the connection and
/// the counts after.
pub fn which_loop<T>(
    addr: SocketAddr,
    before: &[u64],
    open: impl FnOnce() -> T,
) -> (usize, (T, Vec<u64>)) {
    let conn = open();
    let total = before.iter().sum::<u64>() + 1;
    let now = wait_for_loops(addr, |loops| loops.iter().sum::<u64>() == total);
    let on = (0..now.len())
        .find(|&l| now[l] > before.get(l).copied().unwrap_or(0))
        .expect("one loop has one more");
    (on, (conn, now))
}
