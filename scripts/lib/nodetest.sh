# Shared steps of the scripts that test ragd with a node client
# (scripts/mcp/run.sh, scripts/workers/run.sh). Source it; it defines:
#   log MSG...                 a bold progress line on stderr
#   need_node                  installs nodejs and npm with apt-get if missing
#   npm_ci_pinned DIR PKG      npm ci in DIR unless DIR/node_modules holds PKG
#                              at the version DIR/package.json pins
#   ragd_bin VAR               sets bin to a ragd binary: $VAR if set, else
#                              one built from this checkout into a temporary
#                              folder removed when the script exits
# The sourcing script sets ragd_root (the checkout's root) first.
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

need_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "installing nodejs and npm (apt-get)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
  fi
}

npm_ci_pinned() {
  local dir="$1" pkg="$2" want have
  want="$(node -p "const p = require('$dir/package.json'); (p.dependencies || {})['$pkg'] || (p.devDependencies || {})['$pkg']")"
  have="$(node -p "try { require('$dir/node_modules/$pkg/package.json').version } catch { '' }")"
  if [ "$have" != "$want" ]; then
    log "installing $pkg $want into ${dir#"$ragd_root/"}/node_modules (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
  fi
}

ragd_bin() {
  bin="${!1:-}"
  [ -n "$bin" ] && return
  _ragd_tmp="$(mktemp -d "${TMPDIR:-/tmp}/ragd-node-test.XXXXXX")"
  trap 'rm -rf "$_ragd_tmp"' EXIT
  log "building ragd"
  (cd "$ragd_root" && go build -o "$_ragd_tmp/ragd" ./cmd/ragd)
  bin="$_ragd_tmp/ragd"
}
