//! Criterion benches for the per-request and per-message hot paths that are pure functions:
//! head parsing + upgrade response, and the reverse protocol's text reversal.
//! Run: `cargo bench --bench hot_paths`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use wsloop::demo::reverse_text;
use wsloop::http::request::parse_head;
use wsloop::http::upgrade::{accept_response, check_upgrade, UpgradeCheck};

const UPGRADE_HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: dumb-increment-protocol\r\n\
Origin: http://127.0.0.1:9000\r\nUser-Agent: bench\r\n\r\n";

fn handshake(c: &mut Criterion) {
    c.bench_function("head parse + upgrade check + 101", |b| {
        let mut out = Vec::with_capacity(256);
        b.iter(|| {
            let parsed = parse_head(black_box(UPGRADE_HEAD), 64).expect("valid head");
            let wsloop::http::ParsedHead::Complete { request, .. } = parsed else {
                panic!("head is complete");
            };
            let UpgradeCheck::Valid(ask) = check_upgrade(&request) else {
                panic!("upgrade is valid");
            };
            out.clear();
            accept_response(&ask.key, Some("dumb-increment-protocol"), &mut out);
            black_box(&out);
        })
    });
}

fn reversal(c: &mut Criterion) {
    let mut group = c.benchmark_group("reverse_text");
    for (name, unit) in [
        ("ascii", "Hello, world! "),
        ("unicode", "añb 🇫🇷🇩🇪 e\u{301} "),
    ] {
        for size in [20usize, 1024, 16 * 1024] {
            let text: String = unit.chars().cycle().take(size).collect();
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_function(format!("{name}/{size}"), |b| {
                b.iter(|| reverse_text(black_box(text.as_str())))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, handshake, reversal);
criterion_main!(benches);
