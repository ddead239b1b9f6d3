#!/bin/sh
# Builds the container image as the Prometheus projects do: first a static
# binary (CGO off) with version, revision and branch stamped in, then an
# image FROM scratch that only copies it and the host's CA bundle, so that
# no registry is needed.
#   scripts/docker-build.sh [image]    (default: agentgateway_exporter)
# Tags <image>:<version> and <image>:latest, and prints the version.
# VERSION, REVISION and BRANCH override what git says; CA_BUNDLE names the
# CA bundle to copy (default: Debian's and Ubuntu's).
set -eu
cd "$(dirname "$0")/.."

image="${1:-agentgateway_exporter}"
os=linux
arch="$(go env GOARCH)"
out=".build/$os-$arch"
version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
revision="${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
branch="${BRANCH:-$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)}"
ca_bundle="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

if [ ! -r "$ca_bundle" ]; then
	echo "no CA bundle at $ca_bundle (Debian: apt-get install ca-certificates; or set CA_BUNDLE)" >&2
	exit 1
fi

mkdir -p "$out"
pkg=github.com/prometheus/common/version
CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -ldflags "-s -w \
	-X $pkg.Version=$version \
	-X $pkg.Revision=$revision \
	-X $pkg.Branch=$branch \
	-X $pkg.BuildUser=$(id -un)@$(uname -n) \
	-X $pkg.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)" \
	-o "$out/agentgateway_exporter" .
cp "$ca_bundle" "$out/ca-certificates.crt"

# A docker tag allows letters, digits, '_', '.' and '-'.
tag="$(printf '%s' "$version" | tr -c 'A-Za-z0-9_.-' '-')"
docker build --build-arg OS="$os" --build-arg ARCH="$arch" -t "$image:$tag" -t "$image:latest" . >&2
echo "$tag"
