#!/usr/bin/env bash
# Builds the container image and runs it for real:
#   scripts/docker-test.sh
# Starts a Docker daemon when none answers (as root: dockerd with the vfs
# storage driver and no bridge, so it needs neither overlay mounts nor
# iptables), builds the image with scripts/docker-build.sh, and checks that
#   - the image runs as a numeric non-root user, and how big it is;
#   - build_info carries the version and revision that were stamped in;
#   - a mounted agents.yml passes --config.check and loads, with flags added
#     at docker run (the configuration path must survive them), against a
#     simulated gateway on the host's loopback;
#   - SIGHUP (docker kill --signal=HUP) reloads it;
#   - --simulate works in the image.
# Containers run with --network host (there is no bridge) on free loopback
# ports. Everything started here is stopped at the end, on failure too; a
# daemon that was already running is left running.
set -euo pipefail
cd "$(dirname "$0")/.."

image=agentgateway_exporter
max_image_mb=30
work="$(mktemp -d)"
containers=()
dockerd_pid=
sim_pid=

say() { printf '%s\n' "$*"; }
fail() {
	say "FAIL: $*" >&2
	exit 1
}

cleanup() {
	status=$?
	for c in "${containers[@]}"; do
		if [ "$status" -ne 0 ]; then
			say "--- docker logs $c ---" >&2
			docker logs "$c" 2>&1 | tail -n 20 >&2 || true
		fi
		docker rm -f "$c" >/dev/null 2>&1 || true
	done
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	if [ -n "$dockerd_pid" ]; then
		if [ "$status" -ne 0 ]; then
			say "--- last lines of the daemon's log ---" >&2
			tail -n 20 "$work/dockerd.log" >&2 || true
		fi
		say "stopping the Docker daemon started for this test"
		kill -TERM "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 30); do
			kill -0 "$dockerd_pid" 2>/dev/null || break
			sleep 1
		done
		kill -KILL "$dockerd_pid" 2>/dev/null || true
		wait "$dockerd_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# until SECONDS COMMAND... retries COMMAND every second until it succeeds.
until_ok() {
	local limit=$1
	shift
	for _ in $(seq "$limit"); do
		if "$@"; then return 0; fi
		sleep 1
	done
	"$@"
}

# free_port prints a loopback port that nothing listens on.
free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# value URL SERIES prints the value of the series (name and labels exactly
# as exposed) in the scrape of URL, or fails.
value() {
	curl -fs --max-time 10 "$1" | awk -v s="$2" 'index($0, s " ") == 1 { print $2; found = 1 } END { exit !found }'
}

docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if docker_answers; then
	say "using the running Docker daemon"
else
	[ "$(id -u)" = 0 ] || fail "no Docker daemon answers, and starting one needs root"
	command -v dockerd >/dev/null || fail "no Docker daemon answers and dockerd is missing (Debian: apt-get install docker.io)"
	say "starting a Docker daemon (log: $work/dockerd.log)"
	dockerd --storage-driver=vfs --iptables=false --bridge=none >"$work/dockerd.log" 2>&1 &
	dockerd_pid=$!
	for _ in $(seq 60); do
		docker_answers && break
		kill -0 "$dockerd_pid" 2>/dev/null || fail "dockerd exited"
		sleep 1
	done
	docker_answers || fail "dockerd did not answer within 60 s"
fi

say "building the image"
tag="$(scripts/docker-build.sh "$image" 2>"$work/build.log")" || fail "the image did not build: $(tail -n 20 "$work/build.log")"
ref="$image:$tag"

user="$(docker image inspect --format '{{.Config.User}}' "$ref")"
uid="${user%%:*}"
case "$uid" in
'' | *[!0-9]*) fail "image user is \"$user\", not a numeric uid" ;;
0) fail "image runs as root" ;;
esac
bytes="$(docker image inspect --format '{{.Size}}' "$ref")"
mb="$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')"
say "image $ref: $mb MB, user $user"
[ "$bytes" -le $((max_image_mb * 1000000)) ] || fail "image is $mb MB, over $max_image_mb MB"

# A simulated gateway on the host, with an agents.yml (and the CA file of
# its self-signed certificate) for the image to mount.
say "starting a simulated gateway on the host"
go build -o "$work/gatewaysim" ./cmd/gatewaysim
mkdir "$work/config"
"$work/gatewaysim" --listen-address=127.0.0.1:0 --agents=5 --tls --write-config="$work/config/agents.yml" >"$work/gatewaysim.log" 2>&1 &
sim_pid=$!
until_ok 30 test -s "$work/config/agents.yml" || fail "the simulated gateway wrote no agents.yml: $(cat "$work/gatewaysim.log")"
# The image's user must be able to read the mounted files.
chmod 755 "$work/config"
chmod 644 "$work/config"/*

mount=(-v "$work/config:/etc/agentgateway_exporter:ro")
out="$(docker run --rm --network host "${mount[@]}" "$ref" --config.check 2>&1)" ||
	fail "--config.check on the mounted agents.yml: $out"
say "--config.check: $out"

# Flags added at docker run must not drop the configuration path.
port="$(free_port)"
name="agentgateway-exporter-test-$$"
containers+=("$name")
docker run -d --name "$name" --network host "${mount[@]}" "$ref" \
	--web.listen-address="127.0.0.1:$port" --log.level=debug >/dev/null
metrics="http://127.0.0.1:$port/metrics"
until_ok 30 value "$metrics" 'agentgateway_gateway_up{gateway="sim"}' >/dev/null ||
	fail "the exporter in the container did not serve the mounted configuration's gateway"
up="$(value "$metrics" 'agentgateway_gateway_up{gateway="sim"}')"
agents="$(value "$metrics" 'agentgateway_gateway_agents{gateway="sim"}')"
[ "$up" = 1 ] && [ "$agents" = 5 ] || fail "gateway up $up with $agents agents, want 1 with 5"
say "mounted agents.yml loaded with flags added at docker run: gateway up, $agents agents"

pid="$(docker inspect --format '{{.State.Pid}}' "$name")"
running_uid="$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")"
[ "$running_uid" = "$uid" ] || fail "the exporter runs as uid $running_uid, want $uid"
say "the exporter runs as uid $running_uid"

build_info="$(curl -fsS "$metrics" | grep '^agentgateway_exporter_build_info{')" || fail "no build_info"
revision="${REVISION:-$(git rev-parse HEAD 2>/dev/null || true)}"
case "$build_info" in
*"version=\"$tag\""*) ;;
*) fail "build_info does not carry version $tag: $build_info" ;;
esac
case "$build_info" in
*'revision=""'* | *'revision="unknown"'*) fail "build_info has no revision: $build_info" ;;
*"revision=\"$revision\""*) ;;
*) fail "build_info does not carry revision $revision: $build_info" ;;
esac
say "build_info: $build_info"

reloads="$(value "$metrics" 'agentgateway_config_reloads_total{result="success"}')"
docker kill --signal=HUP "$name" >/dev/null
reloaded() { [ "$(value "$metrics" 'agentgateway_config_reloads_total{result="success"}')" -gt "$reloads" ]; }
until_ok 30 reloaded || fail "SIGHUP did not reload: reloads_total{result=\"success\"} stayed at $reloads"
say "SIGHUP reloaded: successful reloads $reloads -> $(value "$metrics" 'agentgateway_config_reloads_total{result="success"}')"

port="$(free_port)"
name="agentgateway-exporter-simulate-$$"
containers+=("$name")
docker run -d --name "$name" --network host "$ref" --simulate --web.listen-address="127.0.0.1:$port" >/dev/null
metrics="http://127.0.0.1:$port/metrics"
until_ok 30 value "$metrics" 'agentgateway_gateway_up{gateway="sim"}' >/dev/null || fail "--simulate in the container served no gateway"
say "--simulate: gateway up $(value "$metrics" 'agentgateway_gateway_up{gateway="sim"}')"

say "docker test passed: image $ref, $mb MB"
