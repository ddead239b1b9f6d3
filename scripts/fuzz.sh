#!/bin/sh
# Runs every fuzz target of the module for a bounded time each.
#   scripts/fuzz.sh [seconds]    (default 30)
# New interesting inputs stay in the Go build cache; a crasher is written to
# the package's testdata/fuzz/<Target>/ and fails the run, so it can be
# committed as a regression seed once fixed.
set -eu

seconds="${1:-30}"
case "$seconds" in
'' | *[!0-9]*)
	echo "usage: $0 [seconds]" >&2
	exit 2
	;;
esac

cd "$(dirname "$0")/.."

for target in ./gateway:FuzzDecodeAnswer ./gateway:FuzzDecodeFastMatchesGeneral ./config:FuzzLoad; do
	pkg="${target%%:*}"
	name="${target#*:}"
	echo "fuzzing $name in $pkg for ${seconds}s"
	# Minimizing a long new input can take the worker away from fuzzing for
	# up to a minute; in a bounded run a few seconds of it are enough.
	go test -run='^$' -fuzz="^${name}\$" -fuzztime="${seconds}s" -fuzzminimizetime=5s "$pkg"
done
