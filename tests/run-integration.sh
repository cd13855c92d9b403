#!/usr/bin/env bash
# Runs every integration suite (private network namespaces, no Docker) once per binary given:
# the normal build and the AddressSanitizer/UBSan build.
# usage: run-integration.sh BINARY [BINARY...]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
rc=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
for bin in "$@"; do
	for t in "$HERE"/integration/*.sh; do
		case $t in *-lib.sh) continue ;; esac
		echo "# integration: $(basename "$t") with $bin"
		"$t" "$bin" || rc=1
	done
done
exit $rc
