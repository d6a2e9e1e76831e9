#!/usr/bin/env bash
# Broadcast (topic fan-out): the load generator's broadcast mode against wsloop's
# lws-mirror-protocol (topics, one loop, and --threads 2) and a peer that does the same
# (C++ uWebSockets' app.publish, sender included; built outside the repository, see
# benches/RESULTS.md "Broadcast"). S subscribers of one topic, one of them publishing with a
# window of K it has not received back. Servers pinned to CPU 0 (--threads 2: CPUs 0-1), the
# load generator to CPU 1; the servers alternate within each repetition. Prints one TSV line
# per run, then medians. Stops every server it started, by PID.
#
#   benches/run-broadcast.sh --uws /tmp/uws/broadcast_server [--reps 3] [--duration 5]
#       [--subs "1000 10000"] [--windows "4 64"] [--sizes "64"] [--servers "wsloop uws wsloop2"]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
REPS=3 DURATION=5 WARMUP=1 UWS="" SUBS="1000 10000" WINDOWS="4 64" SIZES="64"
SERVERS="wsloop uws wsloop2"
while (($#)); do
  case $1 in
    --reps) REPS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --uws) UWS=$2; shift ;;
    --subs) SUBS=$2; shift ;;
    --windows) WINDOWS=$2; shift ;;
    --sizes) SIZES=$2; shift ;;
    --servers) SERVERS=$2; shift ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run-broadcast: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -z $UWS || -x $UWS ]] || { echo "run-broadcast: --uws $UWS is not executable" >&2; exit 2; }
[[ -n $UWS ]] || SERVERS=${SERVERS//uws/}

RUN=$(mktemp -d /tmp/wsloop-broadcast.XXXXXX)
PIDS=()
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
stop_pid() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() { local pid; for pid in "${PIDS[@]}"; do stop_pid "$pid"; done; PIDS=(); }
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cd "$ROOT"
cargo build --release --bin wsloop >&2
LOAD=$(cargo bench --bench load --no-run --message-format=json 2>/dev/null |
  grep '"kind":\["bench"\]' | grep '"name":"load"' |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)
[[ -x $LOAD ]] || { echo "run-broadcast: load generator not built" >&2; exit 1; }
WSLOOP=$CARGO_TARGET_DIR/release/wsloop
PORT=$((20000 + RANDOM % 20000))

wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

start_server() { # name: sets PORT (the next free one) and SERVER_PID
  local attempt
  for attempt in 1 2 3 4 5; do
    PORT=$((PORT + 1))
    # Another program's listener would answer wait_port: skip ports in use.
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue
    start_on "$1" "$PORT"
    kill -0 "$SERVER_PID" 2>/dev/null && return 0
  done
  echo "run-broadcast: $1 did not start" >&2
  cat "$RUN/$1.$PORT.out" >&2
  exit 1
}

start_on() { # name port: sets SERVER_PID
  case $1 in
    wsloop) RUST_LOG=warn exec taskset -c 0 "$WSLOOP" --port "$2" --status --max-connections 20000 ;;
    wsloop2) RUST_LOG=warn exec taskset -c 0,1 "$WSLOOP" --port "$2" --status --threads 2 --max-connections 20000 ;;
    uws) exec taskset -c 0 "$UWS" "$2" ;;
  esac >"$RUN/$1.$2.out" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_port "$2" || true
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

printf 'server\tsubs\twindow\tsize\trep\tdeliveries_per_s\tp50_us\tp99_us\tserver_cpu_pct\tper_server_cpu_s\tloops\n' | tee "$RUN/results.tsv"
for subs in $SUBS; do
  for window in $WINDOWS; do
    for size in $SIZES; do
      for rep in $(seq "$REPS"); do
        for server in $SERVERS; do
          start_server "$server"
          protocol=lws-mirror-protocol
          [[ $server == uws ]] && protocol=none
          spread=-
          if [[ $server == wsloop2 ]]; then
            # Mid-run, while every subscriber is connected: WebSockets per loop.
            (sleep "$(awk "BEGIN{print $WARMUP + $DURATION / 2 + ($subs > 5000 ? 2 : 0.5)}")"
             curl -s "http://127.0.0.1:$PORT/status" >"$RUN/status.$PORT") &
            PIDS+=($!)
          fi
          result=$(taskset -c 1 "$LOAD" broadcast --addr "127.0.0.1:$PORT" --protocol "$protocol" \
            --conns "$subs" --depth "$window" --size "$size" --duration "$DURATION" \
            --warmup "$WARMUP" --timeout 30 --concurrency 256 --server-pid "$SERVER_PID" --quiet |
            tail -n1) || log "$server failed: $result"
          if [[ $server == wsloop2 ]]; then
            wait "${PIDS[-1]}" 2>/dev/null || true
            spread=$(grep -o '"websockets":[0-9]*,"accepted"' "$RUN/status.$PORT" 2>/dev/null |
              grep -o '[0-9]*' | paste -sd/ || echo '?')
          fi
          stop_pid "$SERVER_PID"
          printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$subs" "$window" "$size" "$rep" \
            "$(field rate "$result")" "$(field p50_us "$result")" "$(field p99_us "$result")" \
            "$(field server_cpu_pct "$result")" "$(field per_server_cpu_s "$result")" "$spread" |
            tee -a "$RUN/results.tsv"
        done
      done
    done
  done
done

log "medians (results in $RUN/results.tsv)"
printf '\n| server | subscribers | K | size | deliveries/s | per server CPU-s | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|---:|---:|\n'
tail -n +2 "$RUN/results.tsv" | sort -t$'\t' -k2,2n -k3,3n -k4,4n -k1,1 |
  awk -F'\t' '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { key = $1 "\t" $2 "\t" $3 "\t" $4; if (!(key in rate)) order[++n] = key
      rate[key] = rate[key] " " $6; cpu[key] = cpu[key] " " $10; p50[key] = p50[key] " " $7; p99[key] = p99[key] " " $8 }
    END { for (i = 1; i <= n; i++) { k = order[i]; split(k, f, "\t")
      printf "| %s | %s | %s | %s | %.0f | %.0f | %.2f | %.2f |\n", f[1], f[2], f[3], f[4],
        median(rate[k]), median(cpu[k]), median(p50[k]) / 1000, median(p99[k]) / 1000 } }'
