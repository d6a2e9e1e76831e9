#!/usr/bin/env bash
# The TLS figures of benches/RESULTS.md in one run, each against the cleartext baseline
# measured beside it (same binary, same machine, runs interleaved):
#   1. stripped release binary: `cargo build --release` (TLS + deflate),
#      `--no-default-features --features deflate` and `--no-default-features` (cleartext only);
#   2. server CPU per handshake: ws://, wss:// TLS 1.3 full handshakes, TLS 1.3 resumed,
#      TLS 1.2 full (`load connect --conns 32`), alternated in 1 s runs, totals;
#   3. pingpong 100 conns x 1 KiB, ws:// against wss:// (TLS 1.3), alternated: msgs/s and
#      server CPU per message, medians;
#   4. RSS per idle connection at N (default 10,000), each after one 20-byte round trip:
#      wss://, ws:// on the TLS build, ws:// on the cleartext-only build.
# Servers pinned to CPU 0 with RUST_LOG=warn, the load generator to CPU 1. A test CA and a
# P-256 certificate for 127.0.0.1 are made with openssl under a temporary directory.
#
#   benches/run-tls.sh [--reps N] [--duration SECS] [--rounds N] [--hold N] [--only LIST]
#   (LIST: comma-separated parts: size, connect, pingpong, memory)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
REPS=3 DURATION=5 ROUNDS=16 HOLD=10000 ONLY=""
while (($#)); do
  case $1 in
    --reps) REPS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --hold) HOLD=$2; shift ;;
    --only) ONLY=$2; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run-tls: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
want() { [[ -z $ONLY || ",$ONLY," == *",$1,"* ]]; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
RUN=$(mktemp -d /tmp/wsloop-tls.XXXXXX)
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

cd "$ROOT"
log "build (release): cleartext-only, then with TLS"
if want size; then
  cargo build --release --bin wsloop --no-default-features --features deflate >&2
  cp "$CARGO_TARGET_DIR/release/wsloop" "$RUN/wsloop-deflate"
fi
cargo build --release --bin wsloop --no-default-features >&2
cp "$CARGO_TARGET_DIR/release/wsloop" "$RUN/wsloop-cleartext"
cargo build --release --bin wsloop >&2
cp "$CARGO_TARGET_DIR/release/wsloop" "$RUN/wsloop-tls"
LOAD=$(cargo bench --bench load --no-run --message-format=json 2>/dev/null |
  grep '"kind":\["bench"\]' | grep '"name":"load"' |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)
[[ -x $LOAD ]] || { echo "run-tls: load generator not built" >&2; exit 1; }
"$LOAD" --self-test >&2

# A CA and a server certificate for 127.0.0.1 it signs (ECDSA P-256, as rcgen makes in tests).
(
  cd "$RUN"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=wsloop-bench-CA -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
    -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >ext.cnf
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile ext.cnf -out server.crt 2>/dev/null
)
TLS_FLAGS=(--tls-cert "$RUN/server.crt" --tls-key "$RUN/server.key")

PIDS=()
cleanup() { local pid; for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; PIDS=(); }
trap cleanup EXIT
SERVER="" PORT=""
start() { # start BINARY ARGS...: a server on a free port; sets SERVER (pid) and PORT
  local bin=$1 out; shift
  out=$(mktemp -p "$RUN")
  RUST_LOG=warn taskset -c 0 "$bin" --port 0 --www "$ROOT/www" --max-connections $((HOLD + 1000)) "$@" >"$out" 2>&1 &
  SERVER=$!
  PIDS+=("$SERVER")
  for _ in $(seq 100); do grep -q 'listening on' "$out" && break; sleep 0.05; done
  PORT=$(sed -n 's|.*listening on https\{0,1\}://[^/]*:\([0-9]*\)/.*|\1|p' "$out" | head -n1)
  [[ -n $PORT ]] || { echo "run-tls: $bin $* did not start:" >&2; cat "$out" >&2; exit 1; }
}
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {printf "%.0f\n", ns}'; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

TABLE=$RUN/table.md
: >"$TABLE"
out() { printf '%s\n' "$*" | tee -a "$TABLE"; }

# ---------------------------------------------------------------------------------------------
if want size; then
  size=$(($(stat -c %s "$RUN/wsloop-tls") / 1024)) clear=$(($(stat -c %s "$RUN/wsloop-cleartext") / 1024))
  out "| stripped release binary | KiB | / cleartext-only |"
  out "|---|---:|---:|"
  deflate=$(($(stat -c %s "$RUN/wsloop-deflate") / 1024))
  out "| \`cargo build --release\` (TLS + deflate) | $size | $(ratio "$size" "$clear") |"
  out "| \`cargo build --release --no-default-features --features deflate\` (cleartext + deflate) | $deflate | $(ratio "$deflate" "$clear") |"
  out "| \`cargo build --release --no-default-features\` (cleartext, no deflate) | $clear | 1.00 |"
  out ""
fi

# ---------------------------------------------------------------------------------------------
# Two servers of the TLS build: one cleartext, one TLS; every cell runs against both in turn.
if want connect || want pingpong; then
  start "$RUN/wsloop-tls"; WS_PID=$SERVER WS_PORT=$PORT
  start "$RUN/wsloop-tls" "${TLS_FLAGS[@]}"; WSS_PID=$SERVER WSS_PORT=$PORT
fi
# How each kind of connection is made: the server it goes to and the load generator's flags.
declare -A KIND_PID KIND_PORT KIND_FLAGS
KINDS=(ws wss13 wss13-resumed wss12)
for kind in "${KINDS[@]}"; do
  KIND_PID[$kind]=${WSS_PID:-} KIND_PORT[$kind]=${WSS_PORT:-}
done
KIND_PID[ws]=${WS_PID:-} KIND_PORT[ws]=${WS_PORT:-}
KIND_FLAGS[ws]="" KIND_FLAGS[wss13]="--tls-ca $RUN/ca.crt"
KIND_FLAGS[wss13-resumed]="--tls-ca $RUN/ca.crt --tls-resume" KIND_FLAGS[wss12]="--tls-ca $RUN/ca.crt --tls12"
declare -A LABEL=([ws]="ws:// (cleartext)" [wss13]="wss:// TLS 1.3, full handshake"
  [wss13-resumed]="wss:// TLS 1.3, resumed (ticket)" [wss12]="wss:// TLS 1.2, full handshake")

if want connect; then
  log "handshakes: ${KINDS[*]} alternated, $ROUNDS x 1 s each (32 in progress)"
  declare -A NS HS
  for kind in "${KINDS[@]}"; do NS[$kind]=0 HS[$kind]=0; done
  for round in $(seq "$ROUNDS"); do
    for kind in "${KINDS[@]}"; do
      before=$(cpu_ns "${KIND_PID[$kind]}")
      # shellcheck disable=SC2086
      line=$(taskset -c 1 "$LOAD" connect --conns 32 --addr "127.0.0.1:${KIND_PORT[$kind]}" \
        ${KIND_FLAGS[$kind]} --duration 1 --warmup 0 --quiet | tail -n1) ||
        { log "FAILED: connect $kind: $line"; exit 1; }
      after=$(cpu_ns "${KIND_PID[$kind]}")
      NS[$kind]=$((NS[$kind] + after - before))
      HS[$kind]=$((HS[$kind] + $(field verified <<<"$line")))
    done
    log "round $round: $(for k in "${KINDS[@]}"; do printf '%s %s  ' "$k" "${HS[$k]}"; done)"
  done
  base=$(awk -v t="${NS[ws]}" -v h="${HS[ws]}" 'BEGIN { printf "%.2f", t / 1000 / h }')
  out "| handshake (each closed cleanly; $ROUNDS x 1 s alternated, totals) | handshakes/s | server CPU per handshake (µs) | CPU / ws:// |"
  out "|---|---:|---:|---:|"
  for kind in "${KINDS[@]}"; do
    us=$(awk -v t="${NS[$kind]}" -v h="${HS[$kind]}" 'BEGIN { printf "%.2f", t / 1000 / h }')
    out "| ${LABEL[$kind]} | $((HS[$kind] / ROUNDS)) | $us | $(ratio "$us" "$base") |"
  done
  out ""
fi

# ---------------------------------------------------------------------------------------------
if want pingpong; then
  log "pingpong 100 x 1 KiB: ws and wss (TLS 1.3) alternated, $REPS x ${DURATION}s"
  declare -A RATES CPUS
  for rep in $(seq "$REPS"); do
    for kind in ws wss13; do
      # shellcheck disable=SC2086
      line=$(taskset -c 1 "$LOAD" pingpong --conns 100 --size 1024 --addr "127.0.0.1:${KIND_PORT[$kind]}" \
        ${KIND_FLAGS[$kind]} --server-pid "${KIND_PID[$kind]}" --duration "$DURATION" --warmup 1 \
        --quiet | tail -n1) || { log "FAILED: pingpong $kind: $line"; exit 1; }
      RATES[$kind]+=" $(field rate <<<"$line")" CPUS[$kind]+=" $(field server_us_per_op <<<"$line")"
      log "rep $rep $kind: $(field rate <<<"$line") msg/s, $(field server_us_per_op <<<"$line") us/msg"
    done
  done
  # shellcheck disable=SC2086
  base_rate=$(median ${RATES[ws]}) base_cpu=$(median ${CPUS[ws]})
  out "| pingpong 100 conns x 1 KiB (medians of $REPS x ${DURATION} s) | msgs/s | / ws:// | server CPU per message (µs) | / ws:// |"
  out "|---|---:|---:|---:|---:|"
  for kind in ws wss13; do
    # shellcheck disable=SC2086
    rate=$(median ${RATES[$kind]}) cpu=$(median ${CPUS[$kind]})
    out "| ${LABEL[$kind]%%,*} | $rate | $(ratio "$rate" "$base_rate") | $cpu | $(ratio "$cpu" "$base_cpu") |"
  done
  out ""
fi
cleanup

# ---------------------------------------------------------------------------------------------
if want memory; then
  log "memory: $HOLD idle connections after one 20-byte round trip each, one fresh server each"
  out "| $HOLD idle connections, one 20 B round trip each | server RSS at start (KiB) | bytes per connection | / ws:// on the cleartext build |"
  out "|---|---:|---:|---:|"
  base=""
  for cell in "cleartext|ws:// on the cleartext-only build" "tls|ws:// on the TLS build" "tls-wss|wss:// (TLS 1.3)"; do
    id=${cell%%|*} label=${cell#*|} flags=()
    case $id in
      cleartext) start "$RUN/wsloop-cleartext" ;;
      tls) start "$RUN/wsloop-tls" ;;
      tls-wss) start "$RUN/wsloop-tls" "${TLS_FLAGS[@]}"; flags=(--tls-ca "$RUN/ca.crt") ;;
    esac
    sleep 0.3
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status")
    line=$(taskset -c 1 "$LOAD" connect --hold "$HOLD" --size 20 --server-pid "$SERVER" \
      --addr "127.0.0.1:$PORT" "${flags[@]}" --timeout 30 --quiet | tail -n1) ||
      { log "FAILED: hold $id: $line"; exit 1; }
    bytes=$(field bytes_per_conn_msg <<<"$line")
    base=${base:-$bytes}
    out "| $label | $rss | $bytes | $(ratio "$bytes" "$base") |"
    cleanup
  done
  out ""
fi
log "tables: $TABLE"
