#!/usr/bin/env bash
# Runs every Fuzz* target in the module for a short time each (default 3s).
# Corpora live in each package's testdata/fuzz; new crashers are written
# there by go test and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-3s}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $f ($t)"
    go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg" >/tmp/ragd-fuzz.log 2>&1 || { cat /tmp/ragd-fuzz.log; exit 1; }
  done
done
