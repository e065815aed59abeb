#!/usr/bin/env bash
# Issue 13's comparison (make bench-peer): the same chatload fan-out, 1,000
# members of one group with 64-byte bodies, offered at 10,000, 50,000,
# 100,000 and 200,000 deliveries/s, against the peer (Centrifugo v6.9.1, its
# in-memory engine, persisting nothing), then against chatd on Postgres +
# Redis, then against chatd embedded (SQLite + in-process broker). One server
# runs at a time, each stopped before the next starts. The results replace
# the section "Against Centrifugo" of BENCHMARKS.md; make bench keeps it.
#
# Needs Postgres on 127.0.0.1:5432 (trust auth, user postgres), Redis on
# 127.0.0.1:6379 and, the first time, the Go module proxy (the peer is
# built with go install into bin/; a few minutes). Everything runs on
# loopback, on ports of its own, so that it does not meet make bench.
#
# Overrides: BENCH_PEER_DURATION (per run, default 15s), BENCH_PEER_RATES
# (deliveries/s offered, default "10000 50000 100000 200000"),
# BENCH_PEER_MEMBERS (1000), BENCH_PORT (ours, 18190; its metrics on +2),
# BENCH_PEER_PORT (the peer's, 18191), BENCH_DB (chat_bench_peer),
# BENCH_PG_URL (admin connection), BENCH_REDIS_URL, BENCH_OUT (work folder,
# bin/bench-peer), BENCH_MD (BENCHMARKS.md), BENCH_CHATD (a server binary to
# measure instead of bin/chatd), BENCH_PEER_RENDER_ONLY=1 (rewrite the
# section from the last results).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

peer_version=v6.9.1
peer_bin=$root/bin/centrifugo
port=${BENCH_PORT:-18190}
addr=127.0.0.1:$port
url=http://$addr
metrics_addr=127.0.0.1:$(( port + 2 ))
peer_port=${BENCH_PEER_PORT:-18191}
peer_url=http://127.0.0.1:$peer_port
db=${BENCH_DB:-chat_bench_peer}
pg_admin=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
pg_url="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
redis_url=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
out=${BENCH_OUT:-$root/bin/bench-peer}
md=${BENCH_MD:-$root/BENCHMARKS.md}
duration=${BENCH_PEER_DURATION:-15s}
rates=${BENCH_PEER_RATES:-10000 50000 100000 200000}
members=${BENCH_PEER_MEMBERS:-1000}
body_size=64
# One sender offers 10,000 deliveries/s (10 messages/s) as make bench does;
# above that, four, for both servers alike.
senders_low=1 senders_high=4
# Messages a sender may have unacknowledged, for both servers (chatload's
# default; the peer's senders publish on as many connections).
inflight=4

results=$out/results.jsonl
log=$out/bench.log
mkdir -p "$out"
if [ -n "${BENCH_PEER_RENDER_ONLY:-}" ]; then
  ./bin/chatload -render-peer "$results" -md "$md"
  echo "== wrote the section \"Against Centrifugo\" of $md from $results"
  exit 0
fi

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $(( 2 * members + 512 )) ]; then
  echo "bench-peer: open-file limit $(ulimit -n) is below $(( 2 * members + 512 ))" >&2
  exit 1
fi

: >"$results"
: >"$log"
build_tools
need_services

# The peer, built from its module at the pinned version, once.
if ! go version -m "$peer_bin" 2>/dev/null | grep -q "^[[:space:]]*mod[[:space:]]*github.com/centrifugal/centrifugo/v6[[:space:]]*$peer_version[[:space:]]"; then
  echo "== go install github.com/centrifugal/centrifugo/v6@$peer_version (once; a few minutes)"
  GOBIN=$root/bin go install "github.com/centrifugal/centrifugo/v6@$peer_version"
fi

peer_pid=
stop_peer() {
  stop_server "$peer_pid"
  peer_pid=
}
trap 'stop_peer; stop_chatd' EXIT

# server LABEL : notes what the machine was doing as a server starts (other
# work may share it).
server() {
  jq -cn --arg l "$1" --arg a "$(cut -d ' ' -f 1 /proc/loadavg)" '{scenario:"server",label:$l,loadavg:$a}' >>"$results"
}

# fanout_runs LABEL PID ARGS... : the fan-out at every offered rate against
# the running server.
fanout_runs() {
  local label=$1 pid=$2 rate senders
  shift 2
  for rate in $rates; do
    senders=$senders_high
    [ "$rate" -le 10000 ] && senders=$senders_low
    load "$label" fanout -conns "$members" -rate "$(awk "BEGIN{print $rate / $members}")" \
      -senders "$senders" -inflight "$inflight" -body-size "$body_size" -pid "$pid" "$@"
  done
}

echo "== machine"
machine | jq -c --arg duration "$duration per run" --arg peer "$peer_version" --argjson members "$members" \
  --argjson body "$body_size" --argjson inflight "$inflight" --argjson lo "$senders_low" --argjson hi "$senders_high" \
  '{scenario:"meta"} + . + {duration:$duration,centrifugo:$peer,members:$members,body_size:$body,inflight:$inflight,senders_low:$lo,senders_high:$hi}' \
  >>"$results"

echo "== the peer: Centrifugo $peer_version, in-memory engine, on $peer_url"
# Fresh secrets each run; the file stays in the work folder (bin/, ignored).
peer_key=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
peer_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && jq -n --argjson port "$peer_port" --arg key "$peer_key" --arg secret "$peer_secret" '{
  http_server: {address: "127.0.0.1", port: $port},
  log: {level: "warn"},
  engine: {type: "memory"},
  client: {token: {hmac_secret_key: $secret}, allowed_origins: []},
  channel: {without_namespace: {allow_subscribe_for_client: true}},
  http_api: {key: $key},
  health: {enabled: true},
  usage_stats: {disabled: true}
}' >"$out/centrifugo.json")
server centrifugo
"$peer_bin" -c "$out/centrifugo.json" >>"$out/centrifugo.log" 2>&1 &
peer_pid=$!
for _ in $(seq 1 3000); do
  curl -fs -o /dev/null "$peer_url/health" && break
  kill -0 "$peer_pid" 2>/dev/null || { echo "bench-peer: centrifugo exited, see $out/centrifugo.log" >&2; exit 1; }
  sleep 0.01
done
curl -fs -o /dev/null "$peer_url/health" || { echo "bench-peer: centrifugo not ready after 30 s" >&2; exit 1; }
CHATLOAD_CENTRIFUGO_API_KEY=$peer_key CHATLOAD_CENTRIFUGO_SECRET=$peer_secret load_url=$peer_url \
  fanout_runs centrifugo "$peer_pid" -protocol centrifugo
stop_peer

echo "== ours: Postgres + Redis, fresh database $db"
psql "$pg_admin" -Xq -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
rm -f "$out"/accounts-*.jsonl
rm -rf "$out/data-pg"
server postgres+redis
start_chatd postgres+redis "empty database" DATABASE_URL="$pg_url" REDIS_URL="$redis_url" \
  CHAT_DATA_DIR="$out/data-pg" CHAT_METRICS_ADDR="$metrics_addr"
fanout_runs postgres+redis "$chatd_pid" -metrics "http://$metrics_addr/metrics"
stop_chatd

echo "== ours: embedded default, SQLite + in-process broker"
rm -rf "$out/data-sqlite"
server sqlite+memory
start_chatd sqlite+memory "empty database" CHAT_DATA_DIR="$out/data-sqlite" DATABASE_URL= REDIS_URL= \
  CHAT_METRICS_ADDR="$metrics_addr"
fanout_runs sqlite+memory "$chatd_pid" -metrics "http://$metrics_addr/metrics"
stop_chatd

./bin/chatload -render-peer "$results" -md "$md"
echo "== wrote the section \"Against Centrifugo\" of $md (raw results: $results, log: $log)"
