#!/usr/bin/env bash
# Issue 13's scale-out check (make bench-scale): 1, 2 and 3 chatd instances
# on one Postgres and one Redis, each instance serving groups of its own.
#
#   own load:    with N instances, N chatload processes run at once, process k
#                driving the fan-out of its own group (BENCH_SCALE_MEMBERS
#                members, BENCH_SCALE_RATE messages/s) on instance k only.
#                The figure is the CPU each instance spends per delivered
#                event: an instance that heard every group's events (one
#                channel for everything) would also decode and drop the N-1
#                other loads, so its cost per delivery would grow with N.
#   bystanders:  the same load on instance 1 only, with the others serving
#                nobody: the CPU the others spend meanwhile (read from /proc).
#
# Results: JSON lines in bin/bench-scale/results.jsonl and a Markdown table on
# stdout (BENCHMARKS.md "Scale-out" and docs/SCALING.md quote it).
#
# Needs Postgres on 127.0.0.1:5432 (trust auth, user postgres) and Redis on
# 127.0.0.1:6379. Overrides: BENCH_SCALE_DURATION (15s), BENCH_SCALE_MEMBERS
# (10), BENCH_SCALE_RATE (1000 messages/s per instance, from BENCH_SCALE_SENDERS
# members, 5: many events on the broker, as many small groups make), BENCH_SCALE_MAX (3
# instances), BENCH_PORT (first instance, 18290; instance k listens on
# +2k and serves metrics on +2k+1), BENCH_DB (chat_bench_scale).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

base=${BENCH_PORT:-18290}
db=${BENCH_DB:-chat_bench_scale}
pg_admin=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
pg_url="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
redis_url=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
out=${BENCH_OUT:-$root/bin/bench-scale}
duration=${BENCH_SCALE_DURATION:-15s}
members=${BENCH_SCALE_MEMBERS:-10}
rate=${BENCH_SCALE_RATE:-1000}
max=${BENCH_SCALE_MAX:-3}
senders=${BENCH_SCALE_SENDERS:-5}
results=$out/results.jsonl
log=$out/bench.log
mkdir -p "$out"
: >"$results"
: >"$log"
rm -f "$out"/accounts-*.jsonl
ulimit -n "$(ulimit -Hn)"

build_tools
need_services
psql "$pg_admin" -Xqc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null

pids=()
stop_all() {
  for p in "${pids[@]}"; do stop_server "$p"; done
  pids=()
}
trap stop_all EXIT

# start_instances N : N instances of chatd on Postgres + Redis.
start_instances() {
  local n=$1 k
  for k in $(seq 1 "$n"); do
    addr=127.0.0.1:$(( base + 2 * k )) url=http://127.0.0.1:$(( base + 2 * k ))
    start_chatd "i$k-of-$n" start DATABASE_URL="$pg_url" REDIS_URL="$redis_url" \
      CHAT_METRICS_ADDR=127.0.0.1:$(( base + 2 * k + 1 ))
    pids+=("$chatd_pid")
  done
}

# cpu_ticks PID : the process's user + system time, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# fanout K N LABEL : chatload's fan-out against instance K, in the background.
fanout() {
  local k=$1 label=$2
  ./bin/chatload -url "http://127.0.0.1:$(( base + 2 * k ))" -metrics "http://127.0.0.1:$(( base + 2 * k + 1 ))/metrics" \
    -label "$label" -accounts "$out/accounts-i$k.jsonl" -duration "$duration" -scenario fanout \
    -conns "$members" -rate "$rate" -senders "$senders" -inflight 8 -body-size 64 -pid "${pids[$((k - 1))]}" \
    >"$out/last-$k.txt" 2>>"$log"
}

echo "== machine"
machine | jq -c --arg d "$duration" --argjson m "$members" --argjson r "$rate" \
  '{scenario:"meta"} + . + {duration:$d,members:$m,rate:$r}' >>"$results"

for n in $(seq 1 "$max"); do
  echo "== own load: $n instance(s), each with its own group of $members members at $rate messages/s"
  start_instances "$n"
  jobs_=()
  for k in $(seq 1 "$n"); do
    fanout "$k" "own-$n-i$k" &
    jobs_+=($!)
  done
  for j in "${jobs_[@]}"; do wait "$j" || echo "bench-scale: a chatload run failed (see $log)" >&2; done
  for k in $(seq 1 "$n"); do
    grep '^{"scenario"' "$out/last-$k.txt" | jq -c --argjson n "$n" --argjson k "$k" '. + {phase:"own",instances:$n,instance:$k}' >>"$results" || true
  done
  stop_all
done

echo "== bystanders: $max instances, the load on instance 1 only"
start_instances "$max"
sleep 2
declare -A before
for k in $(seq 2 "$max"); do before[$k]=$(cpu_ticks "${pids[$((k - 1))]}"); done
t0=$(date +%s%N)
fanout 1 "bystanders-i1" || echo "bench-scale: the chatload run failed (see $log)" >&2
t1=$(date +%s%N)
grep '^{"scenario"' "$out/last-1.txt" | jq -c --argjson n "$max" '. + {phase:"bystanders",instances:$n,instance:1}' >>"$results" || true
hz=$(getconf CLK_TCK)
for k in $(seq 2 "$max"); do
  after=$(cpu_ticks "${pids[$((k - 1))]}")
  jq -cn --argjson n "$max" --argjson k "$k" --argjson ticks "$(( after - before[$k] ))" --argjson hz "$hz" \
    --argjson ns "$(( t1 - t0 ))" \
    '{scenario:"bystander",phase:"bystanders",instances:$n,instance:$k,cpu_s:($ticks/$hz),wall_s:($ns/1e9),cpu_cores:(($ticks/$hz)/($ns/1e9)*1000|round/1000)}' >>"$results"
done
stop_all

echo
echo "| phase | instances | instance | deliveries/s | p50 / p99 ms | lost / dup / reordered | server CPU (cores) | CPU µs per delivery |"
echo "|---|---|---|---|---|---|---|---|"
jq -r 'select(.scenario=="fanout") |
  "| \(.phase) | \(.instances) | \(.instance) | \(.deliveries_per_s|round) | \(.latency_p50_ms) / \(.latency_p99_ms) | \(.lost) / \(.duplicated) / \(.out_of_order) | \(.server_cpu_cores) | \(if .deliveries_per_s > 0 then (.server_cpu_cores / .deliveries_per_s * 1e6 * 10 | round / 10) else "-" end) |"' "$results"
jq -r 'select(.scenario=="bystander") |
  "| bystander | \(.instances) | \(.instance) | 0 (serves nobody) | - | - | \(.cpu_cores) | - |"' "$results"
