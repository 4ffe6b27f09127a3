#!/usr/bin/env bash
# Tests the Workers bindings in workers/ (ragd-bindings.js): a Worker that
# calls env.AI.run (embeddings, generation, streaming), env.VECTORIZE and
# env.AI.autorag runs in workerd through Miniflare (pinned with workerd in
# workers/package-lock.json, installed there with npm ci) against a
# `ragd serve` the test starts (use-lite embeddings from node/node_modules,
# the extractive generator). workers/test/workers.test.mjs, node's test
# runner.
#
# Environment:
#   RAGD_WORKERS_BIN  use this ragd binary instead of building one
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pkg="$root/workers"
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing nodejs and npm (apt-get)"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
fi
if [ ! -f "$root/node/node_modules/.ragd-installed" ]; then
  log "fetching ragd's npm runtime files (scripts/setup.sh)"
  bash "$root/scripts/setup.sh"
fi
want="$(node -p "require('$pkg/package.json').devDependencies.miniflare")"
have="$(node -p "try { require('$pkg/node_modules/miniflare/package.json').version } catch { '' }")"
if [ "$have" != "$want" ]; then
  log "installing miniflare $want into workers/node_modules (npm ci)"
  (cd "$pkg" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ragd-workers-bin.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
bin="${RAGD_WORKERS_BIN:-}"
if [ -z "$bin" ]; then
  log "building ragd"
  (cd "$root" && go build -o "$tmp/ragd" ./cmd/ragd)
  bin="$tmp/ragd"
fi
log "Worker in workerd (Miniflare) with ragd's AI, Vectorize and AI Search bindings"
cd "$pkg"
RAGD_BIN="$bin" RAGD_NODE_DIR="$root/node" node --test --test-timeout=120000 --test-reporter=spec test/workers.test.mjs
log "Workers binding tests passed"
