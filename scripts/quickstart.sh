#!/usr/bin/env bash
# The main job on the embedded defaults: set up, ingest a sample corpus that
# every machine with Go has (the Go distribution's docs and the package
# documentation of its standard library), start the server, and answer a
# question through the API. The server keeps running until Ctrl-C; set
# RAGD_QUICKSTART_EXIT=1 to stop after the first answer (used by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup.sh

export RAGD_DATA_DIR="${RAGD_DATA_DIR:-$root/.ragd}"
addr="${RAGD_ADDR:-127.0.0.1:7474}"
sample="$RAGD_DATA_DIR/sample"
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ ! -f "$sample/.done" ]; then
  log "writing the sample corpus into $sample"
  rm -rf "$sample"
  mkdir -p "$sample/doc" "$sample/pkg"
  goroot=$(go env GOROOT)
  cp "$goroot"/doc/*.html "$sample/doc/" 2>/dev/null || true
  for p in bufio bytes context crypto/tls database/sql encoding/json errors flag fmt io io/fs log/slog \
           math/rand/v2 net net/http net/url os os/exec path/filepath reflect regexp runtime slices sort \
           strconv strings sync sync/atomic testing text/template time unicode/utf8; do
    go doc -all "$p" > "$sample/pkg/$(echo "$p" | tr / _).txt" 2>/dev/null || true
  done
  touch "$sample/.done"
fi

log "ingesting the sample corpus into index 'godocs' (USE-lite embeddings, BM25)"
bin/ragd ingest --index godocs --exclude '.done' "$sample"

log "starting ragd serve on http://$addr"
bin/ragd serve --addr "$addr" &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://$addr/readyz" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { echo "ragd serve exited" >&2; exit 1; }
  sleep 0.5
done

q="How do I cancel a context when a request times out?"
log "hybrid search: $q"
curl -fsS -X POST "http://$addr/v1/indexes/godocs/search" -H 'Content-Type: application/json' \
  -d "{\"query\": \"$q\", \"top_k\": 3, \"mode\": \"hybrid\"}" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);for(const h of r.hits)console.log(`  ${h.score.toFixed(4)}  ${h.chunk_id}\n         ${h.text.replace(/\s+/g," ").slice(0,160)}…`);console.log(`  (${r.took_ms} ms)`)})'

log "answer with citations (POST /v1/indexes/godocs/ask)"
curl -fsS -X POST "http://$addr/v1/indexes/godocs/ask" -H 'Content-Type: application/json' \
  -d "{\"query\": \"$q\", \"top_k\": 4}" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log("\n"+r.answer+"\n");for(const c of r.citations)console.log(`  [${c.n}] ${c.source} (${c.chunk_id})`);console.log(`\n  generator: ${r.generator.id} (${r.generator.backend})`)})'

if [ "${RAGD_QUICKSTART_EXIT:-0}" = "1" ]; then
  log "done"
  exit 0
fi
log "ragd is serving on http://$addr — try: bin/ragd ask --index godocs \"how do goroutines communicate?\"  (Ctrl-C stops it)"
wait $pid
