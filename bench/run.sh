#!/usr/bin/env bash
# The load benchmark (see docs/benchmarks.md): builds the release binary, generates each world, loads
# it into SQLite and PostgreSQL (timing the import and its peak memory), serves it, drives each
# scenario with wrk, and records the server's peak resident memory; then compares the ten-times
# world with the first, database by database. Both worlds are measured in one run, so their figures
# can be set side by side.
# The ratios the targets name (feed against profile, the ten-times world against the first) come
# from rounds after that: each world served in turn, both pages driven in each round, the order
# alternating, so that the machine's drift over the run falls on both sides alike; medians.
# usage: bench/run.sh [sqlite|postgres|all]
# settings: WORLDS ("first ten"), DURATION (seconds per run, 15), CONNECTIONS (32), THREADS (wrk
#           threads, 2), ROUNDS (rounds for the ratios, 3; 0 for none), PG_ADMIN_URL
#           (postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:-all}
OUT=bench/out
WORLDS=${WORLDS:-"first ten"}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
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

# Starts the server on a database in the background ($! is its pid) and waits until it answers.
serve() {
  DATABASE_URL="$1" MOMENTS_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn "$BIN" serve > "$2" 2>&1 &
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.2; done
  echo "the server did not start:" >&2
  cat "$2" >&2
  exit 1
}

# Drives the running server with a request file: a warm-up of $2 seconds, then DURATION seconds
# measured; prints the measured run's figures (graphql.lua's RESULT line without its tag).
measure() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2s" -s bench/graphql.lua "http://127.0.0.1:$PORT" -- "$1" >/dev/null
  local result
  result=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s bench/graphql.lua "http://127.0.0.1:$PORT" -- "$1" | grep '^RESULT') || return 1
  echo "${result#RESULT }"
}

# Each world's databases stay until the rounds are done.
sqlite_url() { echo "sqlite://$PWD/$OUT/bench-$1.db?mode=rwc"; }
postgres_url() { echo "${PG_ADMIN_URL%/*}/moments_bench_$1"; }
cleanup() {
  rm -f "$OUT"/bench-*.db*
  if [ "$WHICH" != sqlite ]; then
    for world in $WORLDS; do psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS moments_bench_$world" 2>/dev/null || true; done
  fi
}
trap cleanup EXIT

run_database() {
  local world=$1 name=$2 url=$3
  local dir="$OUT/$world/$name"
  mkdir -p "$dir"
  echo "== $world world, $name: import"
  /usr/bin/time -f "%e %M" -o "$dir/import.time" env DATABASE_URL="$url" "$BIN" import "$(world_file "$world")"
  read -r import_s import_kb < "$dir/import.time"
  echo "import_seconds=$import_s import_peak_mib=$((import_kb / 1024))" | tee "$dir/results.txt"
  serve "$url" "$dir/server.log"
  local server=$!
  trap "kill $server 2>/dev/null || true" RETURN
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
    local result
    result=$(measure "$dir/$scenario.txt" 3)
    echo "$scenario $result" | tee -a "$dir/results.txt"
  done
  # The server's peak resident memory over the whole run (VmHWM), in MiB; of its memory at the end,
  # the pages of files it maps (RssFile: the database file, the binary); the peak of its own.
  echo "server_peak_rss_mib=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$server/status")" \
    "server_mapped_file_mib=$(awk '/RssFile/ { print int($2 / 1024) }' "/proc/$server/status")" \
    "server_peak_own_mib=$(($(cat "$dir/anon_peak_kib") / 1024))" | tee -a "$dir/results.txt"
  kill "$server"
  wait "$server" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  trap - RETURN
}

for world in $WORLDS; do
  file=$(world_file "$world")
  if [ ! -f "$file" ]; then
    # shellcheck disable=SC2046 # the flags are words
    "$BIN" generate $(world_args "$world") --output "$file"
  fi
  if [ "$WHICH" = sqlite ] || [ "$WHICH" = all ]; then
    rm -f "$OUT/bench-$world.db"*
    run_database "$world" sqlite "$(sqlite_url "$world")"
  fi
  if [ "$WHICH" = postgres ] || [ "$WHICH" = all ]; then
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS moments_bench_$world" -c "CREATE DATABASE moments_bench_$world"
    run_database "$world" postgres "$(postgres_url "$world")"
  fi
done

# The rounds: per database, each world served in turn (the order alternating by round), the
# profile and the feed page driven in turn (the order alternating too), with the request files
# of that world's run above.
for name in sqlite postgres; do
  if [ "$WHICH" != all ] && [ "$WHICH" != "$name" ]; then continue; fi
  rounds="$OUT/rounds-$name.txt"
  : > "$rounds"
  for round in $(seq 1 "$ROUNDS"); do
    worlds=$WORLDS pages="profile feed"
    if [ $((round % 2)) -eq 0 ]; then worlds=$(echo "$WORLDS" | tr ' ' '\n' | tac | tr '\n' ' ') pages="feed profile"; fi
    for world in $worlds; do
      serve "$("${name}_url" "$world")" "$OUT/$world/$name/rounds-server.log"
      server=$!
      for page in $pages; do
        result=$(measure "$OUT/$world/$name/$page.txt" 2)
        echo "round $round $world $page $result" | tee -a "$rounds"
      done
      kill "$server"
      wait "$server" 2>/dev/null || true
    done
  done
done

# The ratios, from the medians of the rounds (or, with ROUNDS=0, from the single runs above).
python3 - "$OUT" "$WORLDS" "$WHICH" <<'PY'
import os, re, statistics, sys
out, worlds, which = sys.argv[1], sys.argv[2].split(), sys.argv[3]
def medians(name):
    """{(world, page): (req/s, p99)} for a database: the rounds' medians, or the single runs."""
    runs = {}
    path = os.path.join(out, f"rounds-{name}.txt")
    if os.path.exists(path):
        for line in open(path):
            _, _, world, page = line.split()[:4]
            runs.setdefault((world, page), []).append(dict(re.findall(r"(\w+)=([\d.]+)", line)))
    if not runs:
        for world in worlds:
            path = os.path.join(out, world, name, "results.txt")
            for line in open(path) if os.path.exists(path) else []:
                parts = line.split()
                if parts and parts[0] in ("profile", "feed"):
                    runs[(world, parts[0])] = [dict(re.findall(r"(\w+)=([\d.]+)", line))]
    return {k: (statistics.median(float(r["rps"]) for r in rs), statistics.median(float(r["p99_ms"]) for r in rs), len(rs))
            for k, rs in runs.items()}
for name in ("sqlite", "postgres") if which == "all" else (which,):
    m = medians(name)
    if not m:
        continue
    rounds = max(n for _, _, n in m.values())
    print(f"== {name}: " + (f"medians of {rounds} rounds" if rounds > 1 else "single runs"))
    for world in worlds:
        if (world, "profile") in m and (world, "feed") in m:
            (pr, pp, _), (fr, fp, _) = m[(world, "profile")], m[(world, "feed")]
            print(f"{world}: profile {pr:.0f} req/s p99 {pp:.1f} ms, feed {fr:.0f} req/s p99 {fp:.1f} ms;"
                  f" feed / profile: req/s {fr / pr:.2f}x, p99 {fp / pp:.2f}x")
    if "first" in worlds and "ten" in worlds:
        for page in ("profile", "feed"):
            if ("first", page) in m and ("ten", page) in m:
                (a, ap, _), (b, bp, _) = m[("first", page)], m[("ten", page)]
                print(f"ten-times world / first, {page}: req/s {b / a:.2f}x, p99 {bp / ap:.2f}x")
PY
