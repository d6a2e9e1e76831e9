#!/usr/bin/env bash
# User and system CPU per operation of several servers, interleaved round by round: each round
# drives every server in turn with the same load-generator cell and reads the server's utime
# and stime from /proc/PID/stat around it (the kernel attributes them by tick sampling, so
# read them as splits; the total also matches schedstat, printed beside it). Servers on CPU 0,
# the load on CPU 1. Stops the servers it started, by PID.
#
#   benches/cpu-split.sh ROUNDS "LOAD ARGS" NAME=BINARY...
#   e.g. benches/cpu-split.sh 5 "connect --conns 32" new=target/release/wsloop \
#          old=/tmp/old/wsloop floor=target/release/peer-floor
#
# A NAME starting with "floor" is run as the mio floor (replies checked by length). Env
# DURATION (seconds per cell, default 4); LOAD: the load generator's binary.
set -euo pipefail
rounds=$1 cell=$2; shift 2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOAD=${LOAD:-$(cd "$ROOT" && cargo bench --bench load --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"name":"load".*"executable":"\([^"]*\)".*/\1/p' | tail -n1)}
declare -A bin port pid
names=()
next_port=24000
for spec in "$@"; do
  name=${spec%%=*}
  names+=("$name")
  bin[$name]=${spec#*=}
  while ss -Hltn "sport = :$next_port" | grep -q .; do next_port=$((next_port + 1)); done
  port[$name]=$next_port
  next_port=$((next_port + 1))
done
cleanup() { for name in "${names[@]}"; do [[ -n ${pid[$name]:-} ]] && kill "${pid[$name]}" 2>/dev/null; done; }
trap cleanup EXIT
for name in "${names[@]}"; do
  if [[ $name == floor* ]]; then
    taskset -c 0 "${bin[$name]}" --port "${port[$name]}" >/dev/null 2>&1 &
  else
    RUST_LOG=warn taskset -c 0 "${bin[$name]}" --port "${port[$name]}" --www "$ROOT/www" \
      --max-connections 11000 >/dev/null 2>&1 &
  fi
  pid[$name]=$!
done
sleep 0.5
tick=$(getconf CLK_TCK)
for round in $(seq "$rounds"); do
  for name in "${names[@]}"; do
    expect=reverse
    [[ $name == floor* ]] && expect=length
    read -r user0 sys0 < <(awk '{print $14, $15}' "/proc/${pid[$name]}/stat")
    # shellcheck disable=SC2086 # the cell is a list of arguments
    line=$(taskset -c 1 "$LOAD" $cell --addr "127.0.0.1:${port[$name]}" --server-pid "${pid[$name]}" \
      --expect "$expect" --duration "${DURATION:-4}" --warmup 0 --quiet | tail -n1)
    read -r user1 sys1 < <(awk '{print $14, $15}' "/proc/${pid[$name]}/stat")
    ops=$(sed -n 's/.* verified=\([0-9]*\).*/\1/p' <<<"$line")
    sched=$(sed -n 's/.* server_us_per_op=\([^ ]*\).*/\1/p' <<<"$line")
    awk -v r="$round" -v n="$name" -v u=$((user1 - user0)) -v s=$((sys1 - sys0)) -v o="$ops" \
      -v t="$tick" -v sc="$sched" 'BEGIN {
        printf "round %d %-8s user %.2f sys %.2f total %.2f us/op (schedstat %s), %d ops\n",
          r, n, u * 1e6 / t / o, s * 1e6 / t / o, (u + s) * 1e6 / t / o, sc, o }'
  done
done
