#!/usr/bin/env bash
# Integration: `make install` / `make uninstall` into a DESTDIR.  The expected files with the
# expected modes, the unit pointing at the installed binary (and passing systemd-analyze
# verify), the man page without warnings, the default policy = the embedded one, a second
# install keeping a changed policy, uninstall removing what install added except a changed
# policy.  Needs no root and no network; build/tiernet must exist (it is not rebuilt here).
# usage: install.sh [TIERNET_BINARY]   (the binary is not used: make install takes build/tiernet,
# so tests/run-integration.sh runs this suite once, not once per binary)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
TMP=$(mktemp -d /tmp/tiernet-install.XXXXXX)
on_exit "rm -rf $TMP"
if [ ! -x "$ROOT/build/tiernet" ]; then
	echo "skipped: build/tiernet is missing (run make)"
	exit 127
fi
# -o build/tiernet: install what was built, never rebuild it from a test.
mk() { make -s -C "$ROOT" -o build/tiernet "$@" >>"$TMP/make.log" 2>&1; }
mode() { stat -c %a "$1" 2>/dev/null; }

D=$TMP/dest
echo "# make install DESTDIR=... PREFIX=/usr"
check "make install succeeds" mk install DESTDIR="$D" PREFIX=/usr
check_eq "binary in /usr/sbin, mode 755" 755 "$(mode "$D/usr/sbin/tiernet")"
check "it is the built binary" cmp -s "$ROOT/build/tiernet" "$D/usr/sbin/tiernet"
check_eq "man page in /usr/share/man/man8, mode 644" 644 "$(mode "$D/usr/share/man/man8/tiernet.8")"
check_eq "unit in /lib/systemd/system (PREFIX=/usr), mode 644" 644 \
	"$(mode "$D/lib/systemd/system/tiernet.service")"
check_eq "the unit starts the installed binary" "ExecStart=/usr/sbin/tiernet serve" \
	"$(grep '^ExecStart=' "$D/lib/systemd/system/tiernet.service")"
check_eq "the unit is ordered before docker.service" "Before=docker.service" \
	"$(grep '^Before=' "$D/lib/systemd/system/tiernet.service")"
check_eq "the unit bounds the capabilities to NET_ADMIN and NET_RAW" \
	"CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW" \
	"$(grep '^CapabilityBoundingSet=' "$D/lib/systemd/system/tiernet.service")"
check_eq "/etc/tiernet/tiernet.conf, mode 644" 644 "$(mode "$D/etc/tiernet/tiernet.conf")"
check "it is the embedded default policy" \
	sh -c "'$ROOT/build/tiernet' check --print-default | cmp -s - '$D/etc/tiernet/tiernet.conf'"
check_eq "and it passes tiernet check" "configuration OK" \
	"$("$ROOT/build/tiernet" check --config "$D/etc/tiernet/tiernet.conf" 2>&1)"
check_eq "state directory /var/lib/tiernet, mode 700" 700 "$(mode "$D/var/lib/tiernet")"
check_eq "nothing else is installed" \
	"$(printf '%s\n' etc/tiernet/tiernet.conf lib/systemd/system/tiernet.service \
		usr/sbin/tiernet usr/share/man/man8/tiernet.8 | sort)" \
	"$(cd "$D" && find . -type f | sed 's|^\./||' | sort)"
# Both tools come with `make deps` (systemd, man-db): missing, they fail the suite.
if check "systemd-analyze is installed (make deps: systemd)" command -v systemd-analyze; then
	# verify needs the ExecStart binary at its real path: check a copy pointing at DESTDIR.
	sed "s|/usr/sbin/tiernet|$D/usr/sbin/tiernet|g" "$D/lib/systemd/system/tiernet.service" \
		>"$TMP/tiernet.service"
	OUT=$(systemd-analyze verify --man=no "$TMP/tiernet.service" 2>&1)
	check_eq "systemd-analyze verify finds nothing to say" "" "$OUT"
fi
if check "man is installed (make deps: man-db)" command -v man; then
	OUT=$(MANWIDTH=80 man --warnings -l "$D/usr/share/man/man8/tiernet.8" 2>&1 >/dev/null)
	check_eq "the man page renders without warnings" "" "$OUT"
fi

echo "# the installed binary: help, version, environment"
T=$D/usr/sbin/tiernet
check_contains "tiernet --help lists the commands" "$("$T" --help)" "commands:"
check_contains "... with examples" "$("$T" --help)" "examples:"
check_eq "tiernet help is tiernet --help" "$("$T" --help)" "$("$T" help)"
for c in serve check status version; do
	check_contains "tiernet $c --help shows its usage" "$("$T" $c --help)" "usage: tiernet $c"
	check_eq "tiernet help $c is tiernet $c --help" "$("$T" $c --help)" "$("$T" help $c)"
done
for c in serve check status; do
	check_contains "tiernet $c --help has examples" "$("$T" $c --help)" "examples:"
done
check_contains "tiernet version names the build" "$("$T" version)" "tiernet "
check_eq "tiernet --version is tiernet version" "$("$T" version)" "$("$T" --version)"
refute "an unknown command fails" "$T" frobnicate
OUT=$(TIERNET_LOG_LEVEL=loud "$T" serve --socket "$TMP/never.sock" 2>&1)
check_contains "a bad TIERNET_LOG_LEVEL is refused before anything starts" "$OUT" \
	'TIERNET_LOG_LEVEL "loud" is not one of error, warn, info, debug'
refute "... and no socket appears" test -e "$TMP/never.sock"
printf 'tier a\nallow a -> b\n' >"$TMP/bad.conf"
chmod 0644 "$TMP/bad.conf"
OUT=$(TIERNET_CONFIG=$TMP/bad.conf "$T" check 2>&1)
check_contains "TIERNET_CONFIG names the policy file for check" "$OUT" "$TMP/bad.conf:2:"
check_eq "--config wins over TIERNET_CONFIG" "configuration OK" \
	"$(TIERNET_CONFIG=$TMP/bad.conf "$T" check --config "$D/etc/tiernet/tiernet.conf" 2>&1)"

echo "# a second install keeps a changed policy"
printf 'tier front\ntier mid\nallow front -> mid\n' >"$D/etc/tiernet/tiernet.conf"
cp "$D/etc/tiernet/tiernet.conf" "$TMP/changed.conf"
echo "# old" >>"$D/usr/share/man/man8/tiernet.8"
check "make install again succeeds" mk install DESTDIR="$D" PREFIX=/usr
check "the changed policy is untouched" cmp -s "$TMP/changed.conf" "$D/etc/tiernet/tiernet.conf"
check "the other files are replaced" cmp -s "$ROOT/doc/tiernet.8" "$D/usr/share/man/man8/tiernet.8"
check "make says it kept the policy" grep -q "kept $D/etc/tiernet/tiernet.conf" "$TMP/make.log"

echo "# uninstall"
check "make uninstall succeeds" mk uninstall DESTDIR="$D" PREFIX=/usr
check_eq "only the changed policy remains" "etc/tiernet/tiernet.conf" \
	"$(cd "$D" && find . -type f | sed 's|^\./||')"
check "it is unchanged" cmp -s "$TMP/changed.conf" "$D/etc/tiernet/tiernet.conf"
refute "the empty state directory is removed" test -e "$D/var/lib/tiernet"

echo "# install and uninstall with the default PREFIX (/usr/local)"
D2=$TMP/dest2
check "make install DESTDIR=... (PREFIX=/usr/local)" mk install DESTDIR="$D2"
check "binary in /usr/local/sbin" test -x "$D2/usr/local/sbin/tiernet"
check_eq "unit in /usr/local/lib/systemd/system, starting /usr/local/sbin/tiernet" \
	"ExecStart=/usr/local/sbin/tiernet serve" \
	"$(grep '^ExecStart=' "$D2/usr/local/lib/systemd/system/tiernet.service" 2>/dev/null)"
check "the policy is still in /etc/tiernet" test -f "$D2/etc/tiernet/tiernet.conf"
check "make uninstall" mk uninstall DESTDIR="$D2"
check_eq "an unchanged default policy is removed too: no file remains" "" \
	"$(cd "$D2" && find . -type f)"
refute "and so is /etc/tiernet" test -e "$D2/etc/tiernet"

[ "$T_FAIL" -eq 0 ] || sed 's/^/#   make: /' "$TMP/make.log"
run_cleanup
summary
