#!/usr/bin/env bash
# Mixed-read load test of the REST API over a store of a million logs:
#   bench/apiload/run.sh [seconds] [connections]
# Builds and starts apiload (the first run fills the store, ~2-5 minutes;
# later runs reuse it), logs in, warms up for 10 s, then runs wrk with
# mixed.lua and prints wrk's latency distribution. Needs wrk (Debian: wrk).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30} conns=${2:-64}
dir=${APILOAD_DIR:-/tmp/decnet-apiload} addr=127.0.0.1:18080
go build -o "$dir.bin" ./bench/apiload
"$dir.bin" -dir "$dir" -listen "$addr" >"$dir.out" 2>"$dir.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
until grep -q ready "$dir.out" 2>/dev/null; do
	kill -0 $pid 2>/dev/null || { cat "$dir.err"; exit 1; }
	sleep 1
done
token=$(curl -s -X POST -H 'Content-Type: application/json' \
	-d '{"username":"bench","password":"bench-password"}' "http://$addr/api/v1/auth/login" | jq -r .access_token)
TOKEN=$token wrk -t1 -c"$conns" -d10s -s bench/apiload/mixed.lua "http://$addr" >/dev/null 2>&1
TOKEN=$token wrk -t1 -c"$conns" -d"${secs}s" --latency -s bench/apiload/mixed.lua "http://$addr"
