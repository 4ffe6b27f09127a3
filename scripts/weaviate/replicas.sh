#!/usr/bin/env bash
# Stateless replicas over one Weaviate cluster: query throughput of one
# `ragd serve --backend weaviate` against two, side by side, with the CPU
# time each process used, so the report can say where the bottleneck is.
#   1. starts a 3-node cluster (cluster.sh) and two ragd replicas on it;
#   2. creates index "rep" through replica A and ingests DOCS_S seconds of
#      generated documents (USE-lite embeddings) through both replicas;
#   3. runs CLIENTS clients of KIND queries (vector: given vectors; search:
#      hybrid text) for DUR against replica A alone, then CLIENTS clients
#      against each replica at once.
# Prints one JSON line per run and a summary. Stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${CLIENTS:-8}
DUR=${DUR:-30s}
KIND=${KIND:-vector}
DOCS_S=${DOCS_S:-20s}
script=$PWD/scripts/weaviate/cluster.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/ragd-replicas.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	bash "$script" stop "$work/wv" || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
say() { echo "replicas: $*" >&2; }

go build -o "$work/ragd" ./cmd/ragd
go build -o "$work/loadtest" ./scripts/loadtest
WEAVIATE_HTTP_BASE=18280 WEAVIATE_GRPC_BASE=15251 WEAVIATE_GOSSIP_BASE=17300 WEAVIATE_RAFT_BASE=18500 \
	bash "$script" start "$work/wv" 3
export RAGD_BACKEND=weaviate RAGD_WEAVIATE_URL=http://127.0.0.1:18280 RAGD_WEAVIATE_GRPC=127.0.0.1:15251 RAGD_LOG_LEVEL=warn
for r in a b; do
	port=$([[ $r == a ]] && echo 7611 || echo 7612)
	RAGD_DATA_DIR="$work/data-$r" "$work/ragd" serve --addr "127.0.0.1:$port" >"$work/serve-$r.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
done
curl -fsS -X POST http://127.0.0.1:7611/v1/indexes -H 'content-type: application/json' -d '{"name":"rep"}' >/dev/null
say "ingesting for $DOCS_S through both replicas"
ing=()
for port in 7611 7612; do
	"$work/loadtest" -url "http://127.0.0.1:$port" -index rep -kind ingest -clients 2 -docs 20 -duration "$DOCS_S" -json -seed "$port" >"$work/ing-$port.json" &
	ing+=($!)
done
wait "${ing[@]}"
cat "$work"/ing-*.json
curl -fsS http://127.0.0.1:7611/v1/indexes/rep >&2
echo >&2

cpu() { # total utime+stime ticks of the given pids
	local t=0
	for p in "$@"; do
		read -r -a f <"/proc/$p/stat"
		t=$((t + f[13] + f[14]))
	done
	echo "$t"
}
wvpids=$(awk '{print $2}' "$work/wv/pids")
mode=$([[ $KIND == search ]] && echo hybrid || echo vector)
run() { # label ports...
	local label=$1
	shift
	local r0 w0 r1 w1
	r0=$(cpu "${pids[@]}")
	w0=$(cpu $wvpids)
	local outs=() lts=()
	for port in "$@"; do
		"$work/loadtest" -url "http://127.0.0.1:$port" -index rep -kind "$KIND" -mode "$mode" -dims 512 -clients "$CLIENTS" -duration "$DUR" -json >"$work/$label-$port.json" &
		lts+=($!)
		outs+=("$work/$label-$port.json")
	done
	wait "${lts[@]}"
	r1=$(cpu "${pids[@]}")
	w1=$(cpu $wvpids)
	local qps=0
	for o in "${outs[@]}"; do
		cat "$o"
		qps=$(python3 -c "import json,sys; print($qps + json.load(open('$o'))['ok_qps'])")
	done
	local hz
	hz=$(getconf CLK_TCK)
	echo "{\"run\":\"$label\",\"replicas\":$#,\"ok_qps\":$qps,\"ragd_cpu_s\":$(((r1 - r0) / hz)),\"weaviate_cpu_s\":$(((w1 - w0) / hz))}"
}
say "one replica, $CLIENTS clients, $KIND, $DUR"
run one 7611
say "two replicas, $CLIENTS clients each"
run two 7611 7612
