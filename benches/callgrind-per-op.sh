#!/usr/bin/env bash
# Instructions per message or handshake of one server, deterministic (callgrind), for this
# noisy shared machine: runs the server under `valgrind --tool=callgrind` twice, driven by the
# load generator for D1 and then D2 seconds, and divides the difference in instructions by the
# difference in operations, so start-up and connection set-up cancel out. Stops the servers it
# started, by PID.
#
#   benches/callgrind-per-op.sh SERVER_BINARY D1 D2 LOAD_ARGS...
#   e.g. benches/callgrind-per-op.sh target/release/wsloop 1 4 pingpong --conns 100 --size 16384
#        benches/callgrind-per-op.sh target/release/peer-floor 1 3 connect --conns 32 --expect length
#
# Build the server with symbols first (CARGO_PROFILE_RELEASE_STRIP=false
# CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release); the profiles stay in
# $OUT (default a temp dir) for callgrind_annotate. Env LOAD: the load generator's binary.
set -euo pipefail
bin=$1 d1=$2 d2=$3; shift 3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOAD=${LOAD:-$(cd "$ROOT" && cargo bench --bench load --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"name":"load".*"executable":"\([^"]*\)".*/\1/p' | tail -n1)}
OUT=${OUT:-$(mktemp -d /tmp/callgrind-per-op.XXXXXX)}
args=(--port 0)
[[ $(basename "$bin") != *floor* ]] && args+=(--www "$ROOT/www" --max-connections 11000)
declare -A ops ir
for d in "$d1" "$d2"; do
  RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$OUT/run-$d.out" "$bin" "${args[@]}" \
    >"$OUT/server-$d.log" 2>&1 &
  pid=$!
  addr=""
  for _ in $(seq 200); do
    addr=$(sed -n 's|.*http://\([0-9.:]*\)/.*|\1|p' "$OUT/server-$d.log" | head -n1)
    [[ -n $addr ]] && break
    sleep 0.1
  done
  [[ -n $addr ]] || { echo "server did not start: $OUT/server-$d.log" >&2; kill "$pid"; exit 1; }
  result=$("$LOAD" "$@" --addr "$addr" --duration "$d" --warmup 0.3 --quiet | tail -n1)
  kill -TERM "$pid"
  wait "$pid" || true
  ops[$d]=$(sed -n 's/.* verified=\([0-9]*\).*/\1/p' <<<"$result")
  ir[$d]=$(callgrind_annotate "$OUT/run-$d.out" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
  echo "${d} s: ${ops[$d]} operations, ${ir[$d]} instructions" >&2
done
echo "$(((ir[$d2] - ir[$d1]) / (ops[$d2] - ops[$d1]))) instructions per operation (profiles in $OUT)"
