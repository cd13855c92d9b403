#!/usr/bin/env bash
# Installs, with apt-get and only when missing, every Debian package that the build, the
# tests and the end-to-end tests need, then checks that every command they run and every
# library they link is there.  Safe to run again.  tests/freshdeps.sh proves the list on a
# minimal Debian 12 (debootstrap --variant=minbase bookworm).
set -euo pipefail
pkgs=(
	# the build: gcc, make, ar, nm (binutils), pkg-config; git names the version
	build-essential pkg-config git
	# the libraries tiernet links, Criterion for the unit tests, ldns for the unit tests' and
	# fuzzers' reading of tiernet's DNS answers
	libmicrohttpd-dev libcjson-dev libnl-3-dev libnl-route-3-dev libip4tc-dev libip6tc-dev libxtables-dev
	libnftables-dev libcap-dev libnetfilter-conntrack-dev libnetfilter-log-dev libcriterion-dev
	libldns-dev libmnl-dev
	# fuzzing (clang, libFuzzer), static analysis, memory checks
	clang libclang-rt-14-dev clang-format clang-tidy cppcheck valgrind
	# integration: links and namespaces, both firewall backends, traffic, state files
	iproute2 iptables nftables curl busybox-static procps kmod jq
	# tests/tools/frames.py: raw frames a hostile container could send
	python3
	# integration why.sh: `tiernet graph` output parsed by Graphviz (dot -Tsvg)
	graphviz
	# install.sh: systemd-analyze verify of the unit, man --warnings of the man page
	systemd man-db
	# end to end
	docker.io docker-compose
)
# Every command the build and the tests run (make test, make analyze, make fuzz-smoke,
# make install, tests/freshdeps.sh aside), with the package it comes from.  Those of
# Essential packages (bash, coreutils, util-linux, perl-base, ...) are listed too: the check
# below proves them on a minimal system.
cmds=(
	make:build-essential cc:build-essential ar:build-essential nm:build-essential
	pkg-config:pkg-config git:git
	clang:clang clang-format:clang-format clang-tidy:clang-tidy cppcheck:cppcheck valgrind:valgrind
	ip:iproute2 iptables:iptables iptables-legacy:iptables iptables-legacy-save:iptables
	iptables-nft:iptables ip6tables:iptables nft:nftables curl:curl
	busybox:busybox-static sysctl:procps ps:procps pgrep:procps modprobe:kmod jq:jq python3:python3
	systemd-analyze:systemd man:man-db dot:graphviz
	docker:docker.io dockerd:docker.io docker-compose:docker-compose
	update-alternatives:dpkg dpkg-query:dpkg ldd:libc-bin getconf:libc-bin
	unshare:util-linux nsenter:util-linux setpriv:util-linux setsid:util-linux
	flock:util-linux mount:mount perl:perl-base bash:bash awk:mawk sed:sed grep:grep
	find:findutils xargs:findutils diff:diffutils cmp:diffutils tar:tar
	node:nodejs npm:npm
	timeout:coreutils stat:coreutils truncate:coreutils comm:coreutils chroot:coreutils
	install:coreutils realpath:coreutils mktemp:coreutils seq:coreutils tee:coreutils
)
# pkg-config modules the Makefile asks for (it builds with empty flags when one is missing).
mods=(libmicrohttpd libcjson libnl-3.0 libnl-route-3.0 libip4tc libip6tc libnftables libcap
	libnetfilter_conntrack libnetfilter_log libmnl ldns criterion)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The export tests (tests/export/run.sh) run node and npm ci.  Checked by command, not by
# package: a host whose nodejs comes from elsewhere bundles npm, and Debian's npm package
# conflicts with it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	missing+=(nodejs npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
elif [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root (sudo make deps)" >&2
	exit 1
else
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# root's PATH has the sbin directories; a user's may not.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
bad=()
for c in "${cmds[@]}"; do
	command -v "${c%%:*}" >/dev/null || bad+=("${c%%:*} (package ${c#*:})")
done
for m in "${mods[@]}"; do
	pkg-config --exists "$m" 2>/dev/null || bad+=("pkg-config module $m")
done
if [ ${#bad[@]} -gt 0 ]; then
	printf 'deps: missing: %s\n' "${bad[@]}" >&2
	exit 1
fi
echo "deps: all ${#cmds[@]} commands and ${#mods[@]} libraries present"
