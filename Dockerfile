# tiernet's managed-plugin rootfs, for hosts that can reach a registry (debian:bookworm).
#
# NOT BUILDABLE ON THE PROJECT'S BUILD MACHINES: they reach no registry.  There `make plugin`
# assembles the same rootfs offline from the host's own build (packaging/mkplugin.sh is the
# single recipe; this file runs it in a clean build stage).
#
# Stages: "build" installs the -dev packages and builds tiernet; "runtime" holds only the
# binary, the shared libraries it is linked against (ldd), their loader and the mount
# targets: no shell, no package manager.
#
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t tiernet-rootfs .
#   mkdir -p build/plugin/rootfs
#   id=$(docker create tiernet-rootfs) && docker export "$id" | tar -x -C build/plugin/rootfs
#   docker rm "$id"
#   cp packaging/config.json build/plugin/config.json
#   docker plugin create tiernet:latest build/plugin    # then: docker plugin push, enable
#
# The image is a rootfs, not something to `docker run`: the plugin's entrypoint, mounts,
# capabilities and socket are in packaging/config.json.

FROM debian:bookworm AS build
ARG VERSION=unknown
RUN apt-get update \
	&& apt-get install -y --no-install-recommends \
		build-essential pkg-config \
		libmicrohttpd-dev libcjson-dev libnl-3-dev libnl-route-3-dev libip4tc-dev \
		libxtables-dev libnftables-dev libcap-dev libnetfilter-conntrack-dev \
		libnetfilter-log-dev libmnl-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make clean && make VERSION="$VERSION" build/tiernet \
	&& PLUGIN_CREATE=0 packaging/mkplugin.sh build/tiernet /plugin tiernet:latest \
	&& chroot /plugin/rootfs /tiernet version

FROM scratch AS runtime
COPY --from=build /plugin/rootfs/ /
ENTRYPOINT ["/tiernet", "serve", "--socket", "/run/docker/plugins/tiernet.sock", \
	"--state-dir", "/var/lib/tiernet"]
