#!/usr/bin/env bash
# Runs every integration suite (private network namespaces, no Docker) once per binary given:
# the normal build and the AddressSanitizer/UBSan build.  install.sh (`make install` into a
# DESTDIR, which installs build/tiernet whatever binary is given) and soak.sh (its bounded
# 60 s run, the normal binary; `make soak` for longer runs) run once.  To keep the README's
# test command inside its time budget, bridge-full.sh (a kernel limit, not tiernet's memory)
# runs with the first binary only, and the slow suites whose worth is tiernet's behaviour
# under faults, restarts and limits (robust.sh, durability.sh, limits.sh) with the last one
# only, the sanitizer build, where a memory error on those paths shows.  A suite that dies
# before its closing line counts as a failure (run_suite, tests/lib.sh).
# usage: run-integration.sh BINARY [BINARY...]   (INTEG_ONLY="core.sh" runs only those suites)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
rc=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
first=1
for bin in "$@"; do
	for t in "$HERE"/integration/*.sh; do
		case $t in
		*-lib.sh) continue ;;
		esac
		if [ -n "${INTEG_ONLY:-}" ]; then
			case " $INTEG_ONLY " in *" $(basename "$t") "*) ;; *) continue ;; esac
		fi
		case $t in
		*/install.sh | */soak.sh | */bridge-full.sh) [ $first = 1 ] || continue ;;
		*/robust.sh | */durability.sh | */limits.sh) [ "$bin" = "${!#}" ] || continue ;;
		esac
		echo "# integration: $(basename "$t") with $bin"
		run_suite "$t" "$bin" || rc=1
	done
	first=0
done
exit $rc
