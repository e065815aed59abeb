# Shared by scripts/bench.sh and scripts/bench-peer.sh, which source it:
# the tools they build, the services they check, how chatd is started and
# stopped, one chatload run, and the machine's description.
#
# The caller sets: addr and url (chatd's), out (work folder), results (JSON
# lines), log, duration; build_tools sets chatd. load runs against
# ${load_url:-$url}.

# build_tools builds chatd (unless BENCH_CHATD names a server binary to
# measure instead) and chatload.
build_tools() {
  echo "== build"
  chatd=${BENCH_CHATD:-}
  if [ -z "$chatd" ]; then
    make --no-print-directory backend
    chatd=./bin/chatd
  fi
  (cd backend && go build -trimpath -o ../bin/chatload ./cmd/chatload)
}

# need_services checks the tools the scripts use and that Postgres and Redis
# answer on loopback.
need_services() {
  for tool in curl jq psql pg_isready redis-cli; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
  done
  pg_isready -h 127.0.0.1 -p 5432 -q || { echo "bench: Postgres is not running on 127.0.0.1:5432" >&2; exit 1; }
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "bench: Redis is not running on 127.0.0.1:6379" >&2; exit 1; }
}

# stop_server PID : ends a server this script started, if it still runs,
# and waits for it.
stop_server() {
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1"
    wait "$1" 2>/dev/null || true
  fi
}

chatd_pid=
stop_chatd() {
  stop_server "$chatd_pid"
  chatd_pid=
}

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
  if ./bin/chatload -url "${load_url:-$url}" -label "$label" -accounts "$out/accounts-$label.jsonl" \
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

# machine prints the machine, the versions and the commit as one JSON object.
machine() {
  local pg_version redis_version mem_kb cpu commit
  pg_version=$(psql "$pg_admin" -XAtc 'SHOW server_version')
  redis_version=$(redis-cli -h 127.0.0.1 -p 6379 INFO server | sed -n 's/^redis_version:\(.*\)\r$/\1/p')
  mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
  cpu=$(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -n 1)
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  jq -cn --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" --arg cpu "$cpu" --argjson cores "$(nproc)" \
    --arg mem "$(awk "BEGIN{printf \"%.1f\", $mem_kb/1048576}")" --arg kernel "$(uname -r)" \
    --arg go "$(cd backend && go env GOVERSION)" --arg pg "$pg_version" --arg redis "$redis_version" \
    --arg commit "$commit" \
    '{date:$date,cpu:$cpu,cores:$cores,mem_gib:$mem,kernel:$kernel,go:$go,postgres:$pg,redis:$redis,commit:$commit}'
}
