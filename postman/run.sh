#!/usr/bin/env bash
# Runs the Postman collection with newman against a fresh local chat server:
# bin/chatd (built by `make backend`) on a free 127.0.0.1 port with a
# temporary data directory (embedded SQLite, in-process broker) and no
# sign-up rate limit, so the collection can register its users.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
chatd="${CHATD:-$root/bin/chatd}"
newman="$here/node_modules/.bin/newman"

if [ ! -x "$chatd" ]; then
  echo "run.sh: $chatd not found; run 'make backend' first" >&2
  exit 1
fi
if [ ! -x "$newman" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

data="$(mktemp -d)"
pid=""
# shellcheck disable=SC2317 # called by the EXIT trap, not unreachable
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

# Ask the kernel for a free port (node is needed for newman anyway).
port="$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')"
base="http://127.0.0.1:$port"

# Only this server's settings: never a DATABASE_URL or REDIS_URL from the
# caller's environment. No metrics listener: its fixed default port would
# collide with another server on this machine.
env -u DATABASE_URL -u REDIS_URL -u JWT_SECRET -u JWT_SECRET_PREVIOUS \
  CHAT_ADDR="127.0.0.1:$port" CHAT_DATA_DIR="$data" CHAT_AUTH_RATE=0 LOG_LEVEL=warn CHAT_METRICS_ADDR=off \
  "$chatd" >"$data/chatd.log" 2>&1 &
pid=$!

ready=""
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "run.sh: chatd did not become ready on $base; its log:" >&2
  cat "$data/chatd.log" >&2
  exit 1
fi

status=0
"$newman" run "$here/chat.postman_collection.json" \
  --environment "$here/local.postman_environment.json" \
  --env-var "baseUrl=$base" \
  --working-dir "$here" \
  --color off --disable-unicode --reporters cli || status=$?
if [ "$status" -ne 0 ]; then
  echo "run.sh: newman failed; chatd log:" >&2
  tail -n 50 "$data/chatd.log" >&2
fi
exit "$status"
