#!/usr/bin/env bash
# Runs ragd's Weaviate backend tests against real Weaviate processes:
#   1. one node: the backend conformance suite (the same tests the embedded
#      engine passes), the CLI round trip (ingest, reindex --to weaviate,
#      search, ingest) and Cranfield vector-mode parity with the embedded
#      backend;
#   2. three nodes, replication 3: a node is killed under query load, every
#      query must succeed, and after a restart it catches up.
# Builds weaviate-server once (cached; see cluster.sh) and stops exactly the
# processes it started, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$PWD
script=$here/scripts/weaviate/cluster.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/ragd-weaviate-test.XXXXXX")
cleanup() {
	bash "$script" stop "$work/one" || true
	bash "$script" stop "$work/three" || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

bash "$script" bin >/dev/null
start=$SECONDS
echo "== weaviate: one node"
WEAVIATE_HTTP_BASE=18080 WEAVIATE_GRPC_BASE=15051 WEAVIATE_GOSSIP_BASE=17100 WEAVIATE_RAFT_BASE=18300 \
	bash "$script" start "$work/one" 1
set -a
# shellcheck disable=SC1090
source <(bash "$script" env "$work/one")
set +a
go test -count=1 -tags weaviate -run 'TestWeaviateBackendConformance|TestWeaviateLargeDocuments' ./index/weaviate/
go test -count=1 -tags weaviate -run 'TestWeaviateCLI|TestWeaviateCranfieldVectorParity|TestWeaviateReplicasShareState' -v ./cmd/ragd/ 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok|\s+weaviate_test)' || { echo "cmd/ragd weaviate tests failed" >&2; exit 1; }
bash "$script" stop "$work/one"

echo "== weaviate: three nodes, replication 3, one killed under load"
WEAVIATE_HTTP_BASE=18180 WEAVIATE_GRPC_BASE=15151 WEAVIATE_GOSSIP_BASE=17200 WEAVIATE_RAFT_BASE=18400 \
	bash "$script" start "$work/three" 3
RAGD_WEAVIATE_CLUSTER_DIR="$work/three" RAGD_WEAVIATE_CLUSTER_URL=http://127.0.0.1:18180 \
	RAGD_WEAVIATE_CLUSTER_GRPC=127.0.0.1:15151 RAGD_WEAVIATE_SCRIPT="$script" \
	go test -count=1 -tags weaviate -run 'TestWeaviateDefaultReplication|TestWeaviateFailover' -v ./index/weaviate/ 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok|\s+live_test)'
bash "$script" stop "$work/three"
echo "weaviate tests passed in $((SECONDS - start)) s"
