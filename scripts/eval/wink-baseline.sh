#!/usr/bin/env bash
# wink-baseline.sh: reproduce the outside BM25 baseline on Cranfield.
#
# Installs wink-bm25-text-search@3.1.2 and wink-nlp-utils@2.1.0 into a
# directory outside the repository (default /tmp/winkbm25), indexes Cranfield
# with scripts/eval/wink-bm25.js, writes the run and the qrels (gains 5 - r,
# judged queries only) and scores the run with ragd's metrics
# (scripts/eval/trecscore). When trec_eval is on PATH it scores the same
# files with it too, so the two can be compared.
#
# Usage: scripts/eval/wink-baseline.sh [workdir]
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-/tmp/winkbm25}"
cran="${CRANFIELD:-$root/../shared/datasets/cranfield}"
mkdir -p "$work"
if [ ! -d "$work/node_modules/wink-bm25-text-search" ] || [ ! -d "$work/node_modules/wink-nlp-utils" ]; then
  (cd "$work" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund wink-bm25-text-search@3.1.2 wink-nlp-utils@2.1.0 >/dev/null)
fi
NODE_PATH="$work/node_modules" node "$root/scripts/eval/wink-bm25.js" --cranfield "$cran" --out "$work/wink-bm25.run"
(cd "$root" && go run ./scripts/eval/trecscore -dataset "$cran" -write-qrels "$work/cranfield.qrels" -run "$work/wink-bm25.run")
if command -v trec_eval >/dev/null 2>&1; then
  echo "trec_eval:"
  trec_eval -c -m ndcg_cut.10 -m map -m recall.100 -m P.10 "$work/cranfield.qrels" "$work/wink-bm25.run"
  trec_eval -c -M 10 -m recip_rank "$work/cranfield.qrels" "$work/wink-bm25.run"
else
  echo "trec_eval not on PATH; skipped the cross-check" >&2
fi
