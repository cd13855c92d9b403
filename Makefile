# tiernet: a Docker network plugin.  `make` builds build/tiernet; see README.md.
PREFIX     ?= /usr/local
DESTDIR    ?=
PKG_CONFIG ?= pkg-config
CC         ?= cc

PKGS       := libmicrohttpd libcjson libnl-3.0 libnl-route-3.0 libip4tc libnftables libipset libcap
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CRIT_LIBS  := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-Wmissing-declarations -Wshadow -Wpointer-arith -Wcast-qual -Wsign-compare \
	-Wformat=2 -Wformat-security -Wformat-nonliteral -Wvla
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
BASE_CFLAGS := -std=gnu11 -g $(WARN) -I. $(PKG_CFLAGS) -DTIERNET_VERSION='"$(VERSION)"' \
	-D_GNU_SOURCE -MMD -MP
CFLAGS  ?= -O2
ASAN_FLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SRCS      := $(wildcard plugin/*.c driver/*.c policy/*.c config/*.c)
LIB_SRCS  := $(filter-out plugin/main.c,$(SRCS))
TEST_SRCS := $(wildcard tests/unit/*.c)

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

.PHONY: all asan check unit unit-asan integration e2e test run deps bench clean install uninstall
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
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(CRIT_LIBS) -lpthread

build/asan/unit: $(ATEST_OBJS) $(ASAN_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS) $(CRIT_LIBS) -lpthread

# Unit tests need no root and touch no kernel state.
unit: build/unit
	build/unit
unit-asan: build/asan/unit
	ASAN_OPTIONS=detect_leaks=1 build/asan/unit
check: unit unit-asan

# Root only: private network namespaces, no Docker.  The sanitizer build runs them too.
integration: build/tiernet build/asan/tiernet build/fw-roundtrip build/asan/fw-roundtrip
	tests/run-integration.sh build/tiernet build/asan/tiernet

# Root only: a real dockerd (started by the script when none runs).
e2e: build/tiernet
	tests/run-e2e.sh build/tiernet

# The whole suite; README's test command.  Prints one "N passed, N failed" line at the end.
test: all asan build/unit build/asan/unit build/fw-roundtrip build/asan/fw-roundtrip
	tests/run-all.sh

run: build/tiernet
	build/tiernet serve

deps:
	tests/deps.sh

clean:
	rm -rf build

install: build/tiernet
	install -v -d $(DESTDIR)$(PREFIX)/sbin
	install -v -m 0755 build/tiernet $(DESTDIR)$(PREFIX)/sbin/tiernet

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/tiernet

-include $(shell find build -name '*.d' 2>/dev/null)

# Root only, in a fresh network namespace: tests/integration/fw-roundtrip.sh runs it.
build/fw-roundtrip: build/obj/tests/integration/fw_roundtrip.o $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

build/asan/fw-roundtrip: build/asan/obj/tests/integration/fw_roundtrip.o $(ASAN_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS) -lpthread
