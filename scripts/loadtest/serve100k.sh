#!/usr/bin/env bash
# The serving load test: `ragd serve` over N (default 100,000) one-chunk
# documents embedded with the default model (USE-lite), driven by
# scripts/loadtest with CLIENTS (default 8) clients:
#   1. vector queries with a given vector (POST /v1/indexes/load/search)
#   2. hybrid text queries (query embedding included)
#   3. hybrid queries while 2 more clients ingest documents
#   4. a soak run of SOAK_MIN (default 10) one-minute rounds of vector and
#      hybrid queries, printing each minute's throughput, p99 and the
#      server's peak RSS, to show memory stays bounded.
# Each phase prints one JSON report line. DUR (default 60s) is the length of
# phases 1-3. Everything runs in a temporary folder, removed at the end, and
# the server is stopped with SIGTERM (graceful shutdown). DATA=DIR keeps the
# data folder there instead, and reuses it when it already holds the index
# (to rerun the load phases without ingesting again).
# INGEST_ONLY=1 stops after ingesting.
# Usage: bash scripts/loadtest/serve100k.sh [> report.jsonl]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-100000}
CLIENTS=${CLIENTS:-8}
DUR=${DUR:-60s}
SOAK_MIN=${SOAK_MIN:-10}
ADDR=${ADDR:-127.0.0.1:7599}
work=$(mktemp -d "${TMPDIR:-/tmp}/ragd-load.XXXXXX")
pid=""
cleanup() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
say() { echo "serve100k: $*" >&2; }

go build -o "$work/ragd" ./cmd/ragd
go build -o "$work/loadtest" ./scripts/loadtest

say "generating $N documents"
awk -v n="$N" 'BEGIN {
	srand(7)
	split("pump valve turbine gear bearing shaft rotor blade flow pressure heat wing airfoil boundary layer shock wave nozzle thrust drag lift vortex laminar turbulent velocity temperature density viscosity model test data result method analysis structure load stress strain beam plate shell crack fatigue fluid surface edge angle speed", w, " ")
	nw = length(w)
	for (i = 0; i < n; i++) {
		t = ""
		for (j = 0; j < 24; j++) t = t (j ? " " : "") w[int(rand() * nw) + 1]
		printf "{\"id\":\"d%06d\",\"title\":\"doc %d\",\"text\":\"%s.\"}\n", i, i, t
	}
}' >"$work/corpus.jsonl"

export RAGD_DATA_DIR="${DATA:-$work/data}" RAGD_LOG_LEVEL=warn
if [[ -n "${DATA:-}" ]] && "$work/ragd" indexes 2>/dev/null | grep -q "^load "; then
	say "reusing the index in $DATA"
else
	say "ingesting (model ${RAGD_MODEL:-use-lite})"
	start=$SECONDS
	"$work/ragd" ingest --index load "$work/corpus.jsonl" 2>&1 | tr '\r' '\n' | tail -3 >&2
	say "ingested in $((SECONDS - start)) s"
fi
"$work/ragd" indexes >&2
if [[ "${INGEST_ONLY:-0}" == 1 ]]; then exit 0; fi

"$work/ragd" serve --addr "$ADDR" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
	if curl -fs "http://$ADDR/healthz" >/dev/null; then break; fi
	kill -0 "$pid" || { cat "$work/serve.log" >&2; exit 1; }
	sleep 0.2
done
lt() { "$work/loadtest" -url "http://$ADDR" -index load -clients "$CLIENTS" -pid "$pid" -json "$@"; }

say "1. vector queries, $CLIENTS clients, $DUR"
lt -kind vector -dims 512 -duration "$DUR" -seed 11
say "2. hybrid text queries, $CLIENTS clients, $DUR"
lt -kind search -mode hybrid -duration "$DUR" -seed 12
say "3. hybrid queries while 2 clients ingest, $DUR"
"$work/loadtest" -url "http://$ADDR" -index load -clients 2 -kind ingest -docs 10 -duration "$DUR" -json -seed 13 >"$work/ingest.json" &
ing=$!
lt -kind search -mode hybrid -duration "$DUR" -seed 14
wait "$ing"
cat "$work/ingest.json"
say "4. soak: $SOAK_MIN one-minute rounds of vector then hybrid queries"
for m in $(seq 1 "$SOAK_MIN"); do
	kind=vector
	if ((m % 2 == 0)); then kind=search; fi
	printf '{"minute":%d,"report":' "$m"
	lt -kind "$kind" -mode "$([[ $kind == search ]] && echo hybrid || echo vector)" -dims 512 -duration 60s -seed $((100 + m)) | tr -d '\n'
	echo "}"
done
