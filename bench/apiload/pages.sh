#!/usr/bin/env bash
# Load time of each dashboard page over a store of a million logs:
#   bench/apiload/pages.sh [repeats]
# Starts apiload (the first run fills the store; later runs reuse it), signs
# in through the login form, then loads every page once right after start
# (cold: the API's caches are empty) and then [repeats] more times (warm),
# printing curl's total time per page: cold, median and max of the warm
# loads, in milliseconds. Pages are loaded one at a time, as one browser
# tab would; the API's caches are what makes the warm loads fast.
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-20}
dir=${APILOAD_DIR:-/tmp/decnet-apiload} addr=127.0.0.1:18080
go build -o "$dir.bin" ./bench/apiload
"$dir.bin" -dir "$dir" -listen "$addr" >"$dir.out" 2>"$dir.err" &
pid=$!
jar=$(mktemp)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -f "$jar"' EXIT
until grep -q ready "$dir.out" 2>/dev/null; do
	kill -0 $pid 2>/dev/null || { cat "$dir.err"; exit 1; }
	sleep 1
done
base="http://$addr"
curl -s -o /dev/null -c "$jar" -b "$jar" "$base/login"
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode username=bench --data-urlencode password=bench-password "$base/login"
uuid=$(curl -s -b "$jar" "$base/attackers?sort_by=active" | grep -o 'href="/attackers/[0-9a-f-]\{36\}"' | head -n1 | cut -d/ -f3 | tr -d '"')
# apiload's logs end on 2026-11-01, so the default 24 hours are empty; the
# custom day is the last one that holds logs (about 33,000 of them).
day="start_time=2026-10-31T00:00:00Z&end_time=2026-11-01T00:00:00Z"
pages=(/ /fleet "/logs" "/logs?search=service:ssh" "/logs?search=root" "/logs?$day" "/logs?$day&search=service:ssh"
	"/logs?$day&search=root" "/logs?range=all" "/logs?range=all&search=service:ssh" /bounty
	"/bounty?bounty_type=credential" /attackers "/attackers?sort_by=active" "/attackers/$uuid" /traversals /config /health)
ms() { curl -s -o /dev/null -b "$jar" -w '%{http_code} %{time_total}\n' "$base$1"; }
printf '%-44s %6s %8s %8s %8s\n' page status cold_ms p50_ms max_ms
for p in "${pages[@]}"; do
	read -r code cold < <(ms "$p")
	warm=$(for _ in $(seq "$reps"); do ms "$p" | cut -d' ' -f2; done | sort -n)
	p50=$(echo "$warm" | sed -n "$(( (reps + 1) / 2 ))p")
	mx=$(echo "$warm" | tail -n1)
	awk -v p="$p" -v c="$code" -v a="$cold" -v b="$p50" -v m="$mx" \
		'BEGIN { sub(/start_time=[^&]*&end_time=[^&]*/, "day", p); printf "%-44s %6s %8.1f %8.1f %8.1f\n", substr(p, 1, 44), c, a*1000, b*1000, m*1000 }'
done
