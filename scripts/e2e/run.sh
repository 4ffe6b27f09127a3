#!/usr/bin/env bash
# Browser test of ragd's web interface (api/web).
#
# Installs what it needs when missing (Debian's chromium with apt-get, and
# playwright-core pinned by package.json into scripts/e2e/node_modules),
# builds ragd, starts `ragd serve --model none` (keyword only: no model
# files needed) on a free loopback port with a temporary data dir, and runs
# e2e.js, which seeds an index over the REST API and drives the page in
# headless chromium: search with highlights and explanations, a streamed
# answer with citation links, the cited chunk highlighted in its document,
# upload/list/delete on the Index page, and an eval report chart.
#
# Environment:
#   RAGD_E2E_ARTIFACTS  where screenshots go (default: a new temp dir; kept)
#   RAGD_E2E_BIN        use this ragd binary instead of building one
#   CHROMIUM            browser binary (default /usr/bin/chromium)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  log "installing chromium (apt-get)"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing nodejs and npm (apt-get)"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
fi

want="$(node -p "require('$here/package.json').dependencies['playwright-core']")"
have="$(node -p "try { require('$here/node_modules/playwright-core/package.json').version } catch { '' }")"
if [ "$have" != "$want" ]; then
  log "installing playwright-core $want into scripts/e2e/node_modules"
  (cd "$here" && npm install --no-save --no-audit --no-fund --loglevel=error)
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ragd-e2e.XXXXXX")"
artifacts="${RAGD_E2E_ARTIFACTS:-$(mktemp -d "${TMPDIR:-/tmp}/ragd-e2e-artifacts.XXXXXX")}"
mkdir -p "$artifacts"
server_pid=""
cleanup() {
  rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$tmp/serve.log" ]; then
    echo "--- ragd serve log (last 40 lines) ---" >&2
    tail -n 40 "$tmp/serve.log" >&2 || true
  fi
  rm -rf "$tmp"
  echo "e2e artifacts: $artifacts" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bin="${RAGD_E2E_BIN:-}"
if [ -z "$bin" ]; then
  log "building ragd"
  (cd "$root" && go build -o "$tmp/ragd" ./cmd/ragd)
  bin="$tmp/ragd"
fi

port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
url="http://127.0.0.1:$port"
log "starting ragd serve on $url"
RAGD_DATA_DIR="$tmp/data" "$bin" serve --addr "127.0.0.1:$port" --model none >"$tmp/serve.log" 2>&1 &
server_pid=$!

log "browser test"
RAGD_URL="$url" RAGD_E2E_ARTIFACTS="$artifacts" CHROMIUM="$chromium" RAGD_E2E_PROFILE="$tmp/profile" \
  node "$here/e2e.js"
log "e2e passed"
