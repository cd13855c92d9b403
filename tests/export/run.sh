#!/usr/bin/env bash
# The "export (kubernetes)" test layer (README "More than one host"; no root, no kernel):
# installs the npm packages pinned by tests/export/package-lock.json into build/export with
# `npm ci` (only when the lock changed), then runs tests/export/check.js over every case of
# tests/export/golden.list.  Prints "ok - ..." lines and a closing "N passed, N failed" line.
# usage: tests/export/run.sh [TIERNET] [K8S-MATRIX]    (make export-test builds both)
set -u
cd "$(dirname "$0")/../.."
TIERNET=${1:-build/tiernet}
MATRIX=${2:-build/k8s-matrix}
DIR=build/export

fail() {
	echo "not ok - $1"
	echo "0 passed, 1 failed"
	exit 1
}

for t in "$TIERNET" "$MATRIX"; do
	[ -x "$t" ] || fail "$t is not built (make all build/k8s-matrix)"
done
command -v node >/dev/null && command -v npm >/dev/null ||
	fail "node and npm are not installed (make deps installs Debian's nodejs and npm)"
mkdir -p "$DIR"
if ! cmp -s tests/export/package-lock.json "$DIR/package-lock.json" ||
	! cmp -s tests/export/package.json "$DIR/package.json" || [ ! -d "$DIR/node_modules" ]; then
	cp tests/export/package.json tests/export/package-lock.json "$DIR/"
	(cd "$DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >"$DIR/npm.log" 2>&1 ||
		fail "npm ci in $DIR failed: $(tail -3 "$DIR/npm.log" | tr '\n' ' ')"
fi
NODE_PATH=$PWD/$DIR/node_modules exec node tests/export/check.js "$TIERNET" "$MATRIX" \
	tests/export/golden.list
