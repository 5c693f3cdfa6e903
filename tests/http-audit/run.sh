#!/usr/bin/env bash
# GraphQL-over-HTTP conformance audit: serves the demo world from a moments binary on a fresh SQLite
# database and a free local port, runs graphql-http's auditServer against /graphql (audit.mjs), and
# exits with the audit's status: 0 when every MUST and SHOULD audit passes, 1 when one fails, 2 when
# the audit could not run.
# usage: tests/http-audit/run.sh [MOMENTS_BINARY]   (default: target/debug/moments in the repository)
# needs: node 18 or later and npm (the packages come from tests/http-audit/package-lock.json).
# settings: AUDIT_START_TIMEOUT_SECS (how long the server may take to answer /healthz, 60)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
start_timeout=${AUDIT_START_TIMEOUT_SECS:-60}

# The binary: relative to the caller's directory when given, to the repository root by default.
bin=${1:-$root/target/debug/moments}
case $bin in
  /*) ;;
  *) bin=$PWD/$bin ;;
esac
if [ ! -x "$bin" ]; then
  echo "http-audit: no executable moments binary at $bin (build it first, or pass its path)" >&2
  exit 2
fi

command -v node >/dev/null || { echo "http-audit: node (18 or later) is needed" >&2; exit 2; }
command -v npm >/dev/null || { echo "http-audit: npm is needed" >&2; exit 2; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  echo "http-audit: node $(node --version) has no global fetch; node 18 or later is needed" >&2
  exit 2
fi

# Install the locked packages when they are missing or older than the lockfile (npm writes
# node_modules/.package-lock.json on every install).
installed=$here/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ "$here/package-lock.json" -nt "$installed" ] || [ "$here/package.json" -nt "$installed" ]; then
  echo "== http-audit: npm ci"
  npm ci --prefix "$here" --no-audit --no-fund </dev/null
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/moments-http-audit.XXXXXX")
server=
cleanup() {
  local status=$?
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free port: the kernel picks one, node reports it and lets it go for the server to take.
port=$(node -e '
  const server = require("net").createServer();
  server.listen(0, "127.0.0.1", () => { console.log(server.address().port); server.close(); });
')
base=http://127.0.0.1:$port
log=$tmp/server.log

echo "== http-audit: serving the demo world from $bin on $base"
DATABASE_URL="sqlite://$tmp/audit.db?mode=rwc" \
  MOMENTS_SHUTDOWN_GRACE_SECS=1 \
  RUST_LOG="${RUST_LOG:-moments=warn,tower_http=warn}" \
  "$bin" serve --listen "127.0.0.1:$port" --demo </dev/null >"$log" 2>&1 &
server=$!

server_failed() {
  echo "http-audit: $1; the server's output:" >&2
  tail -n 50 "$log" >&2 || true
  exit 2
}

# Wait for /healthz to answer "ok".
healthy() {
  node -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
      .then((res) => res.text().then((text) => process.exit(res.ok && text.trim() === "ok" ? 0 : 1)))
      .catch(() => process.exit(1));
  ' "$base/healthz"
}
deadline=$((SECONDS + start_timeout))
until healthy; do
  kill -0 "$server" 2>/dev/null || server_failed "the server exited before answering /healthz"
  [ "$SECONDS" -lt "$deadline" ] || server_failed "/healthz did not answer ok within ${start_timeout}s"
  sleep 0.25
done

echo "== http-audit: auditing $base/graphql"
status=0
node "$here/audit.mjs" "$base/graphql" </dev/null || status=$?
if ! kill -0 "$server" 2>/dev/null; then
  server_failed "the server exited during the audit"
fi
exit "$status"
