#!/usr/bin/env bash
# `make run`: the whole relay on this machine, in one process, for trying it out.
#
# - writes var/hikyaku.yaml on first run (edit it freely; it is not overwritten),
# - starts a private redis-server (AOF on, appendfsync always, data in var/redis) unless
#   a Redis URL is configured (redis.url in var/hikyaku.yaml or HIKYAKU_REDIS__URL),
# - starts a demo receiving SMTP server for the domain example.test (messages saved to
#   var/demo-mailbox), so a message can be delivered without the internet,
# - creates the secrets key file var/secrets.key (mode 0600) that seals DKIM keys in Redis,
# - creates the demo account `demo-api` with an API key (var/demo-api-key) for the HTTP API,
# - runs `hikyaku serve --role all` and prints every event as it happens.
set -euo pipefail
BIN=${1:-.build/debug/hikyaku}
cd "$(dirname "$0")/.."
mkdir -p var/redis var/tls

RELAY_PORT=${RELAY_PORT:-2525}
SUBMISSION_PORT=${SUBMISSION_PORT:-2587}
SMTPS_PORT=${SMTPS_PORT:-2465}
DEMO_MX_PORT=${DEMO_MX_PORT:-2526}
REDIS_PORT=${REDIS_PORT:-6390}
API_PORT=${API_PORT:-8025}
API_TLS_PORT=${API_TLS_PORT:-8443}
CONSOLE_PORT=${CONSOLE_PORT:-8090}

if [ ! -f var/tls/cert.pem ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout var/tls/key.pem -out var/tls/cert.pem 2>/dev/null
fi
if [ ! -f var/demo-password ]; then
  head -c 12 /dev/urandom | base64 | tr -d '/+=' > var/demo-password
fi
DEMO_PASSWORD=$(cat var/demo-password)
if [ ! -f var/secrets.key ]; then
  "$BIN" secrets generate-key var/secrets.key >/dev/null
fi

if [ ! -f var/hikyaku.yaml ]; then
  HASH=$(printf '%s\n' "$DEMO_PASSWORD" | "$BIN" passwd)
  cat > var/hikyaku.yaml <<YAML
# Written by \`make run\` on first start; the README documents every key.
hostname: localhost
log_level: notice
redis:
  # url: redis://127.0.0.1:6379/0   # unset: make run starts a private redis-server
ingest:
  listeners:
    - {name: relay, address: "127.0.0.1:${RELAY_PORT}", mode: relay}
    - {name: submission, address: "127.0.0.1:${SUBMISSION_PORT}", mode: submission}
    - {name: smtps, address: "127.0.0.1:${SMTPS_PORT}", mode: submission, tls: implicit}
  relay_networks: ["127.0.0.0/8", "::1"]
  tls: {certificate: var/tls/cert.pem, private_key: var/tls/key.pem}
  users:
    - {username: demo, password_hash: '${HASH}'}
delivery:
  concurrency: 8
  routes:
    example.test: "127.0.0.1:${DEMO_MX_PORT}"
  retry_schedule: [30s, 1m, 5m, 15m, 1h]
secrets:
  key_file: var/secrets.key   # seals DKIM private keys in Redis (README, "Secrets")
api:
  listen: ["127.0.0.1:${API_TLS_PORT}"]        # HTTPS with ingest.tls's certificate
  plain_listen: ["127.0.0.1:${API_PORT}"]      # plain HTTP, for api.plain_networks (loopback) only
logs:
  sqlite_path: var/logs.sqlite   # the archiver's log store (hikyaku logs search --config var/hikyaku.yaml)
console:
  plain_listen: ["127.0.0.1:${CONSOLE_PORT}"]  # the web console, plain HTTP on loopback
YAML
fi
# A var/hikyaku.yaml written before there was a log store: archive anyway.
if ! grep -q '^logs:' var/hikyaku.yaml && [ -z "${HIKYAKU_LOGS__SQLITE_PATH:-}" ]; then
  export HIKYAKU_LOGS__SQLITE_PATH=var/logs.sqlite
fi
# A var/hikyaku.yaml written before there was an HTTP API: serve it anyway.
if ! grep -q '^api:' var/hikyaku.yaml && [ -z "${HIKYAKU_API__PLAIN_LISTEN:-}" ]; then
  export HIKYAKU_API__PLAIN_LISTEN="[\"127.0.0.1:${API_PORT}\"]"
fi
# A var/hikyaku.yaml written before there was a console: serve it anyway.
if ! grep -q '^console:' var/hikyaku.yaml && [ -z "${HIKYAKU_CONSOLE__PLAIN_LISTEN:-}" ]; then
  export HIKYAKU_CONSOLE__PLAIN_LISTEN="[\"127.0.0.1:${CONSOLE_PORT}\"]"
fi
# A var/hikyaku.yaml written before there was a key file: use it anyway.
if ! grep -q '^[[:space:]]*key_file:' var/hikyaku.yaml && [ -z "${HIKYAKU_SECRETS__KEY_FILE:-}" ]; then
  export HIKYAKU_SECRETS__KEY_FILE=var/secrets.key
fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

configured_url=$(sed -n 's/^[[:space:]]*url:[[:space:]]*\(redis:[^[:space:]#]*\).*/\1/p' var/hikyaku.yaml | head -n1)
if [ -z "${HIKYAKU_REDIS__URL:-}" ] && [ -z "$configured_url" ]; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$PWD/var/redis" \
    --appendonly yes --appendfsync always --save '' --daemonize no \
    --logfile "$PWD/var/redis/redis.log" &
  pids+=($!)
  export HIKYAKU_REDIS__URL="redis://127.0.0.1:${REDIS_PORT}/0"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "private redis-server on 127.0.0.1:${REDIS_PORT} (AOF, appendfsync always; data in var/redis)"
fi

python3 -m aiosmtpd -n -l "127.0.0.1:${DEMO_MX_PORT}" -c aiosmtpd.handlers.Mailbox "$PWD/var/demo-mailbox" &
pids+=($!)

# The demo API account (sends as example.com) and its key, once.
if [ ! -s var/demo-api-key ]; then
  "$BIN" account add demo-api --config var/hikyaku.yaml --domain example.com >/dev/null
  "$BIN" account api-key create demo-api --config var/hikyaku.yaml --label 'make run' | tail -n1 > var/demo-api-key
fi
API_KEY=$(cat var/demo-api-key)
# The console's demo operator, once.
if [ ! -s var/console-password ]; then
  { "$BIN" operator add admin --config var/hikyaku.yaml || true; } | sed -n 's/^password (shown once, store it now): //p' > var/console-password
fi
CONSOLE_PASSWORD=$(cat var/console-password)

"$BIN" serve --config var/hikyaku.yaml --role all &
SERVE_PID=$!
pids+=($SERVE_PID)
for _ in $(seq 100); do
  kill -0 "$SERVE_PID" 2>/dev/null || { echo "hikyaku serve exited; see the error above" >&2; exit 1; }
  (exec 3<>/dev/tcp/127.0.0.1/"$RELAY_PORT") 2>/dev/null && break
  sleep 0.1
done

cat <<BANNER

Hikyaku is running (all roles in one process).
  relay       127.0.0.1:${RELAY_PORT}   allow-listed 127.0.0.0/8, STARTTLS offered
  submission  127.0.0.1:${SUBMISSION_PORT}   STARTTLS + AUTH (user demo, password ${DEMO_PASSWORD})
  smtps       127.0.0.1:${SMTPS_PORT}   implicit TLS + AUTH
  demo MX for example.test on 127.0.0.1:${DEMO_MX_PORT} (mail saved to var/demo-mailbox)

Send a message (paste in another terminal):
  swaks --server 127.0.0.1:${RELAY_PORT} --from app@example.com --to user@example.test --header 'Subject: Hello from Hikyaku'

Or authenticated over TLS:
  swaks --server 127.0.0.1:${SUBMISSION_PORT} -tls --auth PLAIN --auth-user demo --auth-password '${DEMO_PASSWORD}' --from app@example.com --to user@example.test

Or over the HTTP API (account demo-api, key in var/demo-api-key):
  curl -s http://127.0.0.1:${API_PORT}/v1/messages -H 'Authorization: Bearer ${API_KEY}' -H 'Content-Type: application/json' \\
    -d '{"from": {"email": "app@example.com", "name": "飛脚"}, "to": ["user@example.test"], "subject": "こんにちは", "text": "Hello from the API"}'
  (HTTPS: https://127.0.0.1:${API_TLS_PORT}/v1/messages, with curl -k or --cacert var/tls/cert.pem)

Read its events (newest first; ?queue_id=<the id in the answer> for one message):
  curl -s 'http://127.0.0.1:${API_PORT}/v1/events?limit=5' -H 'Authorization: Bearer ${API_KEY}'

The web console (operator admin, password ${CONSOLE_PASSWORD}):
  http://127.0.0.1:${CONSOLE_PORT}/

Search the log store (the archiver's SQLite file, var/logs.sqlite):
  ${BIN} logs search --config var/hikyaku.yaml --recipient user@example.test

Events appear below as JSON lines. Ctrl-C stops everything.

BANNER

"$BIN" events tail --config var/hikyaku.yaml --follow --last 0 | sed -u 's/^/event: /' &
pids+=($!)
wait "$SERVE_PID"
