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
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
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
  search_clients=10 search_seed=2000 search_messages=20000
  sizes="small (BENCH_SMALL=1 smoke run, not the standard sizes)"
  churn_resumes=2000
else
  duration=${BENCH_DURATION:-20s}
  idle_conns=10000 idle_users=1000
  fanout_members=1000
  write_groups=1000 write_members=5
  history_clients=200
  search_clients=20 search_seed=20000 search_messages=1000000
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
  # The section "Against Centrifugo" is make bench-peer's (scripts/bench-peer.sh): carry it over.
  local peer
  peer=$(./bin/chatload -peer-section "$md")
  if [ -n "$peer" ]; then
    printf '\n%s\n' "$peer" >>"$md.tmp"
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

build_tools
need_services
trap stop_chatd EXIT

echo "== machine"
machine | jq -c --arg duration "$duration per run" --arg sizes "$sizes" \
  '{scenario:"meta"} + . + {duration:$duration,sizes:$sizes}' >>"$results"

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
load "$label" history -clients "$history_clients" -seed 1000 -live-socket
load "$label" search -clients "$search_clients" -seed "$search_seed"
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
load "$label" history -clients "$history_clients" -seed 1000 -live-socket
load "$label" search -clients "$search_clients" -seed "$search_seed"
stop_chatd

echo "== resume churn (issue 10): receivers resuming while senders send, two instances"
(cd backend && TEST_DATABASE_URL="$pg_admin" TEST_REDIS_URL="$redis_url" \
  go test -run 'TestResumeChurn' -count 1 -v -timeout 30m ./realtime -churn.resumes="$churn_resumes") >"$churn" 2>>"$log" ||
  echo "bench: the resume-churn test failed (see $churn)" >&2

echo "== micro-benchmarks"
(cd backend && TEST_DATABASE_URL="$pg_admin" go test -run '^$' -bench . -benchmem -count 1 ./chat ./realtime ./store) >"$micro" 2>>"$log" ||
  { echo "bench: micro-benchmarks failed (see $micro)" >&2; : >"$micro"; }
# Message search over issue 15's 1,000,000 messages in 1,000 groups, seeded
# by SQL (minutes on SQLite): the store's query, p50 and p99 per database.
(cd backend && TEST_DATABASE_URL="$pg_admin" CHAT_SEARCH_BENCH_MESSAGES="$search_messages" \
  go test -run '^$' -bench '^BenchmarkSearchMessages$' -benchtime 300x -count 1 -timeout 60m ./store) >>"$micro" 2>>"$log" ||
  echo "bench: the search benchmark failed (see $log)" >&2

render_md
echo "== wrote $md (raw results: $results, log: $log)"
