#!/usr/bin/env bash
# Assembles tiernet's managed-plugin directory offline and creates the plugin from it
# (`make plugin` runs this).  No registry and no image are needed: the rootfs holds the
# binary, exactly the shared libraries `ldd` names, and their loader.
#
# usage: mkplugin.sh BINARY DIR NAME [CONFIG_JSON]
#   BINARY       the tiernet binary (build/tiernet)
#   DIR          the plugin directory to (re)build: DIR/config.json and DIR/rootfs/
#   NAME         the plugin name, with a tag (tiernet:latest)
#   CONFIG_JSON  default packaging/config.json next to this script
# Environment: DOCKER (default /usr/bin/docker if it exists, else docker);
#   PLUGIN_CREATE=0 only assembles DIR; PLUGIN_MKDIRS=0 does not create the default mount
#   sources /var/lib/tiernet and /etc/tiernet on this host.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: mkplugin.sh BINARY DIR NAME [CONFIG_JSON]}
DIR=${2:?usage: mkplugin.sh BINARY DIR NAME [CONFIG_JSON]}
NAME=${3:?usage: mkplugin.sh BINARY DIR NAME [CONFIG_JSON]}
CONFIG=${4:-$HERE/config.json}
if [ -z "${DOCKER:-}" ]; then
	if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
die() { echo "mkplugin: $*" >&2; exit 1; }

case $NAME in
*:*) ;;
*) NAME=$NAME:latest ;;	# dockerd resolves a managed driver only with its tag (PROTOCOL §9)
esac
[ -x "$BIN" ] || die "$BIN is not an executable; run make first"
[ -f "$CONFIG" ] || die "$CONFIG is missing"

# ---- an old plugin of that name is replaced, unless networks use it.  Checked before
# anything is rebuilt, and again just before the old plugin is removed.
in_use() {
	"$DOCKER" plugin inspect "$NAME" >/dev/null 2>&1 &&
		[ "$("$DOCKER" plugin inspect -f '{{.Enabled}}' "$NAME")" = true ] &&
		[ -n "$("$DOCKER" network ls -q --filter "driver=$NAME")" ]
}
refuse_in_use() {
	in_use || return 0
	die "plugin $NAME is enabled and in use by the networks" \
		"$(echo $("$DOCKER" network ls --format '{{.Name}}' --filter "driver=$NAME")):" \
		"remove them first, or build under another name: make plugin PLUGIN_NAME=NAME:TAG"
}
if [ "${PLUGIN_CREATE:-1}" = 1 ]; then
	"$DOCKER" info >/dev/null 2>&1 || die "cannot reach dockerd with $DOCKER"
	refuse_in_use
fi

# ---- the rootfs
rm -rf "$DIR"
mkdir -p "$DIR/rootfs"
ROOT=$DIR/rootfs
install -m 0755 "$BIN" "$ROOT/tiernet"

# `ldd` prints "libX.so.N => /path (0x...)" per library and "/path/ld-linux... (0x...)" for
# the loader; "linux-vdso.so.1 (0x...)" is the kernel's and has no file.
libs=$(ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || die "ldd names no libraries for $BIN (a static binary needs none: fine)"
for lib in $libs; do
	# Same path inside as outside, the file itself rather than its symlink: the loader
	# finds a library by its soname in /lib/<multiarch> or /usr/lib/<multiarch>.
	mkdir -p "$ROOT$(dirname "$lib")"
	cp -L "$lib" "$ROOT$lib"
done
# Every library the binary needs must resolve inside the rootfs alone.
missing=$(for lib in $libs; do
	[ -e "$ROOT$lib" ] || echo "$lib"
done)
[ -z "$missing" ] || die "not copied: $missing"

# Mount targets (runc would create them; listing them documents the layout), and /var/run
# pointing at /run: dockerd names sandboxes /var/run/docker/netns/ID.
mkdir -p "$ROOT/run/docker/plugins" "$ROOT/run/docker/netns" "$ROOT/var/lib/tiernet" \
	"$ROOT/etc/tiernet" "$ROOT/tmp"
chmod 1777 "$ROOT/tmp"
ln -s ../run "$ROOT/var/run"
# What was built, under which name.  It also keeps the rootfs of two plugin names from being
# byte-identical: dockerd refuses a second plugin whose rootfs layer it already stores
# ("content sha256:...: already exists", PROTOCOL §9).
printf 'plugin %s\n%s\n' "$NAME" "$("$BIN" version)" >"$ROOT/.tiernet-plugin"
install -m 0644 "$CONFIG" "$DIR/config.json"
echo "mkplugin: assembled $DIR ($(du -sh "$ROOT" | cut -f1), $(echo "$libs" | wc -w) libraries)"

[ "${PLUGIN_CREATE:-1}" = 1 ] || exit 0

# ---- the plugin
if "$DOCKER" plugin inspect "$NAME" >/dev/null 2>&1; then
	refuse_in_use
	if [ "$("$DOCKER" plugin inspect -f '{{.Enabled}}' "$NAME")" = true ]; then
		"$DOCKER" plugin disable "$NAME" >/dev/null ||
			die "cannot disable the old plugin $NAME; it stays as it is"
	fi
	"$DOCKER" plugin rm "$NAME" >/dev/null || die "cannot remove the old plugin $NAME"
	echo "mkplugin: removed the old plugin $NAME"
fi
"$DOCKER" plugin create "$NAME" "$DIR" >/dev/null || die "docker plugin create $NAME failed"

# Every mount source must exist when the plugin is enabled, or the enable fails ("stat
# /var/lib/tiernet: no such file or directory").  dockerd creates /run/docker/netns only with
# its first container, and /run is emptied at boot: see packaging/tiernet-plugin.tmpfiles.
if [ "${PLUGIN_MKDIRS:-1}" = 1 ]; then
	install -d -m 0700 /var/lib/tiernet
	install -d -m 0755 /etc/tiernet
	[ -d /run/docker/netns ] || install -d -m 0755 /run/docker/netns
fi
cat <<EOF
mkplugin: created the plugin $NAME (disabled).  Next:
  docker plugin enable $NAME
  docker network create -d $NAME -o tier=front --subnet 10.30.1.0/24 front
Settings (before enable): docker plugin set $NAME TIERNET_LOG_LEVEL=debug
  state.source=/var/lib/tiernet config.source=/etc/tiernet
EOF
