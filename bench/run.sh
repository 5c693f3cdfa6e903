#!/usr/bin/env bash
# The load benchmark (see docs/benchmarks.md): builds the release binary, generates each world, loads
# it into SQLite and PostgreSQL (timing the import and its peak memory), serves it, drives each
# scenario with wrk, and records the server's peak resident memory; then compares the ten-times
# world with the first, database by database. Both worlds are measured in one run, so their figures
# can be set side by side.
# usage: bench/run.sh [sqlite|postgres|all]
# settings: WORLDS ("first ten"), DURATION (seconds per run, 15), CONNECTIONS (32), THREADS (wrk
#           threads, 2), PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:-all}
OUT=bench/out
WORLDS=${WORLDS:-"first ten"}
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

# The `moments generate` flags of each world: the first is the default world (2,000 users, 50
# friends each, 400,000 moments); the ten-times world has ten times the users and moments, and
# twice the friends (20,000 users, 100 friends each, 4,000,000 moments).
world_args() {
  case $1 in
    first) echo "" ;;
    ten) echo "--users 20000 --friends 100 --moments 200" ;;
    *) echo "unknown world $1" >&2; exit 1 ;;
  esac
}
world_file() { if [ "$1" = first ]; then echo "$OUT/world.jsonl"; else echo "$OUT/world-$1.jsonl"; fi; }

run_database() {
  local world=$1 name=$2 url=$3
  local dir="$OUT/$world/$name"
  mkdir -p "$dir"
  echo "== $world world, $name: import"
  /usr/bin/time -f "%e %M" -o "$dir/import.time" env DATABASE_URL="$url" "$BIN" import "$(world_file "$world")"
  read -r import_s import_kb < "$dir/import.time"
  echo "import_seconds=$import_s import_peak_mib=$((import_kb / 1024))" | tee "$dir/results.txt"
  DATABASE_URL="$url" MOMENTS_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn "$BIN" serve > "$dir/server.log" 2>&1 &
  local server=$!
  trap "kill $server 2>/dev/null || true" RETURN
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
  # The server's own memory (RssAnon: heap, SQLite's page caches, stacks), sampled twice a second
  # for its peak: VmHWM also counts the pages of the database file SQLite's readers map, which are
  # the operating system's file cache (docs/decisions.md, "SQLite's readers map the file").
  rm -f "$dir/anon_peak_kib"
  ( peak=0
    while kill -0 "$server" 2>/dev/null; do
      anon=$(awk '/RssAnon/ { print $2 }' "/proc/$server/status" 2>/dev/null || echo 0)
      if [ "${anon:-0}" -gt "$peak" ]; then peak=$anon; echo "$peak" > "$dir/anon_peak_kib"; fi
      sleep 0.5
    done ) &
  local sampler=$!
  MOMENTS_WORLD="$(world_args "$world")" python3 bench/prepare.py "$BIN" "$url" "http://127.0.0.1:$PORT" "$dir"
  for scenario in $SCENARIOS; do
    wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s bench/graphql.lua "http://127.0.0.1:$PORT" -- "$dir/$scenario.txt" >/dev/null
    local result
    result=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s bench/graphql.lua "http://127.0.0.1:$PORT" -- "$dir/$scenario.txt" | grep '^RESULT')
    echo "$scenario ${result#RESULT }" | tee -a "$dir/results.txt"
  done
  # The server's peak resident memory over the whole run (VmHWM), in MiB; of its memory at the end,
  # the pages of files it maps (RssFile: the database file, the binary); the peak of its own.
  echo "server_peak_rss_mib=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$server/status")" \
    "server_mapped_file_mib=$(awk '/RssFile/ { print int($2 / 1024) }' "/proc/$server/status")" \
    "server_peak_own_mib=$(($(cat "$dir/anon_peak_kib") / 1024))" | tee -a "$dir/results.txt"
  kill "$server"
  wait "$server" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
}

for world in $WORLDS; do
  file=$(world_file "$world")
  if [ ! -f "$file" ]; then
    # shellcheck disable=SC2046 # the flags are words
    "$BIN" generate $(world_args "$world") --output "$file"
  fi
  if [ "$WHICH" = sqlite ] || [ "$WHICH" = all ]; then
    rm -f "$OUT"/bench.db*
    run_database "$world" sqlite "sqlite://$PWD/$OUT/bench.db?mode=rwc"
    rm -f "$OUT"/bench.db*
  fi
  if [ "$WHICH" = postgres ] || [ "$WHICH" = all ]; then
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS moments_bench" -c "CREATE DATABASE moments_bench"
    run_database "$world" postgres "${PG_ADMIN_URL%/*}/moments_bench"
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS moments_bench"
  fi
done

# The ten-times world against the first, for each database both were measured on.
python3 - "$OUT" <<'PY'
import os, re, sys
out = sys.argv[1]
def results(world, name):
    path = os.path.join(out, world, name, "results.txt")
    if not os.path.exists(path):
        return None
    found = {}
    for line in open(path):
        parts = line.split()
        if parts and "=" not in parts[0]:
            found[parts[0]] = dict(re.findall(r"(\w+)=([\d.]+)", line))
    return found
for name in ("sqlite", "postgres"):
    first, ten = results("first", name), results("ten", name)
    if not first or not ten:
        continue
    print(f"== {name}: ten-times world / first world")
    for scenario in ("profile", "feed"):
        a, b = first[scenario], ten[scenario]
        print(f"{scenario}: req/s {float(b['rps']) / float(a['rps']):.2f}x, p99 {float(b['p99_ms']) / float(a['p99_ms']):.2f}x")
PY
