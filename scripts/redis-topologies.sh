#!/usr/bin/env bash
# Starts, on loopback and with nothing kept on disk, the two Redis topologies
# the broker tests run against besides the single node:
#   - a Cluster of 3 masters on 127.0.0.1:7101-7103 (no replicas);
#   - a Sentinel setup: master 7201, replica 7202, one sentinel on 7211
#     watching it as "chatmaster" (quorum 1).
# Idempotent: a topology that already answers is left alone. Prints the two
# REDIS_URL forms for the tests (export them, e.g. `eval "$(scripts/redis-topologies.sh)"`):
#   TEST_REDIS_CLUSTER_URL, TEST_REDIS_SENTINEL_URL
# `scripts/redis-topologies.sh stop` shuts both down (their temp dirs stay in
# $REDIS_TOPOLOGIES_DIR, default /tmp/chat-redis-topologies).
set -euo pipefail

dir=${REDIS_TOPOLOGIES_DIR:-/tmp/chat-redis-topologies}
host=127.0.0.1
cluster_ports=(7101 7102 7103)
master_port=7201
replica_port=7202
sentinel_port=7211
master_name=chatmaster

log() { echo "redis-topologies: $*" >&2; }

up() { redis-cli -h "$host" -p "$1" ping >/dev/null 2>&1; }

wait_up() {
  for _ in $(seq 1 50); do up "$1" && return 0; sleep 0.1; done
  log "redis on port $1 did not start (see $dir/$1/redis.log)"
  return 1
}

start_server() { # port, extra args...
  local port=$1
  shift
  mkdir -p "$dir/$port"
  redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
    --dir "$dir/$port" --logfile "$dir/$port/redis.log" --pidfile "$dir/$port/redis.pid" "$@"
  wait_up "$port"
}

cluster_ok() {
  redis-cli -h "$host" -p "${cluster_ports[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}

start_cluster() {
  if cluster_ok; then
    log "cluster already up"
    return
  fi
  for p in "${cluster_ports[@]}"; do
    if ! up "$p"; then
      rm -f "$dir/$p/nodes.conf"
      start_server "$p" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000
    fi
  done
  local addrs=()
  for p in "${cluster_ports[@]}"; do addrs+=("$host:$p"); done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 ||
    { log "cluster create failed (see $dir/cluster-create.log)"; return 1; }
  for _ in $(seq 1 100); do cluster_ok && break; sleep 0.1; done
  cluster_ok || { log "cluster did not reach state ok"; return 1; }
  log "cluster up on ${cluster_ports[*]}"
}

sentinel_ok() {
  redis-cli -h "$host" -p "$sentinel_port" sentinel get-master-addr-by-name "$master_name" 2>/dev/null | grep -q .
}

start_sentinel() {
  if sentinel_ok; then
    log "sentinel already up"
    return
  fi
  up "$master_port" || start_server "$master_port"
  up "$replica_port" || start_server "$replica_port" --replicaof "$host" "$master_port"
  # After a failover test the two have swapped roles: watch whichever is
  # the master now.
  local watch=$master_port
  if [ "$(redis-cli -h "$host" -p "$replica_port" role | head -n 1)" = master ]; then
    watch=$replica_port
  fi
  mkdir -p "$dir/$sentinel_port"
  # A sentinel rewrites its config file: it must be writable and its own.
  cat >"$dir/$sentinel_port/sentinel.conf" <<EOF
bind $host
port $sentinel_port
daemonize yes
dir $dir/$sentinel_port
logfile $dir/$sentinel_port/sentinel.log
pidfile $dir/$sentinel_port/sentinel.pid
sentinel monitor $master_name $host $watch 1
sentinel down-after-milliseconds $master_name 2000
sentinel failover-timeout $master_name 10000
EOF
  redis-server "$dir/$sentinel_port/sentinel.conf" --sentinel
  for _ in $(seq 1 50); do sentinel_ok && break; sleep 0.1; done
  sentinel_ok || { log "sentinel did not start"; return 1; }
  log "sentinel up on $sentinel_port (master $master_name)"
}

stop_all() {
  for p in "${cluster_ports[@]}" "$master_port" "$replica_port" "$sentinel_port"; do
    redis-cli -h "$host" -p "$p" shutdown nosave >/dev/null 2>&1 || true
  done
  log "stopped"
}

case "${1:-start}" in
start)
  command -v redis-server >/dev/null || { log "redis-server not installed"; exit 1; }
  start_cluster
  start_sentinel
  echo "export TEST_REDIS_CLUSTER_URL='redis://$host:${cluster_ports[0]}?addr=$host:${cluster_ports[1]}&addr=$host:${cluster_ports[2]}'"
  echo "export TEST_REDIS_SENTINEL_URL='redis://$host:$sentinel_port/0?master_name=$master_name'"
  ;;
stop) stop_all ;;
*)
  log "usage: $0 [start|stop]"
  exit 2
  ;;
esac
