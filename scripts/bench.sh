#!/usr/bin/env bash
# Benchmarks (make bench): builds chatd and chatload, runs the load scenarios
# against chatd on Postgres + Redis and then on the embedded default (SQLite,
# in-process broker), and rewrites BENCHMARKS.md from the results.
#
# Needs Postgres on 127.0.0.1:5432 (trust auth, user postgres) and Redis on
# 127.0.0.1:6379, as .ci/run sets them up. Everything runs on loopback.
#
#   make bench                 full sizes (takes roughly 10 minutes, more the first time:
#                              the users are signed up with argon2id)
#   BENCH_SMALL=1 make bench   small sizes, a smoke run of a minute or two
#
# Overrides: BENCH_PORT, BENCH_DB, BENCH_PG_URL (admin connection),
# BENCH_REDIS_URL, BENCH_DURATION, BENCH_OUT (work folder), BENCH_MD (output),
# BENCH_CHATD (an already built server binary to measure instead of bin/chatd),
# BENCH_PPROF_ADDR (e.g. 127.0.0.1:6060: profile the server while it runs),
# BENCH_GODEBUG (the server's GODEBUG, e.g. adaptivestackstart=1 to measure without
# the build's default),
# BENCH_RENDER_ONLY=1 (rewrite BENCHMARKS.md from the last results and notes).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

port=${BENCH_PORT:-18090}
addr=127.0.0.1:$port
url=http://$addr
db=${BENCH_DB:-chat_bench}
pg_admin=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
pg_url="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
redis_url=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
out=${BENCH_OUT:-$root/bin/bench}
md=${BENCH_MD:-$root/BENCHMARKS.md}

if [ -n "${BENCH_SMALL:-}" ]; then
  duration=${BENCH_DURATION:-5s}
  idle_conns=500 idle_users=100
  fanout_members=100
  write_groups=20 write_members=5
  history_clients=20
  sizes="small (BENCH_SMALL=1 smoke run, not the standard sizes)"
  churn_resumes=2000
else
  duration=${BENCH_DURATION:-20s}
  idle_conns=10000 idle_users=1000
  fanout_members=1000
  write_groups=1000 write_members=5
  history_clients=200
  sizes=standard
  churn_resumes=20000
fi
# 10,000 deliveries/s to fanout_members members is this many messages/s,
# and issue 6's 100,000 deliveries/s this many.
fanout_rate=$(( 10000 / fanout_members ))
fanout_rate_high=$(( 100000 / fanout_members ))

# 10,000 connections need as many descriptors here and in chatd (which
# inherits this limit).
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $(( idle_conns + 512 )) ]; then
  echo "bench: open-file limit $(ulimit -n) is below $(( idle_conns + 512 ))" >&2
  exit 1
fi

# render_md writes BENCHMARKS.md from the results and appends the
# hand-written notes (scripts/bench-notes.md: what bounds each figure, from
# profiles). BENCH_RENDER_ONLY=1 does only this, from an earlier run.
render_md() {
  ./bin/chatload -render "$results" >"$md.tmp"
  if [ -s "$micro" ]; then
    {
      printf '\n## Micro-benchmarks\n\n'
      printf 'The hot paths alone, on the same machine (`go test -run '"'"'^$'"'"' -bench . -benchmem ./chat\n'
      printf './realtime ./store`; the store benchmark sends from 1,000 goroutines through the group\n'
      printf 'commit, on Postgres and on SQLite). One run, not an average.\n\n```\n'
      grep -E '^(Benchmark|cpu:)' "$micro" | awk '!/^cpu:/ || !seen++'
      printf '```\n'
    } >>"$md.tmp"
  fi
  if [ -s "$churn" ]; then
    {
      printf '\n## Resume churn\n\n'
      printf 'Ten receivers drop their connection and resume, on either of two instances, while eight\n'
      printf 'senders send into two groups (`go test -run TestResumeChurn ./realtime -churn.resumes=N`;\n'
      printf '`make test` runs it with N = 2,000 under the race detector). Every receiver must end with\n'
      printf 'every message of both groups exactly once, in order.\n\n```\n'
      grep -E '^(---|\s+churn_test.go)' "$churn" | sed 's/^ *//'
      printf '```\n'
    } >>"$md.tmp"
  fi
  if [ -f scripts/bench-notes.md ]; then
    printf '\n' >>"$md.tmp"
    cat scripts/bench-notes.md >>"$md.tmp"
  fi
  mv "$md.tmp" "$md"
}

mkdir -p "$out"
results=$out/results.jsonl
micro=$out/micro.txt
churn=$out/churn.txt
log=$out/bench.log
if [ -n "${BENCH_RENDER_ONLY:-}" ]; then
  render_md
  echo "== wrote $md from $results"
  exit 0
fi
: > "$results"
: > "$log"

echo "== build"
chatd=${BENCH_CHATD:-}
if [ -z "$chatd" ]; then
  make --no-print-directory backend
  chatd=./bin/chatd
fi
(cd backend && go build -trimpath -o ../bin/chatload ./cmd/chatload)

for tool in curl jq psql pg_isready redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "bench: Postgres is not running on 127.0.0.1:5432" >&2; exit 1; }
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "bench: Redis is not running on 127.0.0.1:6379" >&2; exit 1; }

chatd_pid=
stop_chatd() {
  if [ -n "$chatd_pid" ] && kill -0 "$chatd_pid" 2>/dev/null; then
    kill -TERM "$chatd_pid"
    wait "$chatd_pid" 2>/dev/null || true
  fi
  chatd_pid=
}
trap stop_chatd EXIT

# start_chatd LABEL PHASE ENV... : starts bin/chatd with the given extra
# environment and records process start → /readyz 200 as a startup line.
start_chatd() {
  local label=$1 phase=$2
  shift 2
  local t0 t1
  t0=$(date +%s%N)
  # chatd's own default GODEBUG has adaptivestackstart=0 (Makefile,
  # CHATD_LDFLAGS); BENCH_GODEBUG can override it (e.g. adaptivestackstart=1).
  env GIN_MODE=release CHAT_ADDR="$addr" CHAT_AUTH_RATE=0 CHAT_WS_RATE=100000 CHAT_WS_MAX_PENDING_PER_ADDR=0 \
    GODEBUG="${BENCH_GODEBUG:-}" CHAT_PPROF_ADDR="${BENCH_PPROF_ADDR:-}" \
    ACCESS_TOKEN_TTL=2h LOG_LEVEL=warn "$@" "$chatd" >>"$out/chatd-$label.log" 2>&1 &
  chatd_pid=$!
  for _ in $(seq 1 3000); do
    if curl -fs -o /dev/null "$url/readyz"; then
      t1=$(date +%s%N)
      local ms=$(( (t1 - t0) / 1000000 ))
      echo "   $label ready in $ms ms ($phase)"
      printf '{"scenario":"startup","label":"%s","phase":"%s","ms":%d}\n' "$label" "$phase" "$ms" >>"$results"
      return 0
    fi
    kill -0 "$chatd_pid" 2>/dev/null || { echo "bench: chatd exited, see $out/chatd-$label.log" >&2; exit 1; }
    sleep 0.01
  done
  echo "bench: chatd not ready after 30 s" >&2
  exit 1
}

# load LABEL SCENARIO ARGS... : one chatload run; its JSON line goes to the
# results. A failed run is recorded as such and the others still run.
load() {
  local label=$1 scenario=$2
  shift 2
  echo "== $label: chatload -scenario $scenario $*"
  if ./bin/chatload -url "$url" -label "$label" -accounts "$out/accounts-$label.jsonl" \
    -duration "$duration" -scenario "$scenario" "$@" >"$out/last.txt" 2>>"$log"; then
    cat "$out/last.txt"
    grep '^{"scenario"' "$out/last.txt" >>"$results"
  else
    echo "bench: chatload -scenario $scenario failed (see $log):" >&2
    tail -n 3 "$log" >&2
    jq -cn --arg s "$scenario" --arg l "$label" --arg e "$(tail -n 1 "$log")" --arg a "$*" \
      '{scenario:$s,label:$l,args:$a,error:$e}' >>"$results"
  fi
  cat "$out/last.txt" >>"$log"
}

echo "== machine"
pg_version=$(psql "$pg_admin" -XAtc 'SHOW server_version')
redis_version=$(redis-cli -h 127.0.0.1 -p 6379 INFO server | sed -n 's/^redis_version:\(.*\)\r$/\1/p')
mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
cpu=$(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -n 1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
jq -cn --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" --arg cpu "$cpu" --argjson cores "$(nproc)" \
  --arg mem "$(awk "BEGIN{printf \"%.1f\", $mem_kb/1048576}")" --arg kernel "$(uname -r)" \
  --arg go "$(cd backend && go env GOVERSION)" --arg pg "$pg_version" --arg redis "$redis_version" \
  --arg commit "$commit" --arg duration "$duration per run" --arg sizes "$sizes" \
  '{scenario:"meta",date:$date,cpu:$cpu,cores:$cores,mem_gib:$mem,kernel:$kernel,go:$go,postgres:$pg,redis:$redis,commit:$commit,duration:$duration,sizes:$sizes}' \
  >>"$results"

echo "== postgres + redis: fresh database $db"
psql "$pg_admin" -Xq -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
rm -f "$out"/accounts-*.jsonl
label=postgres+redis
pg_env=(DATABASE_URL="$pg_url" REDIS_URL="$redis_url" CHAT_DATA_DIR="$out/data-pg")
rm -rf "$out/data-pg"
start_chatd "$label" "empty database" "${pg_env[@]}"
load "$label" fanout -conns "$fanout_members" -rate "$fanout_rate" -senders 1
load "$label" fanout -conns "$fanout_members" -rate "$fanout_rate_high" -senders 4
load "$label" fanout -conns "$fanout_members" -rate 0 -senders 4 -inflight 8
load "$label" write -groups "$write_groups" -members "$write_members" -inflight 2
load "$label" history -clients "$history_clients" -seed 1000
# Restart so that the idle baseline is not flattered by memory the sign-ups
# freed; idle reuses the users created above (refresh, no argon2id).
stop_chatd
start_chatd "$label" "database with the runs above" "${pg_env[@]}"
load "$label" idle -conns "$idle_conns" -users "$idle_users" -settle 5s -pid "$chatd_pid" \
  -dial-concurrency 128
stop_chatd

echo "== embedded default: SQLite + in-process broker"
label=sqlite+memory
rm -rf "$out/data-sqlite"
start_chatd "$label" "empty database" CHAT_DATA_DIR="$out/data-sqlite" DATABASE_URL= REDIS_URL=
load "$label" write -groups "$write_groups" -members "$write_members" -inflight 2
load "$label" history -clients "$history_clients" -seed 1000
stop_chatd

echo "== resume churn (issue 10): receivers resuming while senders send, two instances"
(cd backend && TEST_DATABASE_URL="$pg_admin" TEST_REDIS_URL="$redis_url" \
  go test -run 'TestResumeChurn' -count 1 -v -timeout 30m ./realtime -churn.resumes="$churn_resumes") >"$churn" 2>>"$log" ||
  echo "bench: the resume-churn test failed (see $churn)" >&2

echo "== micro-benchmarks"
(cd backend && TEST_DATABASE_URL="$pg_admin" go test -run '^$' -bench . -benchmem -count 1 ./chat ./realtime ./store) >"$micro" 2>>"$log" ||
  { echo "bench: micro-benchmarks failed (see $micro)" >&2; : >"$micro"; }

render_md
echo "== wrote $md (raw results: $results, log: $log)"
