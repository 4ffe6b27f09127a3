#!/usr/bin/env bash
# Tests ragd's MCP server with the official MCP TypeScript SDK
# (@modelcontextprotocol/sdk, pinned in package-lock.json and installed
# here with npm ci): mcp.test.mjs, run by node's test runner, starts
# `ragd serve` (Streamable HTTP at /mcp, with API keys) and `ragd mcp`
# (stdio) on temporary data dirs with keyword-only indexes.
#
# Environment:
#   RAGD_MCP_BIN  use this ragd binary instead of building one
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ragd_root="$(cd "$here/../.." && pwd)"
. "$ragd_root/scripts/lib/nodetest.sh"

need_node
npm_ci_pinned "$here" @modelcontextprotocol/sdk
ragd_bin RAGD_MCP_BIN
log "MCP TypeScript SDK client tests (HTTP and stdio)"
cd "$here"
RAGD_BIN="$bin" node --test --test-reporter=spec mcp.test.mjs
log "MCP client tests passed"
