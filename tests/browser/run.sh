#!/usr/bin/env bash
# The browser tests: the playground and the web client in Debian's chromium (headless), driven by
# playwright-core (run.mjs), against a moments binary serving the demo world with every other host
# unreachable. Screenshots go to tests/browser/screenshots/.
# usage: tests/browser/run.sh [MOMENTS_BINARY]   (default: target/debug/moments in the repository)
# needs: node 18 or later, npm, and chromium (`apt-get install chromium`; CHROMIUM names another).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/target/debug/moments}
case $bin in
  /*) ;;
  *) bin=$PWD/$bin ;;
esac
[ -x "$bin" ] || { echo "browser tests: no executable moments binary at $bin" >&2; exit 2; }
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser tests: no chromium at $CHROMIUM (apt-get install chromium)" >&2; exit 2; }
command -v npm >/dev/null || { echo "browser tests: npm is needed" >&2; exit 2; }

# Install the locked packages when they are missing or older than the lockfile.
installed=$here/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ "$here/package-lock.json" -nt "$installed" ] || [ "$here/package.json" -nt "$installed" ]; then
  echo "== browser tests: npm ci"
  npm ci --prefix "$here" --ignore-scripts --no-audit --no-fund </dev/null
fi
node "$here/run.mjs" "$bin" </dev/null
