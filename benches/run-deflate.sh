#!/usr/bin/env bash
# The permessage-deflate figures of benches/RESULTS.md, reproducibly:
#   1. pingpong and pipeline at 1 KiB and 16 KiB of chat-like JSON text, deflate off, on
#      (--deflate-cache-bytes 0: every reply compressed, as distinct messages would be) and
#      on with the cache (every reply is the same message: how a broadcast costs):
#      rate, server CPU per message, bytes per message on the wire (each way);
#   2. memory per idle connection: N connections that each exchanged one 1 KiB message,
#      without deflate, with the shared codec, and in takeover mode at window bits 9..15;
#   3. the ratio on 2,000 small JSON chat messages, shared against takeover.
# Server pinned to CPU 0, load to CPU 1, release builds, RUST_LOG=warn.
#
#   benches/run-deflate.sh [--reps N] [--duration SECS] [--hold N] [--takeover-hold N]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
REPS=3 DURATION=5 HOLD=10000 TAKEOVER_HOLD=2000
while (($#)); do
  case $1 in
    --reps) REPS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --hold) HOLD=$2; shift ;;
    --takeover-hold) TAKEOVER_HOLD=$2; shift ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run-deflate: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cd "$ROOT"
cargo build --release --bin wsloop >&2
bench_exe() {
  cargo bench --bench "$1" --no-run --message-format=json 2>/dev/null |
    grep '"kind":\["bench"\]' | grep "\"name\":\"$1\"" |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1
}
LOAD=$(bench_exe load)
RATIO=$(bench_exe deflate_ratio)
[[ -x $LOAD && -x $RATIO ]] || { echo "run-deflate: benches not built" >&2; exit 1; }
"$LOAD" --self-test >&2
WSLOOP=$CARGO_TARGET_DIR/release/wsloop

SERVER=""
start() { # start ARGS...: the server on a free port; sets SERVER (pid) and PORT
  local out; out=$(mktemp)
  RUST_LOG=warn taskset -c 0 "$WSLOOP" --port 0 --max-connections $((HOLD + 1000)) "$@" >"$out" 2>&1 &
  SERVER=$!
  for _ in $(seq 50); do grep -q 'listening on' "$out" && break; sleep 0.1; done
  PORT=$(sed -n 's|.*listening on http://[^/]*:\([0-9]*\)/.*|\1|p' "$out" | head -n1)
  rm -f "$out"
}
stop() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap stop EXIT
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

echo "# 1. throughput, server CPU and wire bytes (median of $REPS x ${DURATION}s)"
printf '%-34s %-8s %10s %12s %10s %10s\n' cell deflate msg/s server_us/msg wire_out wire_in
for cell in "pingpong --size 1024" "pingpong --size 16384" \
  "pipeline --size 1024 --depth 16" "pipeline --size 16384 --depth 16"; do
  for deflate in off on cached; do
    rates=() cpus=() line=""
    for _ in $(seq "$REPS"); do
      case $deflate in
        off) start --deflate off ;;
        on) start --deflate-cache-bytes 0 ;;
        cached) start ;;
      esac
      flag=(); [[ $deflate != off ]] && flag=(--deflate)
      # shellcheck disable=SC2086
      line=$(taskset -c 1 "$LOAD" $cell --json "${flag[@]}" --addr "127.0.0.1:$PORT" \
        --conns 100 --duration "$DURATION" --warmup 1 --server-pid "$SERVER" --quiet | tail -n1)
      stop
      rates+=("$(field rate <<<"$line")") cpus+=("$(field server_us_per_op <<<"$line")")
    done
    median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }
    printf '%-34s %-8s %10s %12s %10s %10s\n' "$cell" "$deflate" "$(median "${rates[@]}")" \
      "$(median "${cpus[@]}")" "$(field wire_out_per_msg <<<"$line")" "$(field wire_in_per_msg <<<"$line")"
  done
done

echo
echo "# 2. memory per connection after one 1 KiB message each (bytes)"
hold() { # hold N LOAD-FLAGS SERVER-ARGS...
  local n=$1 flags=$2; shift 2
  start "$@"
  # shellcheck disable=SC2086
  taskset -c 1 "$LOAD" connect --hold "$n" --addr "127.0.0.1:$PORT" --server-pid "$SERVER" \
    --protocol echo --expect echo --size 1024 --json --timeout 60 $flags --quiet | tail -n1 |
    field bytes_per_conn_msg
  stop
}
printf '%-28s %6s conns: %s\n' "no deflate" "$HOLD" "$(hold "$HOLD" "")"
printf '%-28s %6s conns: %s\n' "shared (default)" "$HOLD" "$(hold "$HOLD" --deflate)"
printf '%-28s %6s conns: %s\n' "no deflate" 1000 "$(hold 1000 "")"
printf '%-28s %6s conns: %s\n' "shared (default)" 1000 "$(hold 1000 --deflate)"
for bits in 9 11 13 15; do
  printf '%-28s %6s conns: %s\n' "takeover, window bits $bits" "$TAKEOVER_HOLD" \
    "$(hold "$TAKEOVER_HOLD" --deflate --deflate takeover --deflate-window-bits "$bits")"
done

echo
echo "# 3. ratio on 2,000 small JSON chat messages (wire / raw, --deflate-min-bytes 0)"
for mode in "shared" "takeover --deflate-window-bits 9" "takeover --deflate-window-bits 11" \
  "takeover --deflate-window-bits 13" "takeover --deflate-window-bits 15"; do
  # shellcheck disable=SC2086
  start --deflate $mode --deflate-min-bytes 0
  printf '%-36s %s\n' "$mode" "$(taskset -c 1 "$RATIO" "127.0.0.1:$PORT" 2000 | tail -n1 | field ratio)"
  stop
done
