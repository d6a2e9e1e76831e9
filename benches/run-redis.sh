#!/usr/bin/env bash
# Topics through Redis: the load generator's broadcast mode with 2 wsloop instances bridged
# by a real redis-server (--redis), 1,000 subscribers on each, the publisher on the first,
# against one wsloop without Redis holding all 2,000 (same subscribers, same publisher).
# Servers and Redis pinned to CPU 0, the load generator to CPU 1; the two setups alternate
# within each repetition. Prints one TSV line per run, then medians. Stops what it started,
# by PID.
#
#   benches/run-redis.sh [--reps 3] [--duration 5] [--subs 2000] [--window 16] [--size 64]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
REPS=3 DURATION=5 SUBS=2000 WINDOW=16 SIZE=64
while (($#)); do
  case $1 in
    --reps) REPS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --subs) SUBS=$2; shift ;;
    --window) WINDOW=$2; shift ;;
    --size) SIZE=$2; shift ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run-redis: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
command -v redis-server >/dev/null || { echo "run-redis: needs redis-server (apt-get install redis-server)" >&2; exit 1; }

RUN=$(mktemp -d /tmp/wsloop-redis.XXXXXX)
STARTED=()
finish() {
  local pid
  for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  STARTED=()
}
trap finish EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cd "$ROOT"
cargo build --release --bin wsloop >&2
LOAD=$(cargo bench --bench load --no-run --message-format=json 2>/dev/null |
  grep '"name":"load"' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)
[[ -x $LOAD ]] || { echo "run-redis: load generator not built" >&2; exit 1; }
WSLOOP=$CARGO_TARGET_DIR/release/wsloop
PORT=$((20000 + RANDOM % 20000))

listening() { # port
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "run-redis: nothing listens on $1" >&2
  exit 1
}
spawn() { # port command...: in the background on CPU 0
  local port=$1; shift
  RUST_LOG=warn taskset -c 0 "$@" >"$RUN/$port.log" 2>&1 &
  STARTED+=($!)
  listening "$port"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

printf 'setup\tsubs\twindow\tsize\trep\tdeliveries_per_s\tp50_us\tp99_us\terrors\n' | tee "$RUN/results.tsv"
for rep in $(seq "$REPS"); do
  for setup in local redis; do
    PORT=$((PORT + 3))
    if [[ $setup == local ]]; then
      spawn "$PORT" "$WSLOOP" --port "$PORT" --max-connections 20000
      targets=(--addr "127.0.0.1:$PORT")
    else
      spawn "$PORT" redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no
      for port in $((PORT + 1)) $((PORT + 2)); do
        spawn "$port" "$WSLOOP" --port "$port" --max-connections 20000 --redis "redis://127.0.0.1:$PORT"
      done
      targets=(--addr "127.0.0.1:$((PORT + 1))" --second-addr "127.0.0.1:$((PORT + 2))" --settle 1)
    fi
    result=$(taskset -c 1 "$LOAD" broadcast "${targets[@]}" --threads 2 --conns "$SUBS" \
      --depth "$WINDOW" --size "$SIZE" --duration "$DURATION" --timeout 30 --quiet | tail -n1) ||
      echo "run-redis: $setup failed: $result" >&2
    finish
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$setup" "$SUBS" "$WINDOW" "$SIZE" "$rep" \
      "$(field rate "$result")" "$(field p50_us "$result")" "$(field p99_us "$result")" \
      "$(field errors "$result")" | tee -a "$RUN/results.tsv"
  done
done

echo "medians (runs in $RUN/results.tsv)" >&2
printf '\n| setup | subscribers | K | size | deliveries/s | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|---:|\n'
for setup in local redis; do
  awk -F'\t' -v s="$setup" '$1 == s { print $6, $7, $8 }' "$RUN/results.tsv" |
    sort -n | awk -v s="$setup" -v subs="$SUBS" -v k="$WINDOW" -v size="$SIZE" '
      { rate[NR] = $1; p50[NR] = $2; p99[NR] = $3 }
      END { m = int((NR + 1) / 2); printf "| %s | %s | %s | %s | %.0f | %.2f | %.2f |\n", s, subs, k, size, rate[m], p50[m] / 1000, p99[m] / 1000 }'
done
