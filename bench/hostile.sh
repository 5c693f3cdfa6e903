#!/usr/bin/env bash
# The hostile benchmark (see docs/benchmarks.md, "Hostile requests"): the generated world plus a
# profile with 5,000 pins, served by the release binary; bench/hostile.py sends the worst requests
# we can build, over HTTP and over WebSockets (bench/hostile-live.mjs), and measures what each costs
# the server and the other clients.
# usage: bench/hostile.sh [sqlite|postgres|all]
# settings: LOAD_SECONDS (8), CONNECTIONS (32), REPEAT (3), CASES (all, or names with commas), PG_ADMIN_URL
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:-all}
OUT=bench/out
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=8112
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

mkdir -p "$OUT"
cargo build --release --quiet
BIN=target/release/moments
[ -f "$OUT/world.jsonl" ] || "$BIN" generate --output "$OUT/world.jsonl"
[ -f "$OUT/pinner.jsonl" ] || python3 bench/hostile.py pinner "$OUT/pinner.jsonl"
# The WebSocket cases' client (bench/hostile-live.mjs) needs `ws`, from bench/package-lock.json.
[ -d bench/node_modules ] || npm ci --prefix bench --ignore-scripts --no-audit --no-fund </dev/null

run_database() {
  local name=$1 url=$2
  local dir="$OUT/hostile-$name"
  mkdir -p "$dir"
  echo "== $name: import"
  DATABASE_URL="$url" "$BIN" import "$OUT/world.jsonl"
  DATABASE_URL="$url" "$BIN" import "$OUT/pinner.jsonl"
  DATABASE_URL="$url" MOMENTS_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn "$BIN" serve > "$dir/server.log" 2>&1 &
  local server=$!
  trap "kill $server 2>/dev/null || true" RETURN
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
  python3 bench/prepare.py "$BIN" "$url" "http://127.0.0.1:$PORT" "$dir"
  echo "== $name: hostile requests"
  python3 bench/hostile.py run "$BIN" "$url" "http://127.0.0.1:$PORT" "$server" "$dir"
  kill "$server"
  wait "$server" 2>/dev/null || true
}

if [ "$WHICH" = sqlite ] || [ "$WHICH" = all ]; then
  rm -f "$OUT"/hostile.db*
  run_database sqlite "sqlite://$PWD/$OUT/hostile.db?mode=rwc"
fi
if [ "$WHICH" = postgres ] || [ "$WHICH" = all ]; then
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS moments_hostile" -c "CREATE DATABASE moments_hostile"
  run_database postgres "${PG_ADMIN_URL%/*}/moments_hostile"
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS moments_hostile"
fi
