#!/usr/bin/env bash
# Two release binaries on the same world, in one run: each serves the same imported database in
# turn, in rounds (A then B, B then A, …) so that the machine's drift falls on both, and wrk drives
# the profile page, the feed page and the `{ __typename }` floor. Prints each round (throughput,
# latency, and the server's CPU time per request) and the medians of each binary per scenario (see
# docs/benchmarks.md).
# usage: bench/compare.sh OLD_BINARY NEW_BINARY [sqlite|postgres]
# settings: ROUNDS (3), DURATION (seconds per run, 10), CONNECTIONS (32), THREADS (2),
#           SCENARIOS ("profile feed floor"), WORLD (first or ten, as in bench/run.sh: first),
#           PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres), REUSE (1: serve the copies and
#           request files the last run of the same world and database left, without importing again)
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$(realpath "$1")
NEW=$(realpath "$2")
WHICH=${3:-sqlite}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
SCENARIOS=${SCENARIOS:-"profile feed floor"}
WORLD=${WORLD:-first}
REUSE=${REUSE:-0}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=8112
OUT=bench/out/compare-$WHICH
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
mkdir -p "$OUT"
# The worlds of bench/run.sh.
case $WORLD in
  first) WORLD_ARGS="" WORLD_FILE=bench/out/world.jsonl ;;
  ten) WORLD_ARGS="--users 20000 --friends 100 --moments 200" WORLD_FILE=bench/out/world-ten.jsonl ;;
  *) echo "unknown world $WORLD" >&2; exit 1 ;;
esac
if [ ! -f "$WORLD_FILE" ]; then
  # shellcheck disable=SC2086 # the flags are words
  "$NEW" generate $WORLD_ARGS --output "$WORLD_FILE"
fi

# Each binary serves its own copy of the world, imported by itself, so a binary with a migration
# the other lacks can be compared too.
if [ "$WHICH" = sqlite ]; then
  URL_OLD="sqlite://$PWD/$OUT/compare-old.db?mode=rwc"
  URL_NEW="sqlite://$PWD/$OUT/compare-new.db?mode=rwc"
else
  URL_OLD="${PG_ADMIN_URL%/*}/moments_compare_old"
  URL_NEW="${PG_ADMIN_URL%/*}/moments_compare_new"
fi
if [ "$REUSE" = 1 ] && [ "$(cat "$OUT/world" 2>/dev/null)" = "$WORLD" ]; then
  echo "serving the copies of the $WORLD world the last run imported"
else
  rm -f "$OUT/world"
  if [ "$WHICH" = sqlite ]; then
    rm -f "$OUT"/compare-*.db*
  else
    for which in old new; do
      psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS moments_compare_$which" -c "CREATE DATABASE moments_compare_$which"
    done
  fi
  DATABASE_URL="$URL_OLD" "$OLD" import "$WORLD_FILE"
  DATABASE_URL="$URL_NEW" "$NEW" import "$WORLD_FILE"
fi

server=
stop() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
  fi
}
trap stop EXIT

TICKS=$(getconf CLK_TCK)
# The server's CPU time so far (user and system), in clock ticks: CPU per request is the figure the
# machine's drift and wrk's share of the cores disturb least.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }

serve() {
  DATABASE_URL="$2" MOMENTS_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn "$1" serve > "$OUT/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.2; done
  echo "the server did not start:" >&2
  cat "$OUT/server.log" >&2
  exit 1
}

# Each copy gets its own request files (a token holds for one deployment only).
if [ ! -f "$OUT/world" ]; then
  for which in old new; do
    if [ "$which" = old ]; then bin=$OLD url=$URL_OLD; else bin=$NEW url=$URL_NEW; fi
    mkdir -p "$OUT/$which"
    serve "$bin" "$url"
    MOMENTS_WORLD="$WORLD_ARGS" python3 bench/prepare.py "$bin" "$url" "http://127.0.0.1:$PORT" "$OUT/$which"
    stop
  done
  echo "$WORLD" > "$OUT/world"
fi

: > "$OUT/rounds.txt"
for round in $(seq 1 "$ROUNDS"); do
  # Odd rounds start with the old binary, even rounds with the new one: whatever the run before
  # leaves behind (a busy database, a warm cache) falls on both alike.
  order="old new"
  if [ $((round % 2)) -eq 0 ]; then order="new old"; fi
  for which in $order; do
    if [ "$which" = old ]; then serve "$OLD" "$URL_OLD"; else serve "$NEW" "$URL_NEW"; fi
    for scenario in $SCENARIOS; do
      wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s bench/graphql.lua "http://127.0.0.1:$PORT" -- "$OUT/$which/$scenario.txt" >/dev/null
      before=$(cpu_ticks)
      result=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s bench/graphql.lua "http://127.0.0.1:$PORT" -- "$OUT/$which/$scenario.txt" | grep '^RESULT')
      after=$(cpu_ticks)
      requests=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$result")
      cpu=$(awk "BEGIN { printf \"%.1f\", ($after - $before) * 1000000 / $TICKS / $requests }")
      echo "round $round $which $scenario ${result#RESULT } cpu_us_per_request=$cpu" | tee -a "$OUT/rounds.txt"
    done
    stop
  done
done

echo "== medians ($ROUNDS rounds of ${DURATION} s, $CONNECTIONS connections, $WHICH)"
python3 - "$OUT/rounds.txt" <<'EOF'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    parts = line.split()
    _, _, which, scenario = parts[:4]
    fields = dict(re.findall(r"(\w+)=([\d.]+)", line))
    runs.setdefault((scenario, which), []).append(fields)
for scenario in dict.fromkeys(s for s, _ in runs):
    old, new = runs[(scenario, "old")], runs[(scenario, "new")]
    med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
    o, n = med(old, "rps"), med(new, "rps")
    co, cn = med(old, "cpu_us_per_request"), med(new, "cpu_us_per_request")
    print(f"{scenario}: old {o:.0f} req/s p99 {med(old, 'p99_ms'):.1f} ms {co:.0f} µs CPU/request | "
          f"new {n:.0f} req/s p99 {med(new, 'p99_ms'):.1f} ms {cn:.0f} µs CPU/request | "
          f"new/old: req/s {n / o:.3f}, CPU/request {cn / co:.3f}")
EOF
