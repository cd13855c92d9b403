#!/usr/bin/env bash
# Proves that `make deps` is all a minimal Debian 12 needs: debootstraps bookworm (minbase:
# the Essential and required packages and apt, nothing else) into a directory, copies the
# working tree into it, and inside a chroot runs tests/deps.sh (apt-get installs the list,
# then every command and library the build and the tests use is checked), the build, the unit
# tests (normal and ASan+UBSan), static analysis, the fuzz harnesses' build and a short fuzz
# run, and install.sh (make install with systemd-analyze verify and man --warnings).  Nothing
# there touches the kernel's network state: the root suites need a real host (make test).
# Not part of `make test`: it downloads some 700 MB and takes about 3 minutes here.
# usage: tests/freshdeps.sh [DIR]     (root; make freshdeps; KEEP=1 keeps DIR afterwards)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
need_root
ROOT=$(cd "$HERE/.." && pwd)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
DIR=${1:-$(mktemp -d /var/tmp/tiernet-freshdeps.XXXXXX)}
T0=$SECONDS

cleanup_chroot() {
	local m
	# Innermost first; --lazy for what a leftover process might still hold.
	for m in $(awk -v d="$DIR" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount --lazy "$m"
	done
	[ "${KEEP:-0}" = 1 ] || rm -rf --one-file-system "$DIR"
}
on_exit cleanup_chroot

if ! command -v debootstrap >/dev/null; then
	echo "# installing debootstrap on this host"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap \
		>/dev/null || { nok "debootstrap can be installed"; summary; exit 1; }
fi

echo "# debootstrap --variant=minbase bookworm $DIR"
check "debootstrap a minimal bookworm" \
	debootstrap --variant=minbase bookworm "$DIR" "$MIRROR"
[ "$T_FAIL" -eq 0 ] || { tail -20 "$DIR/debootstrap/debootstrap.log" 2>/dev/null; summary; exit 1; }
check_eq "the chroot has none of the packages deps.sh adds (minbase)" "" \
	"$(chroot "$DIR" dpkg-query -W -f='${Package}\n' build-essential iproute2 procps jq \
		clang-tidy docker.io 2>/dev/null)"

# Services never start inside the chroot (docker.io, containerd).
printf '#!/bin/sh\nexit 101\n' >"$DIR/usr/sbin/policy-rc.d"
chmod 0755 "$DIR/usr/sbin/policy-rc.d"
mount -t proc proc "$DIR/proc"
mount --rbind /dev "$DIR/dev"
mount --make-rslave "$DIR/dev"
mount -t sysfs sysfs "$DIR/sys"
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
mkdir -p "$DIR/src"
tar -C "$ROOT" --exclude=./build --exclude=./.git -c . | tar -C "$DIR/src" -x

# in_chroot DESC CMD: runs CMD (a bash command line) in the source tree of the chroot, with
# a clean environment; its output goes to the log, the last lines are shown on failure.
LOG=$DIR/freshdeps.log
in_chroot() {
	local desc=$1
	shift
	echo "## $desc" >>"$LOG"
	if chroot "$DIR" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		bash -c "cd /src && $*" >>"$LOG" 2>&1; then
		ok "$desc"
	else
		nok "$desc"
		tail -25 "$LOG" | sed 's/^/#   /'
	fi
}

in_chroot "tests/deps.sh installs the packages; every command and library is then present" \
	tests/deps.sh
in_chroot "a second run finds everything present (installs nothing)" \
	"tests/deps.sh | grep -q 'all [0-9]* packages present'"
in_chroot "the build: make all asan build/unit build/asan/unit build/fw-roundtrip ..." \
	make -j"$(nproc)" all asan build/unit build/asan/unit build/fw-roundtrip build/asan/fw-roundtrip
in_chroot "unit tests" build/unit
in_chroot "unit tests, ASan+UBSan, no sanitizer report" tests/run-unit-asan.sh build/asan/unit
in_chroot "static analysis: cppcheck and clang-tidy (make analyze)" make -s analyze
in_chroot "the fuzz harnesses build (clang, libclang-rt-14-dev) and run (fuzz_policy, 3 s)" \
	"make -s -j$(nproc) fuzz-build && tests/fuzz/run.sh 3 policy"
in_chroot "install.sh: make install, systemd-analyze verify, man --warnings" \
	tests/integration/install.sh
echo "# run time: $((SECONDS - T0)) s; log: $LOG${KEEP:+ (kept)}"
[ "${KEEP:-0}" = 1 ] || cp "$LOG" "$ROOT/build/freshdeps.log" 2>/dev/null
run_cleanup
summary
