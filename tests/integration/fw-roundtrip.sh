#!/usr/bin/env bash
# Integration: xt_apply / xt_read / the nft pass-through against the real kernel, in a
# private network namespace where the legacy and nf_tables rule sets start empty.
# usage: fw-roundtrip.sh [BINARY]   (exit 127 = skipped)
# BINARY is build/fw-roundtrip (the default) or build/asan/fw-roundtrip; given the tiernet
# binary instead, as the integration runner does, it uses the fw-roundtrip next to it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
need_root
BIN=${1:-$HERE/../../build/fw-roundtrip}
case $(basename "$BIN") in
*fw-roundtrip*) ;;
*) BIN=$(dirname "$BIN")/fw-roundtrip ;;
esac
if [ ! -x "$BIN" ]; then
	echo "skipped: $BIN not built (make build/fw-roundtrip build/asan/fw-roundtrip)"
	exit 127
fi
BIN=$(realpath "$BIN")
# from the top of the tree: the program reads tests/golden/
cd "$HERE/../.."
exec unshare -n "$BIN"
