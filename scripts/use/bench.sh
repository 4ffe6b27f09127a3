#!/usr/bin/env bash
# bench.sh embeds the same texts with the JavaScript USE-lite reference and
# with the pure-Go embed/use package, one after the other, and prints both
# throughputs and their ratio, by wall time and by process CPU time (the
# latter is robust to other load on the machine; the Go side uses all
# GOMAXPROCS threads, the JS side one).
#
#   scripts/use/bench.sh [texts.json] [n] [batch]
#
# Defaults: embed/use/testdata/texts.json, all of its non-empty texts,
# batches of 32. Run from anywhere inside the repository; needs node and go.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
texts="$(realpath "${1:-$root/embed/use/testdata/texts.json}")"
n="${2:-0}"
batch="${3:-32}"
if [ "$n" = 0 ]; then
  n="$(node -e 'const t=JSON.parse(require("fs").readFileSync(process.argv[1],"utf-8"));console.log(t.filter(s=>s.length>0).length)' "$texts")"
fi
cd "$root"
go build -o /tmp/ragd-use-gobench ./scripts/use/gobench
js="$(node scripts/use/bench.js "$texts" "$n" "$batch")"
go="$(/tmp/ragd-use-gobench -texts "$texts" -n "$n" -batch "$batch")"
echo "js: $js"
echo "go: $go"
node -e '
const js = JSON.parse(process.argv[1]), go = JSON.parse(process.argv[2]);
console.log(`texts=${go.texts} batch=${go.batch}`);
console.log(`wall:       js ${js.texts_per_s.toFixed(1)} texts/s  go ${go.texts_per_s.toFixed(1)} texts/s  ratio go/js ${(go.texts_per_s / js.texts_per_s).toFixed(1)}x`);
console.log(`CPU time:   js ${js.texts_per_cpu_s.toFixed(1)} texts/CPU-s  go ${go.texts_per_cpu_s.toFixed(1)} texts/CPU-s  ratio go/js ${(go.texts_per_cpu_s / js.texts_per_cpu_s).toFixed(1)}x`);
' "$js" "$go"
