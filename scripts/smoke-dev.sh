#!/usr/bin/env bash
# Proves the README's `npm run dev` works with zero configuration and offline: starts it, waits
# for wrangler, checks readiness, the catalog and the demo zone (a demo postcode is served and
# has slots) through the Worker, stops it. CI has no network, so a wrangler or miniflare start-up
# fetch that fails offline (the Request.cf download from workers.cloudflare.com, telemetry)
# shows up here as a warning or a stack trace in the output: either fails the smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${SMOKE_PORT:-8798}"
log="$(mktemp)"
# Its own session and process group, so the cleanup stops npm, tsx, wrangler and workerd together.
setsid env -u DATABASE_URL npm run dev -- --port "$port" >"$log" 2>&1 &
pid=$!
cleanup() { kill -TERM -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
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
# The demo zone (src/db/demo-seed.ts; README "Quickstart"): 94103 is served and has pickup slots.
curl -fsS "http://127.0.0.1:$port/v1/coverage?postcode=94103" | grep -q '"served":true' || { cat "$log"; echo "demo postcode 94103 is not served"; exit 1; }
curl -fsS "http://127.0.0.1:$port/v1/slots?postcode=94103&kind=pickup" | grep -q '"kind":"pickup"' || { cat "$log"; echo "demo postcode 94103 has no pickup slot"; exit 1; }
grep -q 'staff@demo.example.com' "$log" || { cat "$log"; echo "the demo accounts were not printed"; exit 1; }
# Offline start-up must be quiet: no network error, no stack trace.
if grep -nE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|workers\.cloudflare\.com|Unable to fetch|^\s+at .+:[0-9]+:[0-9]+\)?$' "$log"; then
  cat "$log"
  echo "smoke-dev: npm run dev printed a network error or a stack trace (see above)"
  exit 1
fi
# /docs' UI files come from Workers Static Assets (wrangler.toml [assets]), not the script bundle.
# (Read whole first: grep -q stopping early would break curl's pipe, and pipefail the script.)
# /openapi.json from the Static Assets the Worker's [build] wrote (tools/worker-bundle/build.ts).
curl -fsS "http://127.0.0.1:$port/openapi.json" | grep -q '"openapi":"3.1.0"' || { cat "$log"; echo "/openapi.json is not served"; exit 1; }
css="$(curl -fsS "http://127.0.0.1:$port/docs/swagger-ui.css")"
grep -q '\.swagger-ui' <<<"$css"
echo "smoke-dev: ok"
