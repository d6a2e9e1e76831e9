//! SIGTERM right after the `listening on` line must still be a graceful shutdown (exit 0):
//! the line is printed only once the signal handlers are installed (`Server::run_with`).
//! Before that fix, 17 of 30 starts ended killed by SIGTERM (exit status 143) when bash sent
//! the signal the moment it read the line. Driven from bash (`coproc` + builtin `kill`)
//! because a `kill` process is too slow to hit the window reliably.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{repo_root, run_bounded, say, www_dir};

const SCRIPT: &str = r#"
bin=$1; www=$2; killed=0
for i in $(seq 1 30); do
  coproc W { exec "$bin" --port 0 --www "$www" 2>/dev/null; }
  pid=$W_PID
  read -r line <&"${W[0]}"
  kill -TERM "$pid"
  wait "$pid"; rc=$?
  [ "$rc" -ne 0 ] && killed=$((killed+1))
done
echo "killed=$killed"
"#;

#[test]
fn sigterm_right_after_listening_exits_0() {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_wsloop"))
        .arg(www_dir())
        .current_dir(repo_root());
    let done = run_bounded(&mut cmd, Duration::from_secs(60)).expect("run bash");
    assert!(done.success(), "{}", done.transcript());
    say(&format!("startup signal race: {}", done.stdout.trim()));
    assert_eq!(
        done.stdout.trim(),
        "killed=0",
        "servers killed by an early SIGTERM"
    );
}
