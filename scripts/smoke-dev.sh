#!/usr/bin/env bash
# Proves the README's `npm run dev` works with zero configuration: starts it, waits for
# wrangler, checks readiness and one database-backed route through the Worker, stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${SMOKE_PORT:-8798}"
log="$(mktemp)"
env -u DATABASE_URL npm run dev -- --port "$port" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; pkill -f "wrangler dev.*--port $port" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 90); do
  grep -q 'Ready on' "$log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "npm run dev exited early"; exit 1; }
  sleep 1
done
ready="$(curl -fsS "http://127.0.0.1:$port/readyz")" || { cat "$log"; exit 1; }
echo "readyz: $ready"
grep -q '"database":{"status":"ok"' <<<"$ready"
curl -fsS "http://127.0.0.1:$port/v1/services" | grep -q '"slug":"wash-and-fold"'
# /docs' UI files come from Workers Static Assets (wrangler.toml [assets]), not the script bundle.
# (Read whole first: grep -q stopping early would break curl's pipe, and pipefail the script.)
css="$(curl -fsS "http://127.0.0.1:$port/docs/swagger-ui.css")"
grep -q '\.swagger-ui' <<<"$css"
echo "smoke-dev: ok"
