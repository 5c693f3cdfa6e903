#!/usr/bin/env bash
# The load benchmark (see docs/benchmarks.md): builds the release binary, generates the world, loads
# it into SQLite and PostgreSQL (timing the import), serves it, and drives each scenario with wrk.
# usage: bench/run.sh [sqlite|postgres|all]
# settings: DURATION (seconds per run, 15), CONNECTIONS (32), THREADS (wrk threads, 2),
#           PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:-all}
OUT=bench/out
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=8111
SCENARIOS="floor profile feed pin timeline-page-1 timeline-page-100 feed-page-1 feed-page-100"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

mkdir -p "$OUT"
cargo build --release --quiet
BIN=target/release/moments
if [ ! -f "$OUT/world.jsonl" ]; then
  "$BIN" generate --output "$OUT/world.jsonl"
fi

run_database() {
  local name=$1 url=$2
  local dir="$OUT/$name"
  mkdir -p "$dir"
  echo "== $name: import"
  local started=$(date +%s.%N)
  DATABASE_URL="$url" "$BIN" import "$OUT/world.jsonl"
  local import_s=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $started }")
  echo "import_seconds=$import_s" > "$dir/results.txt"
  DATABASE_URL="$url" MOMENTS_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn "$BIN" serve > "$dir/server.log" 2>&1 &
  local server=$!
  trap "kill $server 2>/dev/null || true" RETURN
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
  python3 bench/prepare.py "$BIN" "$url" "http://127.0.0.1:$PORT" "$dir"
  for scenario in $SCENARIOS; do
    wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s bench/graphql.lua "http://127.0.0.1:$PORT" -- "$dir/$scenario.txt" >/dev/null
    local result
    result=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s bench/graphql.lua "http://127.0.0.1:$PORT" -- "$dir/$scenario.txt" | grep '^RESULT')
    echo "$scenario ${result#RESULT }" | tee -a "$dir/results.txt"
  done
  kill "$server"
  wait "$server" 2>/dev/null || true
}

if [ "$WHICH" = sqlite ] || [ "$WHICH" = all ]; then
  rm -f "$OUT"/bench.db*
  run_database sqlite "sqlite://$PWD/$OUT/bench.db?mode=rwc"
fi
if [ "$WHICH" = postgres ] || [ "$WHICH" = all ]; then
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS moments_bench" -c "CREATE DATABASE moments_bench"
  run_database postgres "${PG_ADMIN_URL%/*}/moments_bench"
fi
