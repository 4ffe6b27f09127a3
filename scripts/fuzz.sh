#!/usr/bin/env bash
# Runs every Fuzz* target in the module for a short time each (default 3s).
# Corpora live in each package's testdata/fuzz; a crasher is written there
# by go test and fails the run. Go's fuzzer sometimes ends a time-bounded
# run with a bare "context deadline exceeded" (the deadline hit while a
# worker was minimising an interesting input) and no failing input: such a
# target is run once more, and fails the run only if that happens again.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-3s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $f ($t)"
    for attempt in 1 2; do
      if go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg" >"$log" 2>&1; then
        break
      fi
      if [ "$attempt" = 1 ] && grep -q "context deadline exceeded" "$log" && ! grep -q "Failing input written to" "$log"; then
        echo "  (deadline hit while minimising, no failing input; running $f once more)"
        continue
      fi
      cat "$log"
      exit 1
    done
  done
done
