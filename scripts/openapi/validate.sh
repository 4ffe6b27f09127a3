#!/usr/bin/env bash
# Validates ragd's OpenAPI document with a real OpenAPI 3.1 validator
# (@apidevtools/swagger-parser 10, pinned in package-lock.json and installed
# here with npm ci; offline once npm's cache holds it).
# Usage: scripts/openapi/validate.sh [FILE | URL]
#   default: api/openapi.json, the document the server embeds and serves at
#   GET /openapi.json (TestOpenAPIServed checks they are the same bytes);
#   a URL (http://127.0.0.1:7474/openapi.json) validates what a running
#   server serves.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${1:-$root/api/openapi.json}"
if [ ! -d "$here/node_modules/@apidevtools/swagger-parser" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --prefer-offline >/dev/null)
fi
case "$target" in
http://* | https://*)
  tmp="$(mktemp --suffix .json)"
  trap 'rm -f "$tmp"' EXIT
  curl -fsS "$target" -o "$tmp"
  node "$here/validate.mjs" "$tmp"
  ;;
*)
  node "$here/validate.mjs" "$target"
  ;;
esac
