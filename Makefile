# SPDX-License-Identifier: MIT
# keyhole: plain GNU make. `make` builds everything into $(B)/; `make test`
# installs missing Debian packages (scripts/deps.sh) and runs every suite.
# Each module's .c files are picked up by wildcard: adding a file adds it to
# the build. See README.md for the targets.

B        ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
SAN      ?=
WERROR   ?=
V        ?=
Q        := $(if $(V),,@)

PKGS     := libsodium jansson libcurl openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
YAML_LIBS  := $(shell pkg-config --libs yaml-0.1 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

WARN = -std=c11 -Wall -Wextra -Wpedantic -Wformat=2 -Wformat-overflow=2 -Wformat-truncation=2 \
  -Wshadow -Wpointer-arith -Wcast-qual -Wcast-align=strict -Wwrite-strings -Wstrict-prototypes \
  -Wold-style-definition -Wmissing-prototypes -Wmissing-declarations -Wredundant-decls \
  -Wswitch-enum -Wimplicit-fallthrough=3 -Wvla -Wundef -Wnull-dereference -Wduplicated-cond \
  -Wduplicated-branches -Wlogical-op -Wstringop-overflow=4 -Warray-bounds=2 -Wbidi-chars=any \
  -Werror=implicit-function-declaration -Werror=incompatible-pointer-types -Werror=int-conversion
WARN_STRICT = -Wconversion -Wsign-conversion
HARDEN = -O2 -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
  -fcf-protection=full -ftrivial-auto-var-init=zero -fzero-call-used-regs=used-gpr \
  -fno-strict-overflow -fno-strict-aliasing -fno-delete-null-pointer-checks -fPIE
LDHARDEN = -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--as-needed
ifneq ($(WERROR),)
WARN += -Werror
endif
ifneq ($(SAN),)
HARDEN := $(filter-out -O2 -D_FORTIFY_SOURCE=3,$(HARDEN)) -O1 -g -fsanitize=address,undefined \
  -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDHARDEN += -fsanitize=address,undefined
endif

DEFS     = -D_GNU_SOURCE -Icommon -Ikeystore -Iagent -Ishim
CFLAGS_ALL = $(WARN) $(HARDEN) -g $(DEFS) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
# Files that parse untrusted bytes also build with -Wconversion.
STRICT_SRC = common/proto.c agent/cgroup.c agent/engine_json.c agent/kubelet_json.c \
  keystore/format.c keystore/seal.c

# The shim: static, small, libc only. musl when present, else glibc static-pie.
MUSL_GCC := $(shell command -v musl-gcc 2>/dev/null)
ifneq ($(MUSL_GCC),)
SHIM_CC  = musl-gcc
SHIM_CFLAGS = $(WARN) -Os -fstack-protector-strong -fstack-clash-protection -fcf-protection=full \
  -ftrivial-auto-var-init=zero -fno-strict-overflow -fno-strict-aliasing -ffunction-sections \
  -fdata-sections -D_GNU_SOURCE -Icommon -Ishim -fno-asynchronous-unwind-tables -fno-unwind-tables
# noseparate-code: no page-aligned padding between headers, text and rodata
# (saves ~8 KiB, keeps the shim under 64 KiB; RELRO and NX stack unchanged).
SHIM_LDFLAGS = -static -Wl,--gc-sections -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack \
  -Wl,-z,noseparate-code -s
else
SHIM_CC  = $(CC)
SHIM_CFLAGS = $(WARN) -Os -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
  -fcf-protection=full -ftrivial-auto-var-init=zero -fPIE -D_GNU_SOURCE -Icommon -Ishim
SHIM_LDFLAGS = -static-pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -s
endif

COMMON_SRC   := $(wildcard common/*.c)
KEYSTORE_SRC := $(wildcard keystore/*.c)
AGENT_SRC    := $(filter-out agent/main.c,$(wildcard agent/*.c))
CLI_SRC      := $(wildcard agent/cli/*.c)
SHIM_SRC     := $(wildcard shim/*.c)
SHIM_LIB_SRC := $(filter-out shim/main.c,$(SHIM_SRC))
STATIC_SRC   := $(wildcard tests/static/*.c)
UNIT_SRC     := $(wildcard tests/unit/check_*.c)
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
TOOL_SRC     := $(wildcard tests/tools/*.c)
BENCH_SRC    := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIBCOMMON   = $(B)/libcommon.a
LIBKEYSTORE = $(B)/libkeystore.a
LIBAGENT    = $(B)/libagent.a
LIBSHIM     = $(B)/libshim.a
LIBS_ALL    = $(LIBAGENT) $(LIBKEYSTORE) $(LIBSHIM) $(LIBCOMMON)
LDLIBS_ALL  = $(PKG_LIBS) $(YAML_LIBS)

BINS = $(B)/keyholed $(B)/keyhole $(B)/keyhole-shim
UNIT_BINS = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
FUZZ_REPLAY = $(patsubst tests/fuzz/%.c,$(B)/fuzz/replay_%,$(FUZZ_SRC))
FUZZ_BINS = $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
TOOL_BINS = $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRC))
STATIC_BINS = $(patsubst tests/static/%.c,$(B)/static/%,$(STATIC_SRC))
BENCH_BINS = $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all deps test check check-asan check-valgrind analyze fuzz fuzz-build bench stress \
	demo install clean unit tests-build image
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BINS)
	@printf 'keyhole-shim: %s bytes (static, stripped, %s)\n' \
	  "$$(stat -c %s $(B)/keyhole-shim)" "$(if $(MUSL_GCC),musl,glibc)"

deps:
	@bash scripts/deps.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) $(if $(filter $<,$(STRICT_SRC)),$(WARN_STRICT)) -MMD -MP -c $< -o $@

$(B)/shimobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(SHIM_CC) $(SHIM_CFLAGS) -MMD -MP -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(LIBKEYSTORE): $(call obj,$(KEYSTORE_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(LIBAGENT): $(call obj,$(AGENT_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
# glibc build of the shim's modules, for its unit tests.
$(LIBSHIM): $(call obj,$(SHIM_LIB_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^

$(B)/keyholed: $(call obj,agent/main.c) $(LIBS_ALL)
	$(CC) $(LDHARDEN) -o $@ $^ $(LDLIBS_ALL)
$(B)/keyhole: $(call obj,$(CLI_SRC)) $(LIBS_ALL)
	$(CC) $(LDHARDEN) -o $@ $^ $(LDLIBS_ALL)
$(B)/keyhole-shim: $(patsubst %.c,$(B)/shimobj/%.o,$(SHIM_SRC) $(COMMON_SRC))
	$(SHIM_CC) $(SHIM_LDFLAGS) -o $@ $^

# Unit suites (Check) link the module archives directly.
$(B)/tests/check_%: $(call obj,tests/unit/check_%.c) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDHARDEN) -o $@ $^ $(LDLIBS_ALL) $(CHECK_LIBS)
# Small helper programs the integration tests drive (raw clients etc.).
$(B)/tools/%: $(call obj,tests/tools/%.c) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDHARDEN) -o $@ $^ $(LDLIBS_ALL)
# Static programs that go into test and demo images (libc only).
$(B)/static/%: $(B)/shimobj/tests/static/%.o $(B)/shimobj/common/io.o
	@mkdir -p $(dir $@)
	$(SHIM_CC) $(SHIM_LDFLAGS) -o $@ $^
# Fuzz harnesses as plain replay binaries (gcc): `make test` replays corpora.
$(B)/fuzz/replay_%: $(call obj,tests/fuzz/%.c tests/fuzz/replay_main.c) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDHARDEN) -o $@ $^ $(LDLIBS_ALL)
$(B)/bench/%: $(call obj,bench/%.c) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDHARDEN) -o $@ $^ $(LDLIBS_ALL) -lm

tests-build: $(BINS) $(UNIT_BINS) $(FUZZ_REPLAY) $(TOOL_BINS) $(STATIC_BINS)

unit: tests-build
	@B=$(B) bash tests/run.sh unit

# The README's test command. Every suite; a final "N passed, N failed" line.
test: deps
	@$(MAKE) --no-print-directory tests-build
	@B=$(B) bash tests/run.sh all

check: test

check-asan: deps
	@$(MAKE) --no-print-directory B=build-asan SAN=1 tests-build
	@B=build-asan bash tests/run.sh unit integration fuzz

check-valgrind: deps
	@$(MAKE) --no-print-directory tests-build
	@B=$(B) VALGRIND=1 bash tests/run.sh unit

analyze:
	@$(MAKE) --no-print-directory B=build-analyze EXTRA_CFLAGS=-fanalyzer $(BINS)

# libFuzzer builds (clang); FUZZ_SECONDS per harness.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined $(DEFS) $(PKG_CFLAGS)
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(COMMON_SRC) $(KEYSTORE_SRC) $(AGENT_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS_ALL)
fuzz-build: deps $(FUZZ_BINS)
fuzz: fuzz-build
	@B=$(B) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh

bench: deps
	@$(MAKE) --no-print-directory $(BINS) $(BENCH_BINS) $(TOOL_BINS) $(STATIC_BINS)
	@B=$(B) bash bench/run.sh

stress: deps
	@$(MAKE) --no-print-directory tests-build
	@B=$(B) STRESS=1 bash tests/run.sh stress

demo: deps
	@$(MAKE) --no-print-directory $(BINS) $(TOOL_BINS) $(STATIC_BINS)
	@B=$(B) bash scripts/demo.sh

# OCI image of keyholed + keyhole + keyhole-shim and the shared libraries they
# load, built offline with podman (no base image, no pull): $(B)/image/
# keyholed-$(VERSION).oci.tar, tagged keyhole/keyholed:$(VERSION).
VERSION  ?= 0.1.0
image: deps
	@$(MAKE) --no-print-directory $(BINS)
	@B=$(B) VERSION=$(VERSION) bash scripts/image.sh

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/keyhole
	install -m 0755 $(B)/keyholed $(DESTDIR)$(PREFIX)/sbin/keyholed
	install -m 0755 $(B)/keyhole $(DESTDIR)$(PREFIX)/bin/keyhole
	install -m 0755 $(B)/keyhole-shim $(DESTDIR)$(PREFIX)/bin/keyhole-shim
	for m in docs/man/*.1; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/ || true; done
	for m in docs/man/*.8; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/ || true; done
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' deploy/keyholed.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/keyholed.service
	install -m 0644 deploy/policy.example.json $(DESTDIR)$(PREFIX)/share/keyhole/policy.example.json

clean:
	rm -rf build build-asan build-analyze

-include $(shell find $(B)/obj $(B)/shimobj -name '*.d' 2>/dev/null)
