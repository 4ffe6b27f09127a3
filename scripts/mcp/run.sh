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
root="$(cd "$here/../.." && pwd)"
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing nodejs and npm (apt-get)"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
fi
want="$(node -p "require('$here/package.json').dependencies['@modelcontextprotocol/sdk']")"
have="$(node -p "try { require('$here/node_modules/@modelcontextprotocol/sdk/package.json').version } catch { '' }")"
if [ "$have" != "$want" ]; then
  log "installing @modelcontextprotocol/sdk $want into scripts/mcp/node_modules (npm ci)"
  (cd "$here" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ragd-mcp-bin.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
bin="${RAGD_MCP_BIN:-}"
if [ -z "$bin" ]; then
  log "building ragd"
  (cd "$root" && go build -o "$tmp/ragd" ./cmd/ragd)
  bin="$tmp/ragd"
fi
log "MCP TypeScript SDK client tests (HTTP and stdio)"
cd "$here"
RAGD_BIN="$bin" node --test --test-reporter=spec mcp.test.mjs
log "MCP client tests passed"
