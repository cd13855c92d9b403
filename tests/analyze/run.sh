#!/usr/bin/env bash
# Static analysis of the product code (lib/ plugin/ driver/ policy/ config/): cppcheck, then
# clang-tidy with the repository's .clang-tidy (compile flags from pkg-config), then the
# layout of every C file against .clang-format.  Fails on any
# finding not suppressed with its reason: in tests/analyze/cppcheck.supp, in
# tests/analyze/clang-tidy.supp, in .clang-tidy (whole checks), or NOLINT next to the code.
# Prints a TAP-like line per tool and a closing "N passed, N failed" line.
# usage: tests/analyze/run.sh      (make analyze; PKG_CFLAGS may come from the Makefile)
set -u
cd "$(dirname "$0")/../.."
HERE=tests/analyze
PKGS="libmicrohttpd libcjson libnl-3.0 libnl-route-3.0 libip4tc libnftables libcap libnetfilter_conntrack"
PKG_CFLAGS=${PKG_CFLAGS:-$(${PKG_CONFIG:-pkg-config} --cflags $PKGS 2>/dev/null)}
FLAGS="-std=gnu11 -I. -D_GNU_SOURCE -DTIERNET_VERSION=\"analyze\" $PKG_CFLAGS"
SRCS=(lib/*.c plugin/*.c driver/*.c policy/*.c config/*.c)
JOBS=$(nproc 2>/dev/null || echo 2)
OUT=build/analyze
mkdir -p "$OUT"
pass=0
fail=0
result() { # result OK DESC [DETAILS FILE]
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"; pass=$((pass + 1))
	else
		echo "not ok - $2"; fail=$((fail + 1))
		[ -n "${3:-}" ] && sed 's/^/#   /' "$3"
	fi
}

# Every suppression needs its reason: a non-comment line must follow a comment line.
reasons() {
	awk 'FNR == 1 { prev = "" }
	     /^[ \t]*$/ { prev = ""; next }
	     /^#/ { prev = "#"; next }
	     prev != "#" { printf "%s:%d: suppression without a reason: %s\n", FILENAME, FNR, $0; bad = 1 }
	     { prev = "entry" }
	     END { exit bad }' "$@"
}
reasons "$HERE/cppcheck.supp" "$HERE/clang-tidy.supp" >"$OUT/reasons.txt"
result $? "every suppression states its reason" "$OUT/reasons.txt"

if command -v cppcheck >/dev/null; then
	# shellcheck disable=SC2086
	cppcheck --enable=warning,style,performance,portability,information --std=c11 \
		--error-exitcode=1 \
		-q -I. -D_GNU_SOURCE -DTIERNET_VERSION='"analyze"' --library="$HERE/cjson.cfg" \
		--suppressions-list="$HERE/cppcheck.supp" \
		--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
		"${SRCS[@]}" >"$OUT/cppcheck.txt" 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ -s "$OUT/cppcheck.txt" ] && rc=1
	result $rc "cppcheck: $( [ $rc -eq 0 ] && echo "no finding in ${#SRCS[@]} files" || echo "findings")" \
		"$OUT/cppcheck.txt"
else
	result 1 "cppcheck is not installed (apt-get install cppcheck)"
fi

if command -v clang-tidy >/dev/null; then
	# One clang-tidy per file, in parallel; findings as "file:line:col: ... [check,...]".
	# clang-tidy exits 0 with findings; non-zero means it could not check a file (a compile
	# error, a crash, a missing file), and that fails the run whatever it printed: xargs
	# exits 123 when any invocation failed.
	printf '%s\n' "${SRCS[@]}" |
		xargs -P "$JOBS" -I{} sh -c 'clang-tidy --quiet "$1" -- $2 2>&1 ||
			echo "clang-tidy: exit $? on $1"' _ {} "$FLAGS" >"$OUT/clang-tidy.raw"
	tidy_rc=${PIPESTATUS[1]}
	grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$OUT/clang-tidy.raw" |
		sed "s|^$PWD/||" | sort -u >"$OUT/clang-tidy.all"
	# Drop what clang-tidy.supp lists (CHECK FILE); compile errors are never dropped.
	awk 'NR == FNR { if ($0 !~ /^#/ && NF == 2) supp[$1 " " $2] = 1; next }
	     { file = $1; sub(/:.*/, "", file)
	       n = split($0, parts, "[")
	       check = parts[n]; sub(/[],].*/, "", check)
	       if ((check " " file) in supp && check != "clang-diagnostic-error") {
		       used[check " " file] = 1
		       next
	       }
	       print }
	     END { for (s in supp) if (!(s in used))
		       printf "tests/analyze/clang-tidy.supp: \"%s\" matches no finding any more: delete it\n", s }' \
		"$HERE/clang-tidy.supp" "$OUT/clang-tidy.all" >"$OUT/clang-tidy.txt"
	grep -E '^clang-tidy: exit ' "$OUT/clang-tidy.raw" >>"$OUT/clang-tidy.txt"
	[ "$tidy_rc" -eq 0 ] || echo "clang-tidy: xargs exit $tidy_rc" >>"$OUT/clang-tidy.txt"
	rc=0
	[ -s "$OUT/clang-tidy.txt" ] && rc=1
	result $rc "clang-tidy: $( [ $rc -eq 0 ] && echo "no finding in ${#SRCS[@]} files" || echo "findings")" \
		"$OUT/clang-tidy.txt"
else
	result 1 "clang-tidy is not installed (apt-get install clang-tidy)"
fi
# The layout: every C file of the tree (product and tests) as .clang-format has it, so a
# change that reformats by hand or by another tool shows up here, not in review.
if command -v clang-format >/dev/null; then
	mapfile -t CFILES < <(git ls-files '*.c' '*.h' 2>/dev/null || find lib plugin driver policy config tests -name '*.[ch]')
	clang-format --dry-run --Werror "${CFILES[@]}" >"$OUT/clang-format.txt" 2>&1
	rc=$?
	result $rc "clang-format: $( [ $rc -eq 0 ] && echo "all ${#CFILES[@]} C files follow .clang-format" || echo "files differ from .clang-format (run clang-format -i on them)")" \
		"$OUT/clang-format.txt"
else
	result 1 "clang-format is not installed (apt-get install clang-format)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
