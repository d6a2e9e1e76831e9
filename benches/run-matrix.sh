#!/usr/bin/env bash
# The benchmark matrix: wsloop against tokio-tungstenite, libwebsockets and a raw mio floor
# (WebSocket), and against nginx (HTTP GET / under wrk, 4 and 50 connections). Builds everything
# in release, runs every server pinned to CPU 0 and every load generator pinned to CPU 1,
# repeats each cell (interleaving the servers, so background noise hits them alike), and prints
# Markdown tables of medians, server CPU per operation and wsloop/peer ratios. Stops every
# server it started, by PID.
#
#   benches/run-matrix.sh            full matrix (~20 min on 2 cores)
#   benches/run-matrix.sh --quick    smoke run (~2 min): 1 repetition, 1 s runs, 1,000 held conns
#
# Options: --reps N, --duration SECS, --warmup SECS, --hold N, --out FILE (also write the
# tables there), --only LIST (comma-separated parts: memory, websocket, alternating (wsloop
# and the floor, wsloop and nginx, in 1 s runs), http, or one WebSocket row such as connect).
# Needs root for apt-get (libwebsockets-dev, nginx-light, wrk) if missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TARGET=$CARGO_TARGET_DIR
QUICK=0 REPS=3 DURATION=5 WARMUP=1 HOLD=10000 OUT="" ONLY=""
while (($#)); do
  case $1 in
    --quick) QUICK=1 REPS=1 DURATION=1 WARMUP=0.3 HOLD=1000 ;;
    --reps) REPS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --hold) HOLD=$2; shift ;;
    --out) OUT=$2; shift ;;
    --only) ONLY=$2; shift ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run-matrix: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

RUN=$(mktemp -d /tmp/wsloop-matrix.XXXXXX)
RESULTS=$RUN/results.tsv
: >"$RESULTS"
PIDS=()
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
log "tools"
missing=()
[[ -f /usr/include/libwebsockets.h ]] || missing+=(libwebsockets-dev)
[[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}") >&2 ||
    log "install failed: the peers that need it are skipped"
fi
# 10,000 held connections need 10,000+ descriptors in the server and in the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < HOLD + 100)); then
  log "ulimit -n is $(ulimit -n): holding $((($(ulimit -n) - 100))) connections instead of $HOLD"
  HOLD=$(($(ulimit -n) - 100))
fi

log "build (release)"
cd "$ROOT"
cargo build --release --bin wsloop >&2
# The artifact lines come in no fixed order: pick the bench target named "load".
LOAD=$(cargo bench --bench load --no-run --message-format=json 2>/dev/null |
  grep '"kind":\["bench"\]' | grep '"name":"load"' |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)
[[ -x $LOAD ]] || { echo "run-matrix: load generator not built" >&2; exit 1; }
"$LOAD" --self-test >&2
cargo build --release --manifest-path benches/peers/floor/Cargo.toml >&2
cargo build --release --manifest-path benches/peers/tokio/Cargo.toml >&2
HAVE_LWS=0 HAVE_NGINX=0
if gcc -O2 -Wall -o "$RUN/peer-lws" benches/peers/lws/reverse.c -lwebsockets >&2; then HAVE_LWS=1; fi
[[ -x /usr/sbin/nginx ]] && HAVE_NGINX=1

WSLOOP=$TARGET/release/wsloop
FLOOR=$TARGET/release/peer-floor
TOKIO=$TARGET/release/peer-tokio
WWW=$ROOT/www

# Stripped binary sizes (KiB). wsloop's release profile strips already; copies for the rest.
size_kib() { local f=$RUN/strip.$$; cp "$1" "$f"; strip "$f"; echo $(($(stat -c %s "$f") / 1024)); rm -f "$f"; }
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; } # test server rep value cpu_us client_cpu
record size wsloop 1 "$(size_kib "$WSLOOP")" - -
record size tokio 1 "$(size_kib "$TOKIO")" - -
record size floor 1 "$(size_kib "$FLOOR")" - -
((HAVE_LWS)) && record size lws 1 "$(size_kib "$RUN/peer-lws")+$(($(stat -L -c %s "$(ldconfig -p | sed -n 's/.*libwebsockets.so.17 .*=> //p' | head -n1)") / 1024))" - -
((HAVE_NGINX)) && record size nginx 1 "$(size_kib /usr/sbin/nginx)" - -

# ---------------------------------------------------------------------------------------------
PORT_BASE=$((20000 + RANDOM % 20000))
NEXT_PORT=$PORT_BASE
SERVER_PID="" SERVER_PORT=""

wait_port() { # port: until something accepts on it (bounded)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

start_server() { # name: sets SERVER_PID and SERVER_PORT
  local name=$1 port=$NEXT_PORT
  NEXT_PORT=$((NEXT_PORT + 1))
  case $name in
    # exec: the PID recorded below must be the server itself, not a subshell.
    wsloop) RUST_LOG=warn exec taskset -c 0 "$WSLOOP" --port "$port" --www "$WWW" --max-connections $((HOLD + 1000)) ;;
    tokio) exec taskset -c 0 "$TOKIO" --port "$port" ;;
    floor) exec taskset -c 0 "$FLOOR" --port "$port" ;;
    lws) exec taskset -c 0 "$RUN/peer-lws" "$port" ;;
    nginx)
      sed -e "s|@PORT@|$port|; s|@WWW@|$WWW|; s|@RUN@|$RUN|" benches/peers/nginx/nginx.conf.in >"$RUN/nginx.conf"
      exec taskset -c 0 /usr/sbin/nginx -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log"
      ;;
  esac >"$RUN/$name.$port.out" 2>&1 &
  SERVER_PID=$!
  SERVER_PORT=$port
  PIDS+=("$SERVER_PID")
  if ! wait_port "$port"; then
    echo "run-matrix: $name did not start; its output:" >&2
    cat "$RUN/$name.$port.out" >&2
    exit 1
  fi
}

stop_server() {
  stop_pid "$1"
  local keep=() pid
  for pid in "${PIDS[@]}"; do [[ $pid == "$1" ]] || keep+=("$pid"); done
  PIDS=("${keep[@]}")
}

WS_SERVERS=(wsloop tokio)
((HAVE_LWS)) && WS_SERVERS+=(lws)
WS_SERVERS+=(floor)

# True if --only asks for part $1 (or there is no --only).
want() { [[ -z $ONLY || ",$ONLY," == *",$1,"* ]]; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
# CPU time of every thread of a process, in ns (schedstat: exact, where utime/stime are 10 ms
# samples; the load generator measures the same way).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {printf "%.0f\n", ns}'; }
FAILED=0

# ---------------------------------------------------------------------------------------------
want memory && log "memory: startup RSS and $HOLD idle connections (then one 64 KiB message each), one fresh server each"
want memory && for name in "${WS_SERVERS[@]}"; do
  start_server "$name"
  sleep 0.3
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
  record rss "$name" 1 "$rss" - -
  expect=reverse
  [[ $name == floor ]] && expect=length
  if line=$(taskset -c 1 "$LOAD" connect --addr "127.0.0.1:$SERVER_PORT" --hold "$HOLD" \
    --size 65536 --server-pid "$SERVER_PID" --expect "$expect" --quiet --timeout 20 | tail -n1); then
    record hold "$name" 1 "$(field bytes_per_conn <<<"$line")" - -
    record hold-msg "$name" 1 "$(field bytes_per_conn_msg <<<"$line")" - -
  else
    log "hold failed on $name: $line"
    FAILED=1
  fi
  stop_server "$SERVER_PID"
done
if ((HAVE_NGINX)) && want memory; then
  start_server nginx
  sleep 0.3
  record rss nginx 1 "$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")" - -
  stop_server "$SERVER_PID"
fi

# ---------------------------------------------------------------------------------------------
ALL_TESTS=(
  "pipeline-100x16x1KiB|pipeline --conns 100 --depth 16 --size 1024"
  "pingpong-100x20B|pingpong --conns 100 --size 20"
  "pingpong-100x1KiB|pingpong --conns 100 --size 1024"
  "pingpong-100x16KiB|pingpong --conns 100 --size 16384"
  "pingpong-1000x20B|pingpong --conns 1000 --size 20"
  "pingpong-1000x1KiB|pingpong --conns 1000 --size 1024"
  "pingpong-1000x16KiB|pingpong --conns 1000 --size 16384"
  "connect|connect --conns 32"
)
TESTS=()
for test in "${ALL_TESTS[@]}"; do
  if want websocket || want "${test%%|*}"; then TESTS+=("$test"); fi
done
declare -A PORT_OF PID_OF
if ((${#TESTS[@]})) || want alternating; then
  log "WebSocket matrix: ${REPS} repetitions x ${DURATION}s (+${WARMUP}s warmup) per cell"
  for name in "${WS_SERVERS[@]}"; do
    start_server "$name"
    PORT_OF[$name]=$SERVER_PORT
    PID_OF[$name]=$SERVER_PID
  done
fi
((${#TESTS[@]})) && for rep in $(seq "$REPS"); do
  for test in "${TESTS[@]}"; do
    id=${test%%|*} args=${test#*|}
    for name in "${WS_SERVERS[@]}"; do
      expect=reverse
      [[ $name == floor ]] && expect=length
      # shellcheck disable=SC2086
      if line=$(taskset -c 1 "$LOAD" $args --addr "127.0.0.1:${PORT_OF[$name]}" \
        --server-pid "${PID_OF[$name]}" --expect "$expect" --duration "$DURATION" \
        --warmup "$WARMUP" --quiet | tail -n1); then
        record "$id" "$name" "$rep" "$(field rate <<<"$line")" \
          "$(field server_us_per_op <<<"$line")" "$(field client_cpu_pct <<<"$line")"
        log "rep $rep $id $name: $(field rate <<<"$line")/s p99 $(field p99_us <<<"$line") us"
      else
        log "FAILED: rep $rep $id $name: $line"
        record "$id" "$name" "$rep" FAIL - -
        FAILED=1
      fi
    done
  done
done

# The handshake CPU criterion (wsloop within 1.05x of the floor) is a few percent: finer
# interleaving than a 5 s cell per server, so a burst of background load lands on both.
ROUNDS=$((REPS * 8))
want alternating && log "handshake CPU: wsloop and floor alternated, ${ROUNDS} x 1 s each"
declare -A ALT_NS ALT_HS
for name in wsloop floor; do ALT_NS[$name]=0 ALT_HS[$name]=0; done
want alternating && for _ in $(seq "$ROUNDS"); do
  for name in wsloop floor; do
    expect=reverse
    [[ $name == floor ]] && expect=length
    before=$(cpu_ns "${PID_OF[$name]}")
    line=$(taskset -c 1 "$LOAD" connect --conns 32 --addr "127.0.0.1:${PORT_OF[$name]}" \
      --expect "$expect" --duration 1 --warmup 0 --quiet | tail -n1) || {
      log "FAILED: alternating connect on $name: $line"
      FAILED=1
    }
    after=$(cpu_ns "${PID_OF[$name]}")
    verified=$(field verified <<<"$line")
    ALT_NS[$name]=$((ALT_NS[$name] + after - before))
    ALT_HS[$name]=$((ALT_HS[$name] + ${verified:-0}))
  done
done
want alternating && for name in wsloop floor; do
  record connect-alt "$name" 1 "$(awk -v h="${ALT_HS[$name]}" -v r="$ROUNDS" 'BEGIN { printf "%.0f", h / r }')" \
    "$(awk -v t="${ALT_NS[$name]}" -v h="${ALT_HS[$name]}" 'BEGIN { if (h > 0) printf "%.2f", t / 1000 / h; else print "-" }')" -
done
cleanup

# ---------------------------------------------------------------------------------------------
HTTP_SERVERS=()
want http && HTTP_SERVERS+=(wsloop)
((HAVE_NGINX)) && want http && HTTP_SERVERS+=(nginx)
# Few connections (each request waits for the previous answer: latency-bound) and many
# (events batch up per poll: throughput-bound).
HTTP_CONNS=(4 50)
((${#HTTP_SERVERS[@]})) && log "HTTP GET / with wrk -t1 -c${HTTP_CONNS[*]}: ${HTTP_SERVERS[*]}"
for name in "${HTTP_SERVERS[@]}"; do
  start_server "$name"
  PORT_OF[$name]=$SERVER_PORT
  PID_OF[$name]=$SERVER_PID
done
for rep in $(seq "$REPS"); do
  for conns in "${HTTP_CONNS[@]}"; do
    for name in "${HTTP_SERVERS[@]}"; do
      before=$(cpu_ns "${PID_OF[$name]}")
      out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${DURATION}s" "http://127.0.0.1:${PORT_OF[$name]}/" 2>&1)
      after=$(cpu_ns "${PID_OF[$name]}")
      rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
      requests=$(awk '/ requests in / {print $1}' <<<"$out")
      if [[ -z $rps ]] || grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
        log "wrk against $name reported errors:"
        echo "$out" >&2
        FAILED=1
      fi
      cpu_us=$(awk -v t=$((after - before)) -v r="${requests:-0}" \
        'BEGIN { if (r > 0) printf "%.2f", t / 1000 / r; else print "-" }')
      record "http-c$conns" "$name" "$rep" "${rps:-FAIL}" "$cpu_us" -
      log "rep $rep http -c$conns $name: ${rps:-?} req/s"
    done
  done
done
# As for handshakes: 1 s runs alternated many times, totals, so a burst of outside load does
# not decide a 5 s cell.
if want alternating && ((${#HTTP_SERVERS[@]} > 1)); then
  log "HTTP: ${HTTP_SERVERS[*]} alternated, ${ROUNDS} x 1 s each per connection count"
  declare -A ALT_REQ ALT_SECS
  for conns in "${HTTP_CONNS[@]}"; do
    for name in "${HTTP_SERVERS[@]}"; do ALT_NS[$name]=0 ALT_REQ[$name]=0 ALT_SECS[$name]=0; done
    for _ in $(seq "$ROUNDS"); do
      for name in "${HTTP_SERVERS[@]}"; do
        before=$(cpu_ns "${PID_OF[$name]}")
        out=$(taskset -c 1 wrk -t1 -c"$conns" -d1s "http://127.0.0.1:${PORT_OF[$name]}/" 2>&1)
        after=$(cpu_ns "${PID_OF[$name]}")
        if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
          log "wrk against $name reported errors:"
          echo "$out" >&2
          FAILED=1
        fi
        # "123456 requests in 1.00s, ..."
        read -r requests secs < <(awk '/ requests in / {sub(/s,$/, "", $4); print $1, $4}' <<<"$out")
        ALT_NS[$name]=$((ALT_NS[$name] + after - before))
        ALT_REQ[$name]=$((ALT_REQ[$name] + ${requests:-0}))
        ALT_SECS[$name]=$(awk -v a="${ALT_SECS[$name]}" -v b="${secs:-0}" 'BEGIN { print a + b }')
      done
    done
    for name in "${HTTP_SERVERS[@]}"; do
      record "http-c$conns-alt" "$name" 1 \
        "$(awk -v r="${ALT_REQ[$name]}" -v t="${ALT_SECS[$name]}" 'BEGIN { if (t > 0) printf "%.0f", r / t; else print "FAIL" }')" \
        "$(awk -v n="${ALT_NS[$name]}" -v r="${ALT_REQ[$name]}" 'BEGIN { if (r > 0) printf "%.2f", n / 1000 / r; else print "-" }')" -
    done
  done
fi
cleanup

# ---------------------------------------------------------------------------------------------
TABLE=$RUN/table.md
python3 - "$RESULTS" "$HOLD" "$REPS" "$DURATION" "$QUICK" >"$TABLE" <<'PY'
import statistics, sys
from collections import defaultdict

path, hold, reps, duration, quick = sys.argv[1:]
vals, cpu, client = defaultdict(list), defaultdict(list), defaultdict(list)
for line in open(path):
    test, server, rep, value, cpu_us, client_cpu = line.rstrip("\n").split("\t")
    vals[test, server].append(value)
    if cpu_us not in ("-", "?", ""):
        cpu[test, server].append(float(cpu_us))
    if client_cpu not in ("-", "?", ""):
        client[test, server].append(float(client_cpu))

servers = ["wsloop", "tokio", "lws", "floor", "nginx"]
names = {"wsloop": "wsloop", "tokio": "tokio-tungstenite", "lws": "libwebsockets",
         "floor": "mio floor", "nginx": "nginx"}

def median(test, server):
    v = vals.get((test, server))
    if not v:
        return None
    if any(x == "FAIL" for x in v):
        return "FAIL"
    if "+" in v[0]:  # lws: executable + shared library
        return v[0]
    return statistics.median(float(x) for x in v)

def fmt(x):
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"

def ratio(a, b):
    if isinstance(a, float) and isinstance(b, float) and b:
        return f"{a / b:.2f}"
    return "–"

rows = [
    ("size", "release binary, stripped (KiB)", "lower"),
    ("rss", "RSS at startup (KiB)", "lower"),
    ("hold", f"memory per idle connection at {int(hold):,} conns (bytes)", "lower"),
    ("hold-msg", "... after one 64 KiB message each, idle again (bytes)", "lower"),
    ("pipeline-100x16x1KiB", "pipeline 100 conns x 16 in flight x 1 KiB (msg/s)", "higher"),
    ("pingpong-100x20B", "pingpong 100 conns x 20 B (msg/s)", "higher"),
    ("pingpong-100x1KiB", "pingpong 100 conns x 1 KiB (msg/s)", "higher"),
    ("pingpong-100x16KiB", "pingpong 100 conns x 16 KiB (msg/s)", "higher"),
    ("pingpong-1000x20B", "pingpong 1,000 conns x 20 B (msg/s)", "higher"),
    ("pingpong-1000x1KiB", "pingpong 1,000 conns x 1 KiB (msg/s)", "higher"),
    ("pingpong-1000x16KiB", "pingpong 1,000 conns x 16 KiB (msg/s)", "higher"),
    ("connect", "handshakes/s (32 in progress, each closed cleanly)", "higher"),
    ("connect-alt", f"handshakes/s, wsloop and floor alternated {int(reps) * 8} x 1 s (totals)",
     "higher"),
    ("http-c4", "HTTP GET /, wrk -t1 -c4 (req/s)", "higher"),
    ("http-c50", "HTTP GET /, wrk -t1 -c50 (req/s)", "higher"),
    ("http-c4-alt", f"HTTP GET /, wrk -c4, alternated {int(reps) * 8} x 1 s (totals, req/s)",
     "higher"),
    ("http-c50-alt", f"HTTP GET /, wrk -c50, alternated {int(reps) * 8} x 1 s (totals, req/s)",
     "higher"),
]
print(f"Medians of {reps} run(s) of {duration} s each; servers on CPU 0, load on CPU 1.\n")
print("| benchmark | " + " | ".join(names[s] for s in servers)
      + " | wsloop/tokio | wsloop/lws | wsloop/floor | wsloop/nginx |")
print("|---|" + "---:|" * (len(servers) + 4))
for test, label, better in rows:
    m = {s: median(test, s) for s in servers}
    print(f"| {label} | " + " | ".join(fmt(m[s]) for s in servers) + " | "
          + " | ".join(ratio(m["wsloop"], m[p]) for p in ("tokio", "lws", "floor", "nginx"))
          + " |")
print("\nRatios are wsloop / peer: above 1 is better for wsloop in throughput rows, worse in "
      "size and memory rows.\n")
print("Server CPU time per message, handshake or request (µs, median; from "
      "/proc/PID/task/*/schedstat over the measured window). Less sensitive to other load on "
      "the machine than the rates:\n")
print("| benchmark | " + " | ".join(names[s] for s in servers)
      + " | wsloop/tokio | wsloop/lws | wsloop/floor | wsloop/nginx |")
print("|---|" + "---:|" * (len(servers) + 4))
for test, label, better in rows[4:]:
    m = {s: (statistics.median(cpu[test, s]) if cpu.get((test, s)) else None) for s in servers}
    print(f"| {label.rsplit(' (', 1)[0]} | " + " | ".join(fmt(m[s]) for s in servers) + " | "
          + " | ".join(ratio(m["wsloop"], m[p]) for p in ("tokio", "lws", "floor", "nginx"))
          + " |")
floor_client = [statistics.median(client[t, "floor"]) for t, *_ in rows[4:12] if client.get((t, "floor"))]
if floor_client:
    print(f"\nLoad generator CPU while driving the floor: {min(floor_client):.0f}–"
          f"{max(floor_client):.0f}% of one core (median per cell).")
PY
cat "$TABLE"
[[ -n $OUT ]] && cp "$TABLE" "$OUT"
log "raw results: $RESULTS"
exit "$FAILED"
