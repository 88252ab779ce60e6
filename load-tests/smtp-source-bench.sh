#!/usr/bin/env bash
# A quick end-to-end throughput figure until the full load-test runner (issue #4) exists:
# Postfix's smtp-source → hikyaku (all roles, one process) → Postfix's smtp-sink, with a
# private redis-server using appendfsync always, everything on this machine.
#
#   load-tests/smtp-source-bench.sh [BIN] [MESSAGES] [CLIENT_SESSIONS] [SIZE_BYTES]
#
# Prints accepted/s (time for smtp-source to get every 250) and delivered/s (time until the
# queue is empty and every recipient has a final event), and writes var/bench/result.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build-release/release/hikyaku}
MESSAGES=${2:-20000}
SESSIONS=${3:-20}
SIZE=${4:-1024}
command -v smtp-source >/dev/null || { echo "needs smtp-source/smtp-sink: apt-get install postfix" >&2; exit 1; }

DIR=var/bench
rm -rf "$DIR"; mkdir -p "$DIR"
REDIS_PORT=6411; RELAY_PORT=2711; SINK_PORT=2712
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

redis-server --port $REDIS_PORT --bind 127.0.0.1 --dir "$PWD/$DIR" --appendonly yes --appendfsync always \
  --save '' --daemonize no --logfile "$PWD/$DIR/redis.log" &
pids+=($!)
smtp-sink -u nobody -R "$PWD/$DIR" 127.0.0.1:$SINK_PORT 1000 &
pids+=($!)
cat > "$DIR/hikyaku.yaml" <<YAML
hostname: bench.test
log_level: warning
redis: {url: "redis://127.0.0.1:${REDIS_PORT}/0"}
ingest:
  listeners: [{name: relay, address: "127.0.0.1:${RELAY_PORT}"}]
delivery:
  concurrency: 32
  batch_size: 100
  routes: {bench.test: "127.0.0.1:${SINK_PORT}"}
  tls: disabled
YAML
for _ in $(seq 50); do redis-cli -p $REDIS_PORT ping >/dev/null 2>&1 && break; sleep 0.1; done
"$BIN" serve --config "$DIR/hikyaku.yaml" 2> "$DIR/hikyaku.log" &
HPID=$!; pids+=($HPID)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$RELAY_PORT) 2>/dev/null && break; sleep 0.1; done

start=$(date +%s.%N)
smtp-source -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -f sender@bench.test -t rcpt@bench.test 127.0.0.1:$RELAY_PORT
accepted=$(date +%s.%N)
while :; do
  left=$(redis-cli -p $REDIS_PORT --scan --pattern 'hk:msg:*' | wc -l)
  [ "$left" -eq 0 ] && break
  sleep 0.05
done
done_t=$(date +%s.%N)
events=$(redis-cli -p $REDIS_PORT XLEN hk:events)
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$HPID/status)
cpu=$(awk '{print ($14+$15)/100}' /proc/$HPID/stat)
python3 - "$start" "$accepted" "$done_t" "$MESSAGES" "$events" "$rss_kb" "$cpu" "$SESSIONS" "$SIZE" <<'PY'
import json, sys
start, accepted, done, n, events, rss, cpu, sessions, size = sys.argv[1:]
start, accepted, done, n = float(start), float(accepted), float(done), int(n)
r = {"messages": n, "client_sessions": int(sessions), "message_bytes": int(size),
     "accept_seconds": round(accepted - start, 3), "accepted_per_second": round(n / (accepted - start), 1),
     "end_to_end_seconds": round(done - start, 3), "delivered_per_second": round(n / (done - start), 1),
     "events": int(events), "hikyaku_peak_rss_mib": round(int(rss) / 1024, 1), "hikyaku_cpu_seconds": float(cpu),
     "redis_appendfsync": "always"}
print(json.dumps(r, indent=2))
open("var/bench/result.json", "w").write(json.dumps(r, indent=2) + "\n")
PY
