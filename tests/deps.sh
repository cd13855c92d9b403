#!/usr/bin/env bash
# Installs, with apt-get and only when missing, every Debian package that the build, the
# tests and the end-to-end tests need.  Safe to run again.
set -euo pipefail
pkgs=(
	build-essential pkg-config git
	libmicrohttpd-dev libcjson-dev libnl-3-dev libnl-route-3-dev libip4tc-dev libxtables-dev
	libnftables-dev libcap-dev libcriterion-dev
	clang libclang-rt-14-dev cppcheck valgrind
	iproute2 iptables nftables ipset curl busybox-static procps kmod
	docker.io docker-compose
)
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
	echo "deps: all ${#pkgs[@]} packages present, and node and npm"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root (sudo make deps)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
