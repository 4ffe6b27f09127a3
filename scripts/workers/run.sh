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
ragd_root="$(cd "$here/../.." && pwd)"
pkg="$ragd_root/workers"
. "$ragd_root/scripts/lib/nodetest.sh"

need_node
if [ ! -f "$ragd_root/node/node_modules/.ragd-installed" ]; then
  log "fetching ragd's npm runtime files (scripts/setup.sh)"
  bash "$ragd_root/scripts/setup.sh"
fi
npm_ci_pinned "$pkg" miniflare
ragd_bin RAGD_WORKERS_BIN
log "Worker in workerd (Miniflare) with ragd's AI, Vectorize and AI Search bindings"
cd "$pkg"
RAGD_BIN="$bin" RAGD_NODE_DIR="$ragd_root/node" node --test --test-timeout=120000 --test-reporter=spec test/workers.test.mjs
log "Workers binding tests passed"
