#!/usr/bin/env bash
# Runs ragd's test suite: installs what the tests need (npm runtime files,
# golangci-lint), then go vet (also with the hftokenizers, weaviate and
# qualitygate tags), golangci-lint, the race-enabled unit and integration
# tests, the Cranfield retrieval quality gate (without -race: it embeds 1,400
# abstracts), the Weaviate backend tests against real weaviate-server
# processes (built once with go install and cached; see
# scripts/weaviate/cluster.sh), a real OpenAPI 3.1 validator over the
# document the server serves (scripts/openapi/validate.sh), the browser end-to-end test, the MCP
# TypeScript SDK client test (scripts/mcp/run.sh), the Workers bindings test
# in workerd through Miniflare (scripts/workers/run.sh), and a short fuzz pass.
# RAGD_TEST_SKIP_LINT=1 skips golangci-lint; RAGD_TEST_SKIP_WEAVIATE=1 the
# Weaviate tests (for quick local runs; CI runs them); RAGD_FUZZTIME
# (default 3s) sets the fuzz time per target (0 skips fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

bash scripts/setup.sh

log "go vet"
go vet ./...
go vet -tags hftokenizers ./embed/wordpiece/
go vet -tags weaviate ./index/weaviate/ ./cmd/ragd/
go vet -tags qualitygate ./cmd/ragd/

if [ "${RAGD_TEST_SKIP_LINT:-0}" != "1" ]; then
  lint="$(go env GOPATH)/bin/golangci-lint"
  if [ ! -x "$lint" ] || ! "$lint" version 2>/dev/null | grep -q "2.15.0"; then
    log "installing golangci-lint v2.15.0 (go install; a few minutes the first time)"
    go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
  fi
  log "golangci-lint"
  "$lint" run --timeout 10m ./...
  "$lint" run --timeout 10m --build-tags weaviate ./index/weaviate/ ./cmd/ragd/
fi

log "go test -race"
go test -race -timeout 25m -count=1 ./...

log "OpenAPI 3.1 validation of /openapi.json (@apidevtools/swagger-parser)"
bash scripts/openapi/validate.sh

log "retrieval quality gate (Cranfield: BM25 and hybrid nDCG@10 / MAP floors)"
go test -tags qualitygate -run TestQualityGate -count=1 -v ./cmd/ragd/ 2>&1 | grep -v '^=== RUN'

if [ "${RAGD_TEST_SKIP_WEAVIATE:-0}" != "1" ]; then
  log "Weaviate backend against real weaviate-server processes (1 node, then a 3-node cluster)"
  bash scripts/weaviate/test.sh
fi

log "browser end-to-end test of the playground (headless Chromium)"
bash scripts/e2e/run.sh

log "MCP: the official TypeScript SDK client over Streamable HTTP and stdio"
bash scripts/mcp/run.sh

log "Workers bindings: a Worker in workerd (Miniflare) calling env.AI and env.VECTORIZE against ragd"
bash scripts/workers/run.sh

fuzztime="${RAGD_FUZZTIME:-3s}"
if [ "$fuzztime" != "0" ]; then
  log "fuzzing each target for $fuzztime"
  bash scripts/fuzz.sh "$fuzztime"
fi
log "all tests passed"
