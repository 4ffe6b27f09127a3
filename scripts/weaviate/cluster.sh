#!/usr/bin/env bash
# Weaviate test harness: builds (or reuses) weaviate-server and runs one node
# or a cluster on loopback, for ragd's Weaviate backend tests and benchmarks.
#
#   cluster.sh bin                print the server binary, building it once
#   cluster.sh start DIR [N]      start N nodes (default 1) with state in DIR
#   cluster.sh stop DIR           stop exactly the nodes started in DIR
#   cluster.sh kill DIR I         SIGKILL node I (0-based), keeping its data
#   cluster.sh restart DIR I      start node I again on its old data
#   cluster.sh env DIR            print RAGD_WEAVIATE_URL/_GRPC for node 0
#
# Node I listens on HTTP 127.0.0.1:$((BASE+I)), gRPC $((GRPC_BASE+I)), gossip
# $((GOSSIP_BASE+10*I)), data +1, Raft $((RAFT_BASE+10*I)), Raft RPC +1
# (BASE=${WEAVIATE_HTTP_BASE:-18080}, GRPC_BASE=${WEAVIATE_GRPC_BASE:-15051},
# GOSSIP_BASE=${WEAVIATE_GOSSIP_BASE:-17100}, RAFT_BASE=${WEAVIATE_RAFT_BASE:-18300}).
# Telemetry and the profiling listener are off. The binary is built with
# `go install` from the Go module proxy (about 7 minutes on 2 cores, cold) into
# ${RAGD_CACHE:-$HOME/.cache/ragd}/weaviate-$VERSION, or taken from
# $RAGD_WEAVIATE_BIN.
set -euo pipefail

VERSION=v1.35.2
HTTP_BASE=${WEAVIATE_HTTP_BASE:-18080}
GRPC_BASE=${WEAVIATE_GRPC_BASE:-15051}
GOSSIP_BASE=${WEAVIATE_GOSSIP_BASE:-17100}
RAFT_BASE=${WEAVIATE_RAFT_BASE:-18300}

die() { echo "cluster.sh: $*" >&2; exit 1; }

server_bin() {
	if [[ -n "${RAGD_WEAVIATE_BIN:-}" ]]; then
		[[ -x "$RAGD_WEAVIATE_BIN" ]] || die "RAGD_WEAVIATE_BIN=$RAGD_WEAVIATE_BIN is not executable"
		echo "$RAGD_WEAVIATE_BIN"
		return
	fi
	local dir="${RAGD_CACHE:-$HOME/.cache/ragd}/weaviate-$VERSION"
	if [[ ! -x "$dir/weaviate-server" ]]; then
		mkdir -p "$dir"
		echo "cluster.sh: building weaviate-server $VERSION with go install (several minutes, once)..." >&2
		local start=$SECONDS
		CGO_ENABLED=0 GOBIN="$dir" GOFLAGS=-mod=mod go install "github.com/weaviate/weaviate/cmd/weaviate-server@$VERSION" >&2 \
			|| die "go install weaviate-server@$VERSION failed"
		echo "cluster.sh: built in $((SECONDS - start)) s: $dir/weaviate-server" >&2
	fi
	echo "$dir/weaviate-server"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # DESCRIPTION SECONDS PID COMMAND...: fails early when PID exits
	local what=$1 limit=$2 pid=$3
	shift 3
	local deadline=$((SECONDS + limit))
	until "$@"; do
		((SECONDS < deadline)) || return 1
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.3
	done
	echo "cluster.sh: $what" >&2
}

ready() { curl -fs -o /dev/null "http://127.0.0.1:$((HTTP_BASE + $1))/v1/.well-known/ready"; }

start_node() { # DIR I N
	local dir=$1 i=$2 n=$3 bin join="" raft_join=""
	bin=$(server_bin)
	for ((j = 0; j < n; j++)); do
		raft_join+="${raft_join:+,}weaviate-$j:$((RAFT_BASE + 10 * j))"
	done
	if ((i > 0)); then join="127.0.0.1:$GOSSIP_BASE"; fi
	mkdir -p "$dir/node-$i"
	env -i PATH="$PATH" HOME="$HOME" \
		PERSISTENCE_DATA_PATH="$dir/node-$i" \
		AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
		DEFAULT_VECTORIZER_MODULE=none ENABLE_MODULES= \
		DISABLE_TELEMETRY=true GO_PROFILING_DISABLE=true PROMETHEUS_MONITORING_ENABLED=false \
		QUERY_MAXIMUM_RESULTS=100000 LOG_LEVEL=warning LOG_FORMAT=text \
		CLUSTER_IN_LOCALHOST=true CLUSTER_HOSTNAME="weaviate-$i" \
		CLUSTER_ADVERTISE_ADDR=127.0.0.1 CLUSTER_BIND_ADDR=127.0.0.1 \
		CLUSTER_GOSSIP_BIND_PORT=$((GOSSIP_BASE + 10 * i)) CLUSTER_DATA_BIND_PORT=$((GOSSIP_BASE + 10 * i + 1)) \
		${join:+CLUSTER_JOIN=$join} \
		RAFT_PORT=$((RAFT_BASE + 10 * i)) RAFT_INTERNAL_RPC_PORT=$((RAFT_BASE + 10 * i + 1)) \
		RAFT_JOIN="$raft_join" RAFT_BOOTSTRAP_EXPECT="$n" \
		GRPC_PORT=$((GRPC_BASE + i)) \
		"$bin" --scheme http --host 127.0.0.1 --port $((HTTP_BASE + i)) \
		--read-timeout=600s --write-timeout=600s \
		>>"$dir/node-$i.log" 2>&1 &
	echo "$i $! $n" >>"$dir/pids"
}

pid_of() { awk -v i="$2" '$1 == i { p = $2 } END { print p }' "$1/pids"; }

ours() { # PID: still a weaviate-server we started?
	[[ -n "$1" ]] && [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q weaviate-server
}

cmd=${1:-}
# A cluster's ports are fixed when it starts; later commands on its DIR
# use them whatever the environment says.
if [[ "$cmd" != start && -n "${2:-}" && -f "${2:-}/ports" ]]; then
	read -r HTTP_BASE GRPC_BASE GOSSIP_BASE RAFT_BASE <"$2/ports"
fi
case "$cmd" in
bin)
	server_bin
	;;
start)
	dir=${2:?usage: cluster.sh start DIR [N]}
	n=${3:-1}
	[[ "$n" =~ ^[1-9]$ ]] || die "N must be 1..9"
	[[ ! -s "$dir/pids" ]] || die "$dir already has a cluster; stop it first"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	for ((i = 0; i < n; i++)); do
		for p in $((HTTP_BASE + i)) $((GRPC_BASE + i)) $((GOSSIP_BASE + 10 * i)) $((RAFT_BASE + 10 * i)); do
			if port_open "$p"; then die "port $p is in use"; fi
		done
	done
	server_bin >/dev/null
	echo "$HTTP_BASE $GRPC_BASE $GOSSIP_BASE $RAFT_BASE" >"$dir/ports"
	start_node "$dir" 0 "$n"
	wait_for "node 0 gossiping on $GOSSIP_BASE" 120 "$(pid_of "$dir" 0)" port_open "$GOSSIP_BASE" || { "$0" stop "$dir"; die "node 0 did not start; see $dir/node-0.log"; }
	for ((i = 1; i < n; i++)); do start_node "$dir" "$i" "$n"; done
	for ((i = 0; i < n; i++)); do
		wait_for "node $i ready on $((HTTP_BASE + i))" 180 "$(pid_of "$dir" "$i")" ready "$i" || { "$0" stop "$dir"; die "node $i not ready; see $dir/node-$i.log"; }
	done
	;;
restart)
	dir=${2:?}
	i=${3:?}
	n=$(awk 'NR == 1 { print $3 }' "$dir/pids")
	if ours "$(pid_of "$dir" "$i")"; then die "node $i is running"; fi
	start_node "$dir" "$i" "$n"
	wait_for "node $i ready again" 180 "$(pid_of "$dir" "$i")" ready "$i" || die "node $i not ready; see $dir/node-$i.log"
	;;
kill)
	dir=${2:?}
	i=${3:?}
	pid=$(pid_of "$dir" "$i")
	ours "$pid" || die "node $i is not running"
	kill -KILL "$pid"
	while ours "$pid"; do sleep 0.1; done
	;;
stop)
	dir=${2:?usage: cluster.sh stop DIR}
	[[ -f "$dir/pids" ]] || exit 0
	pids=()
	while read -r _ pid _; do
		if ours "$pid"; then pids+=("$pid"); fi
	done <"$dir/pids"
	if ((${#pids[@]})); then
		kill -TERM "${pids[@]}" 2>/dev/null || true
		for _ in $(seq 1 100); do
			alive=0
			for pid in "${pids[@]}"; do if ours "$pid"; then alive=1; fi; done
			((alive)) || break
			sleep 0.2
		done
		for pid in "${pids[@]}"; do if ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi; done
	fi
	rm -f "$dir/pids"
	;;
env)
	: "${2:?usage: cluster.sh env DIR}"
	echo "RAGD_WEAVIATE_URL=http://127.0.0.1:$HTTP_BASE"
	echo "RAGD_WEAVIATE_GRPC=127.0.0.1:$GRPC_BASE"
	;;
*)
	sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
	[[ -z "$cmd" ]] || exit 2
	;;
esac
