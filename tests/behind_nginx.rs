//! wsloop behind nginx with `deploy/nginx.conf` (its ports and log paths substituted): two
//! instances sharing topics through a real Redis, clients connecting through nginx on one
//! topic see every message in one order, and plain HTTP goes through too. Needs the `redis`
//! feature (the instances are started with `--redis`).
#![cfg(feature = "redis")]

mod support;

use std::fs;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::hostile::poll_until;
use support::http::get;
use support::redis::{free_port, require_tool, RedisServer};
use support::topics::exchange_in_one_order;
use support::ws::{try_connect_to, Client};
use support::{scratch_dir, send_signal, wait_timeout, ServerProcess};

/// nginx with `deploy/nginx.conf` in front of `upstreams`; stopped (by PID) on drop.
struct Nginx {
    child: Child,
    addr: SocketAddr,
}

impl Nginx {
    fn start(upstreams: [SocketAddr; 2]) -> Nginx {
        let bin = require_tool("nginx", "nginx-light");
        let run = scratch_dir(&format!("nginx-{}", std::process::id()));
        let port = free_port();
        let deployed = fs::read_to_string(support::repo_root().join("deploy/nginx.conf")).unwrap();
        let temp_paths: String = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
            .iter()
            .map(|kind| format!("    {kind}_temp_path {}/{kind};\n", run.display()))
            .collect();
        let conf = deployed
            .replace("127.0.0.1:9001", &upstreams[0].to_string())
            .replace("127.0.0.1:9002", &upstreams[1].to_string())
            .replace("listen 80;", &format!("listen 127.0.0.1:{port};"))
            .replace("/var/log/nginx/", &format!("{}/", run.display()))
            .replace("http {\n", &format!("http {{\n{temp_paths}"));
        for (what, changed) in [
            ("the upstreams", !conf.contains("127.0.0.1:900")),
            ("the port", conf.contains(&format!(":{port};"))),
        ] {
            assert!(changed, "deploy/nginx.conf: could not substitute {what}");
        }
        let path = run.join("nginx.conf");
        fs::write(&path, conf).unwrap();
        let globals = format!(
            "daemon off; master_process off; pid {}/nginx.pid;",
            run.display()
        );
        let child = Command::new(bin)
            .arg("-p")
            .arg(&run)
            .arg("-e")
            .arg(run.join("error.log"))
            .arg("-c")
            .arg(&path)
            .args(["-g", &globals])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut nginx = Nginx { child, addr };
        let up = poll_until(Duration::from_secs(10), || {
            std::net::TcpStream::connect(addr).is_ok().then_some(())
        });
        if up.is_none() {
            let log = fs::read_to_string(run.join("error.log")).unwrap_or_default();
            let status = nginx.child.try_wait();
            panic!("nginx did not start ({status:?}):\n{log}");
        }
        nginx
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = send_signal(self.child.id(), "TERM");
        if !matches!(
            wait_timeout(&mut self.child, Duration::from_secs(5)),
            Ok(Some(_))
        ) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn clients_through_nginx_on_one_topic_see_one_order() {
    let redis = RedisServer::start();
    let instances: Vec<ServerProcess> = (0..2)
        .map(|_| ServerProcess::start_with(&["--redis", &redis.url()]))
        .collect();
    let nginx = Nginx::start([instances[0].connect_addr(), instances[1].connect_addr()]);

    assert_eq!(get(nginx.addr, "/").status, 200, "HTTP through nginx");
    // least_conn spreads the long-lived connections over both instances.
    let mut clients: Vec<Client> = (0..4)
        .map(|_| {
            try_connect_to(nginx.addr, "/?mirror=room", &["lws-mirror-protocol"])
                .unwrap_or_else(|e| panic!("WebSocket through nginx: {e}"))
                .0
        })
        .collect();
    redis.wait_subscribers("wsloop:mirror/room", 2);

    let seen = exchange_in_one_order(&mut clients, 20);
    assert_eq!(seen.len(), 80);
    for server in &instances {
        let upgrades = server
            .stderr()
            .matches("connected (lws-mirror-protocol")
            .count();
        assert_eq!(
            upgrades, 2,
            "least_conn gives each instance two of the four"
        );
    }
}
