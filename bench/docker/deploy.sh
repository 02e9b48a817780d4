#!/usr/bin/env bash
# Measures the docker runtime: image size, time to deploy N deckies with the
# image built from scratch and with it cached, and the memory of each
# service container and of each decky. Needs root and a Docker engine.
# It deploys on a bridge it makes (never on a real interface) and removes
# everything afterwards.
#   bench/docker/deploy.sh [deckies] [archetype]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-10}
arch=${2:-linux-server}
work=$(mktemp -d)
br=dkbench0
export DECNET_DOCKER_PROJECT=bench
cleanup() {
	"$work/decnet" teardown --all --data-dir "$work/data" >/dev/null 2>&1 || true
	ip link del "$br" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/decnet" ./cmd/decnet
ip link add "$br" type bridge
ip addr add 10.250.0.1/24 dev "$br"
ip link set "$br" up
tag=$("$work/decnet" version | awk '{print $2}')
deploy() {
	local start end
	start=$(date +%s.%N)
	"$work/decnet" deploy --mode unihost --interface "$br" --ip-start 10.250.0.10 \
		--deckies "$n" --archetype "$arch" --data-dir "$work/data" --seed 1 >"$work/deploy.log"
	end=$(date +%s.%N)
	echo "$end - $start" | bc
}

docker rmi -f "decnet:$tag" >/dev/null 2>&1 || true
echo "deploy $n deckies ($arch), image not cached: $(deploy) s"
size=$(docker image inspect -f '{{.Size}}' "decnet:$tag")
echo "image decnet:$tag: $((size / 1024 / 1024)) MiB ($size bytes)"
sleep 10 # let the services settle before reading their memory
# Resident memory of each container's process (VmRSS, and RssAnon: the
# private part; the binary's pages are shared by all), without the page
# cache the engine's own figures include.
for c in $(docker ps --filter label=decnet.project=bench --format '{{.Names}}'); do
	pid=$(docker inspect -f '{{.State.Pid}}' "$c")
	role=$(docker inspect -f '{{index .Config.Labels "decnet.role"}}' "$c")
	svc=$(docker inspect -f '{{index .Config.Labels "decnet.service"}}' "$c")
	echo "${svc:-$role} $(awk '/^VmRSS/ {r = $2} /^RssAnon/ {a = $2} END {print r, a}' "/proc/$pid/status")"
done | awk '
	{ rss[$1] += $2; anon[$1] += $3; cnt[$1]++; trss += $2; tanon += $3 }
	END {
		for (k in rss) printf "  %-6s %2d containers, RSS %.1f MiB (private %.1f MiB) each on average\n", k, cnt[k], rss[k] / cnt[k] / 1024, anon[k] / cnt[k] / 1024
		printf "  per decky (base + services): RSS %.1f MiB, private %.1f MiB (the binary'"'"'s pages are shared)\n", trss / cnt["decky"] / 1024, tanon / cnt["decky"] / 1024
	}'
"$work/decnet" teardown --all --data-dir "$work/data" >/dev/null
echo "deploy $n deckies ($arch), image cached: $(deploy) s"
