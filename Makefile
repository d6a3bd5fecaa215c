# nook -- an OCI container runtime.
# `make` builds ./nook; `make check` and `make demo` install their own
# dependencies first (scripts/deps.sh).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
DESTDIR ?=

CC ?= cc
PKGS := libseccomp libcap yajl
VERSION := 0.1.0
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

# CFLAGS is the user's (optimisation, debug info): `make CFLAGS=-O0` replaces
# it.  What the code needs to build at all (-D_GNU_SOURCE, the standard) and
# the warnings every build enforces (-Werror) live in NOOK_CFLAGS, which a
# command-line CFLAGS cannot override away.
CFLAGS ?= -O2 -g
WARN_CFLAGS := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
NOOK_CFLAGS := -pthread -std=gnu11 $(WARN_CFLAGS) -fno-strict-aliasing \
          -D_GNU_SOURCE -DNOOK_VERSION='"$(VERSION)"' -DNOOK_COMMIT='"$(COMMIT)"' \
          $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(NOOK_CFLAGS) $(CFLAGS)
# libseccomp, libcap and yajl are linked from their Debian static archives:
# resolving three more shared libraries at every start cost ~0.7 ms of a
# ~7 ms `run` (docs/benchmarks.md); libc alone stays shared.  DYNAMIC=1
# links everything dynamically.
ifeq ($(DYNAMIC),1)
LDLIBS += -pthread $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lseccomp -lcap -lyajl)
else
LDLIBS += -pthread -Wl,-Bstatic -lseccomp -lcap -lyajl_s -Wl,-Bdynamic
endif

BUILD := build
LIB_SRCS := $(wildcard base/*.c oci/*.c cgroups/*.c net/*.c libcontainer/*.c vmm/*.c)
CLI_SRCS := $(wildcard src/*.c)
SHIM_OBJ := $(BUILD)/libcontainer/shim/blob.o
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(SHIM_OBJ)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
GUEST_SRCS := $(wildcard src/guest/*.c)
GUEST_OBJS := $(GUEST_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
MANPAGES := $(wildcard man/*.8)

all: nook

# nook-guest is the VM mode's guest init (vmm/initramfs.c puts it in the
# initramfs as /nook): the same objects linked -static-pie, so that the
# guest, where every exec is cold and runs under TCG, loads no shared
# library (~25 ms an exec there, docs/design.md "Static archives").  `nook`
# depends on it so the two never come from different builds: the guest
# speaks the host's channel protocol.  The wraps keep glibc's dlopen and NSS
# out (src/guest/static.c).
GUEST_LDFLAGS := -static-pie -Wl,--wrap=dlopen -Wl,--wrap=dlerror -Wl,--wrap=getpwuid
GUEST_LDLIBS := -pthread -lseccomp -lcap -lyajl_s

nook: $(CLI_OBJS) $(BUILD)/libnook.a nook-guest
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libnook.a $(LDLIBS)

nook-guest: $(CLI_OBJS) $(GUEST_OBJS) $(BUILD)/libnook.a
	$(CC) $(LDFLAGS) $(GUEST_LDFLAGS) -o $@ $(CLI_OBJS) $(GUEST_OBJS) $(BUILD)/libnook.a $(GUEST_LDLIBS)

$(BUILD)/libnook.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# The commit is compiled into main.o and features.o only: a stamp that
# changes with it rebuilds those two (otherwise `nook --version` kept the
# commit of the last full build).
COMMIT_STAMP := $(BUILD)/commit
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(COMMIT_STAMP) 2>/dev/null)" = "$(COMMIT)" ] || echo "$(COMMIT)" >$(COMMIT_STAMP); })
$(BUILD)/src/main.o $(BUILD)/oci/features.o: $(COMMIT_STAMP)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The exec shim (libcontainer/shim/exec_shim.c): freestanding, no libc, a
# few hundred bytes of code; its image is linked into nook as data.
SHIM_CFLAGS := -Os -static -nostdlib -ffreestanding -fno-stack-protector -fno-builtin -fno-pie \
               -no-pie -fno-asynchronous-unwind-tables -fno-unwind-tables -Wall -Wextra -Werror \
               -D_GNU_SOURCE -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,noseparate-code -s
# clang calls -no-pie unused when it compiles and links in one step.
SHIM_CFLAGS += $(if $(findstring clang,$(notdir $(CC))),-Qunused-arguments)
$(BUILD)/exec-shim: libcontainer/shim/exec_shim.c libcontainer/sync.h
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -o $@ $<

$(SHIM_OBJ): libcontainer/shim/blob.S $(BUILD)/exec-shim
	@mkdir -p $(dir $@)
	$(CC) -c -Wa,-I$(BUILD) -o $@ $<

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(GUEST_OBJS:.o=.d) $(LIB_SRCS:%.c=$(BUILD)/asan/%.d)

# Unit tests are built with AddressSanitizer and UBSan into their own tree,
# so the parser is exercised under the sanitizers on every `make check`.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -O1 -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB_SRCS:%.c=$(BUILD)/asan/%.o) $(SHIM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -O1 -o $@ $< $(LIB_SRCS:%.c=$(BUILD)/asan/%.o) $(SHIM_OBJ) $(LDLIBS)

# The runtime-spec's sample configs sit beside the checkout (../shared).
NOOK_OCI_SPEC_DIR ?= $(abspath $(CURDIR)/../shared/oci-runtime-spec)
export NOOK_OCI_SPEC_DIR

unit: $(UNIT_BINS)
	@tests/unit/run $(UNIT_BINS)

deps:
	scripts/deps.sh

check: deps
	$(MAKE) nook
	$(MAKE) check-nodeps

check-nodeps: nook format-check check-layers check-clang
	@tests/run-all

# The folders are a stack (docs/design.md, "Layers"): a file includes only
# from its own folder and the folders below it.
check-layers:
	@scripts/check-layers

# A second compiler finds what gcc does not (clang refused a goto past a
# cleanup variable's initialisation that gcc took): every object of nook and
# of the unit tests built with clang, -Werror, in a tree of its own, and nook
# linked there.
CLANG_BUILD := build-clang
check-clang:
	@$(MAKE) --no-print-directory CC=clang BUILD=$(CLANG_BUILD) $(CLANG_BUILD)/nook \
	  $(CLANG_BUILD)/nook-guest \
	  $(UNIT_SRCS:tests/unit/%.c=$(CLANG_BUILD)/unit-obj/%.o)

$(BUILD)/nook: $(CLI_OBJS) $(BUILD)/libnook.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libnook.a $(LDLIBS)

$(BUILD)/nook-guest: $(CLI_OBJS) $(GUEST_OBJS) $(BUILD)/libnook.a
	$(CC) $(LDFLAGS) $(GUEST_LDFLAGS) -o $@ $(CLI_OBJS) $(GUEST_OBJS) $(BUILD)/libnook.a $(GUEST_LDLIBS)

$(BUILD)/unit-obj/%.o: tests/unit/%.c $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

demo: deps
	$(MAKE) nook
	scripts/demo.sh

install: nook
	install -D -m 0755 nook $(DESTDIR)$(BINDIR)/nook
	ln -sfn nook $(DESTDIR)$(BINDIR)/nook-vm
	install -D -m 0755 nook-guest $(DESTDIR)$(LIBEXECDIR)/nook/nook-guest
	install -D -m 0755 scripts/vm-kernel $(DESTDIR)$(LIBEXECDIR)/nook/vm-kernel
	for m in $(MANPAGES); do install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/$$(basename $$m); done
	for p in $(SECCOMP_PROFILES); do install -D -m 0644 $$p $(DESTDIR)$(DATADIR)/nook/seccomp/$$(basename $$p); done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	  $(MAKE) --no-print-directory seccomp-precompile NOOK_BIN=$(BINDIR)/nook; \
	else echo "seccomp profiles not precompiled (DESTDIR set, or not root): run \`make seccomp-precompile' as root on the target"; fi

# The engines' default seccomp profiles (profiles/, captured from the
# engines of this distribution: docs/design.md "Seccomp") and `nook spec`'s,
# compiled into root's host-wide cache, so that not even the first
# container with one of them pays libseccomp's 15-20 ms.  Packages run this
# after installing (a new libseccomp or nook filter format needs it again).
SECCOMP_PROFILES := $(wildcard profiles/*.json)
NOOK_BIN ?= ./nook
seccomp-precompile:
	@d=$$(mktemp -d) && (cd $$d && $(abspath $(NOOK_BIN)) spec) && \
	  $(NOOK_BIN) seccomp-precompile $(SECCOMP_PROFILES) $$d/config.json; s=$$?; rm -rf $$d; exit $$s

# Every C file nook builds or ships, the freestanding exec shim and the
# bench helpers included: the gate checks what format applies.
FORMAT_SRCS = $(LIB_SRCS) $(CLI_SRCS) $(GUEST_SRCS) $(wildcard */*.h libcontainer/shim/*.c tests/unit/*.c \
	      tests/unit/*.h bench/*.c)

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf $(BUILD) $(CLANG_BUILD) nook nook-guest

.SECONDARY:

.PHONY: all unit deps check check-nodeps check-layers check-clang demo install format format-check clean

# Benchmarks against runc and crun (as root): writes docs/benchmarks.md; see bench/run.
.PHONY: bench
bench: nook
	bench/run
