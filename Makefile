# tiernet: a Docker network plugin.  `make` builds build/tiernet; see README.md.
PREFIX     ?= /usr/local
DESTDIR    ?=
PKG_CONFIG ?= pkg-config
CC         ?= cc

PKGS       := libmicrohttpd libcjson libnl-3.0 libnl-route-3.0 libip4tc libip6tc libnftables libcap \
	libnetfilter_conntrack libnetfilter_log libmnl
# ldns only in the tests: the oracle that reads tiernet's DNS answers back (dns/msg.c)
TEST_PKGS  := ldns
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) $(TEST_PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_LIBS  := $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)
CRIT_LIBS  := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-Wmissing-declarations -Wshadow -Wpointer-arith -Wcast-qual -Wsign-compare \
	-Wformat=2 -Wformat-security -Wformat-nonliteral -Wvla
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
BASE_CFLAGS := -std=gnu11 -g $(WARN) -I. $(PKG_CFLAGS) -DTIERNET_VERSION='"$(VERSION)"' \
	-D_GNU_SOURCE -MMD -MP
CFLAGS  ?= -O2
ASAN_FLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SRCS      := $(wildcard lib/*.c plugin/*.c driver/*.c policy/*.c config/*.c dns/*.c)
LIB_SRCS  := $(filter-out plugin/main.c,$(SRCS))
TEST_SRCS := $(wildcard tests/unit/*.c) tests/golden/nets.c

OBJS       := $(SRCS:%.c=build/obj/%.o)
LIB_OBJS   := $(LIB_SRCS:%.c=build/obj/%.o)
ASAN_OBJS  := $(SRCS:%.c=build/asan/obj/%.o)
ASAN_LIB   := $(LIB_SRCS:%.c=build/asan/obj/%.o)
TEST_OBJS  := $(TEST_SRCS:%.c=build/obj/%.o)
ATEST_OBJS := $(TEST_SRCS:%.c=build/asan/obj/%.o)

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all asan check unit unit-asan integration e2e test run deps freshdeps bench clean install \
	uninstall export-test soak
all: build/tiernet

build/tiernet: $(OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

build/asan/tiernet: $(ASAN_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

asan: build/asan/tiernet

build/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(BASE_CFLAGS) -Wno-missing-prototypes -Wno-missing-declarations -c -o $@ $<

build/asan/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (asan)"
	$(Q)$(CC) $(ASAN_FLAGS) $(BASE_CFLAGS) -Wno-missing-prototypes -Wno-missing-declarations -c -o $@ $<

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(BASE_CFLAGS) -c -o $@ $<

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (asan)"
	$(Q)$(CC) $(ASAN_FLAGS) $(BASE_CFLAGS) -c -o $@ $<

build/unit: $(TEST_OBJS) $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) $(CRIT_LIBS) -lpthread

build/asan/unit: $(ATEST_OBJS) $(ASAN_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) $(CRIT_LIBS) -lpthread

# Unit tests need no root and touch no kernel state.
unit: build/unit
	build/unit
# LeakSanitizer on; any sanitizer report of any test process fails (tests/run-unit-asan.sh).
unit-asan: build/asan/unit
	tests/run-unit-asan.sh build/asan/unit
check: unit unit-asan

# Root only: private network namespaces, no Docker.  The sanitizer build runs them too.
integration: build/tiernet build/asan/tiernet build/fw-roundtrip build/asan/fw-roundtrip \
	build/fault.so
	tests/run-integration.sh build/tiernet build/asan/tiernet

# Failure injection for tests/integration/robust.sh (LD_PRELOAD; see tests/fault/fault.c).
build/fault.so: tests/fault/fault.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (shared)"
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) -shared -fPIC -o $@ $< -ldl -lpthread

# Root only: the soak test (tests/integration/soak.sh) for SOAK_SECONDS (default 60) seconds:
# random calls from several clients, SIGHUP and kill -9 against one daemon, the kernel, the
# state and the enforced matrix checked after every restart.  SOAK_SEED repeats a run's
# choices.
SOAK_SECONDS ?= 60
soak: build/tiernet
	SOAK_SECONDS=$(SOAK_SECONDS) tests/integration/soak.sh build/tiernet

# Root only: a real dockerd (started by the script when none runs).
e2e: build/tiernet
	tests/run-e2e.sh build/tiernet

# The whole suite; README's test command.  Prints one "N passed, N failed" line at the end.
test: all asan build/unit build/asan/unit build/fw-roundtrip build/asan/fw-roundtrip \
	build/k8s-matrix build/fault.so
	tests/run-all.sh

run: build/tiernet
	build/tiernet serve

deps:
	tests/deps.sh

# Root, network access to the Debian mirror, about 3 minutes: `make deps` on a minimal
# Debian 12 (debootstrap) installs all the build and the tests need (tests/freshdeps.sh).
freshdeps:
	tests/freshdeps.sh

clean:
	rm -rf build

# ---- install, uninstall, the managed plugin (README "Install")
# make install [PREFIX=/usr/local] [DESTDIR=]: the binary in PREFIX/sbin, the man page in
# PREFIX/share/man/man8, the systemd unit in PREFIX/lib/systemd/system (/lib/systemd/system
# when PREFIX=/usr, Debian's place), and /etc/tiernet/tiernet.conf (the embedded default
# policy; an existing file is never overwritten).  The config path is /etc whatever PREFIX
# is: the daemon reads /etc/tiernet/tiernet.conf by default.
SBINDIR    := $(PREFIX)/sbin
MAN8DIR    := $(PREFIX)/share/man/man8
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib,$(PREFIX)/lib)/systemd/system
CONFDIR    := /etc/tiernet
STATEDIR   := /var/lib/tiernet

.PHONY: plugin plugin-rootfs
install: build/tiernet packaging/tiernet.service doc/tiernet.8
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MAN8DIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 build/tiernet $(DESTDIR)$(SBINDIR)/tiernet
	install -m 0644 doc/tiernet.8 $(DESTDIR)$(MAN8DIR)/tiernet.8
	sed 's|/usr/local/sbin/tiernet|$(SBINDIR)/tiernet|g' packaging/tiernet.service \
		>$(DESTDIR)$(UNITDIR)/tiernet.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/tiernet.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/tiernet.service.tmp $(DESTDIR)$(UNITDIR)/tiernet.service
	install -d -m 0755 $(DESTDIR)$(CONFDIR)
	@f=$(DESTDIR)$(CONFDIR)/tiernet.conf; \
	if [ -e $$f ]; then \
		echo "kept $$f (it exists)"; \
	elif build/tiernet check --print-default >$$f.tmp && chmod 0644 $$f.tmp && \
		mv $$f.tmp $$f; then \
		echo "installed $$f (the default policy)"; \
	else \
		rm -f $$f.tmp; exit 1; \
	fi
	install -d -m 0700 $(DESTDIR)$(STATEDIR)

# Removes what install added: the policy file only while it is still the default policy,
# the state directory only when empty (what is persisted there belongs to live containers).
uninstall:
	@f=$(DESTDIR)$(CONFDIR)/tiernet.conf; def=$$(mktemp); \
	for b in $(DESTDIR)$(SBINDIR)/tiernet build/tiernet; do \
		[ -x $$b ] && $$b check --print-default >$$def && break; \
	done; \
	if [ -e $$f ] && ! { [ -s $$def ] && cmp -s $$def $$f; }; then \
		echo "kept $$f (changed from the default policy)"; \
	else \
		rm -f $$f; rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true; \
	fi; \
	rm -f $$def
	rm -f $(DESTDIR)$(SBINDIR)/tiernet $(DESTDIR)$(MAN8DIR)/tiernet.8 \
		$(DESTDIR)$(UNITDIR)/tiernet.service
	@rmdir $(DESTDIR)$(STATEDIR) 2>/dev/null || true

# make plugin [PLUGIN_NAME=tiernet:latest]: the managed plugin, assembled offline in
# PLUGIN_DIR (binary, the libraries ldd names, their loader, config.json) and created with
# `docker plugin create` (an old plugin of that name is replaced unless networks use it).
# make plugin-rootfs only assembles PLUGIN_DIR.
PLUGIN_NAME ?= tiernet:latest
PLUGIN_DIR  ?= build/plugin
PLUGIN_BIN  ?= build/tiernet
plugin: $(PLUGIN_BIN)
	packaging/mkplugin.sh $(PLUGIN_BIN) $(PLUGIN_DIR) $(PLUGIN_NAME)

plugin-rootfs: $(PLUGIN_BIN)
	PLUGIN_CREATE=0 packaging/mkplugin.sh $(PLUGIN_BIN) $(PLUGIN_DIR) $(PLUGIN_NAME)

-include $(shell find build -name '*.d' 2>/dev/null)

# Root only, in a fresh network namespace: tests/integration/fw-roundtrip.sh runs it.
# --wrap=iptc_commit: the race test counts the commits that met a replaced table and retried.
build/fw-roundtrip: build/obj/tests/integration/fw_roundtrip.o build/obj/tests/golden/nets.o $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -Wl,--wrap=iptc_commit -o $@ $^ $(PKG_LIBS) -lpthread

build/asan/fw-roundtrip: build/asan/obj/tests/integration/fw_roundtrip.o \
	build/asan/obj/tests/golden/nets.o $(ASAN_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) -Wl,--wrap=iptc_commit -o $@ $^ $(PKG_LIBS) -lpthread

# ---- Hardening: fuzzing (tests/fuzz), static analysis (tests/analyze); README "Hardening" ----
# libFuzzer harnesses, one per input tiernet parses, linked against the product objects built
# with clang, ASan and UBSan into build/fuzz/.  `make fuzz` runs each FUZZ_SECONDS seconds,
# `make fuzz-smoke` 5 s each (the test command).  Needs clang and libclang-rt-14-dev.
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_CFLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
FUZZ_NAMES    := create_network create_endpoint join pec ids policy state admin export dns engine denyrec
FUZZ_BINS     := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=build/fuzz/obj/%.o)
# fuzz_admin: the same without the kernel layer, which tests/fuzz/stub_kernel.c replaces.
FUZZ_KERNEL   := build/fuzz/obj/driver/link.o build/fuzz/obj/driver/nfgen.o build/fuzz/obj/policy/nft.o build/fuzz/obj/policy/ct.o \
	build/fuzz/obj/policy/nft_nat.o \
	$(patsubst %.c,build/fuzz/obj/%.o,$(wildcard policy/xt_*.c policy/xt6_*.c))

.PHONY: fuzz fuzz-build fuzz-smoke analyze
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-smoke: fuzz-build
	tests/fuzz/run.sh 5 $(FUZZ_NAMES)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(BASE_CFLAGS) -Wno-error -c -o $@ $<

# Archives, so that a harness pulls in only the objects it needs.
build/fuzz/libtiernet.a: $(FUZZ_LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

build/fuzz/libtiernet-nokernel.a: $(filter-out $(FUZZ_KERNEL),$(FUZZ_LIB_OBJS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# The harness objects are intermediate files of the pattern rule below: keep them.
.SECONDARY: $(FUZZ_NAMES:%=build/fuzz/obj/tests/fuzz/fuzz_%.o)
build/fuzz/fuzz_admin: build/fuzz/obj/tests/fuzz/fuzz_admin.o \
	build/fuzz/obj/tests/fuzz/stub_kernel.o build/fuzz/libtiernet-nokernel.a
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lpthread

build/fuzz/fuzz_%: build/fuzz/obj/tests/fuzz/fuzz_%.o build/fuzz/libtiernet.a
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lpthread

# cppcheck and clang-tidy over the product code; fails on any finding that is not suppressed
# with its reason in tests/analyze/.
analyze:
	PKG_CFLAGS='$(PKG_CFLAGS)' tests/analyze/run.sh

# Benchmarks (root; a real dockerd, started when none runs): one table, each figure against
# an anchor measured in the same run; saved to build/bench.txt.  They report, never fail.
build/bench/sockcall: tests/bench/sockcall.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) -o $@ $< -lpthread

# Static: it runs inside the busybox image through a bind mount.
build/bench/dnsbench: tests/bench/dnsbench.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (static)"
	$(Q)$(CC) -std=gnu11 -O2 -static $(WARN) -o $@ $<

build/bench/udpflood: tests/bench/udpflood.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (static)"
	$(Q)$(CC) -std=gnu11 -O2 -static $(WARN) -o $@ $<

bench: build/tiernet build/bench/sockcall build/bench/udpflood build/bench/dnsbench
	tests/bench/run.sh build/tiernet build/bench

# ---- tiernet export kubernetes (README "More than one host"): no root, no kernel.
# build/k8s-matrix prints the matrix the compiled rules enforce for a policy file;
# tests/export/run.sh installs the npm packages of tests/export/package-lock.json into
# build/export (npm ci), then checks every golden export against the Kubernetes API schema
# and against that matrix.
build/k8s-matrix: build/obj/tests/export/matrix.o $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

export-test: build/tiernet build/k8s-matrix
	tests/export/run.sh
