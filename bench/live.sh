#!/usr/bin/env bash
# The subscribers' benchmark (see docs/benchmarks.md, "Live changes"): the generated world served by
# the release binary, SUBSCRIBERS graphql-transport-ws subscriptions to one author (bench/live.mjs),
# and that author pinning and unpinning: memory per subscriber, latency from the pin to delivery.
# usage: bench/live.sh [sqlite|postgres|all]
# settings: SUBSCRIBERS (10000), ROUNDS (10), PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:-all}
OUT=bench/out
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=8113
mkdir -p "$OUT"
cargo build --release --quiet
BIN=target/release/moments
[ -f "$OUT/world.jsonl" ] || "$BIN" generate --output "$OUT/world.jsonl"
[ -d bench/node_modules ] || npm ci --prefix bench --ignore-scripts --no-audit --no-fund </dev/null

run_database() {
  local name=$1 url=$2
  echo "== $name: import"
  DATABASE_URL="$url" "$BIN" import "$OUT/world.jsonl"
  # Every subscriber connects from this one address: the per-address connection limit is raised.
  DATABASE_URL="$url" MOMENTS_LISTEN="127.0.0.1:$PORT" MOMENTS_MAX_CONNECTIONS_PER_CLIENT=4096 RUST_LOG=warn \
    "$BIN" serve > "$OUT/live-$name.log" 2>&1 &
  local server=$!
  trap "kill $server 2>/dev/null || true" RETURN
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
  echo "== $name: subscribers"
  node bench/live.mjs "$BIN" "$url" "http://127.0.0.1:$PORT" "$server" | tee "$OUT/live-$name.txt"
  kill "$server"
  wait "$server" 2>/dev/null || true
}

if [ "$WHICH" = sqlite ] || [ "$WHICH" = all ]; then
  rm -f "$OUT"/live.db*
  run_database sqlite "sqlite://$PWD/$OUT/live.db?mode=rwc"
fi
if [ "$WHICH" = postgres ] || [ "$WHICH" = all ]; then
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS moments_live" -c "CREATE DATABASE moments_live"
  run_database postgres "${PG_ADMIN_URL%/*}/moments_live"
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS moments_live"
fi
