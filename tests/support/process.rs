//! Extra [`ServerProcess`] helpers.
#![allow(dead_code)]

use std::process::ExitStatus;
use std::thread;
use std::time::{Duration, Instant};

use super::ServerProcess;

impl ServerProcess {
    /// Wait (polling, bounded by `timeout`) for the server to exit by itself, e.g. after a
    /// signal sent with [`ServerProcess::signal`]. `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while self.is_running() {
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
        // Already reaped: `terminate` returns the recorded status without signalling.
        Some(self.terminate())
    }
}
