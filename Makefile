# SPDX-License-Identifier: MIT
# keyhole: plain GNU make. `make` builds everything into $(B)/; `make test`
# installs missing Debian packages (scripts/deps.sh) and runs every suite.
# Each module's .c files are picked up by wildcard: adding a file adds it to
# the build. See README.md for the targets.

B        ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= /etc
UNITDIR  ?= $(PREFIX)/lib/systemd/system
DOCDIR   ?= $(PREFIX)/share/doc/keyhole
COMPDIR  ?= $(PREFIX)/share/bash-completion/completions
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
# -fcf-protection (CET) exists on x86 only.
CF_PROT := $(if $(filter x86_64% i%86%,$(shell $(CC) -dumpmachine 2>/dev/null)),-fcf-protection=full)
HARDEN = -O2 -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
  $(CF_PROT) -ftrivial-auto-var-init=zero -fzero-call-used-regs=used-gpr \
  -fno-strict-overflow -fno-strict-aliasing -fno-delete-null-pointer-checks -fPIE
LDHARDEN = -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--as-needed
# The strict set applies to the whole tree.
WARN += $(WARN_STRICT)
ifneq ($(WERROR),)
WARN += -Werror
endif
ifneq ($(SAN),)
HARDEN := $(filter-out -O2 -D_FORTIFY_SOURCE=3,$(HARDEN)) -O1 -g -fsanitize=address,undefined \
  -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDHARDEN += -fsanitize=address,undefined
endif

# One version string for keyholed, keyhole and keyhole-shim (--version).
VERSION  := $(shell cat VERSION 2>/dev/null || echo unknown)
KH_VERSION_DEF = -DKH_VERSION=\"$(VERSION)\"

DEFS     = -D_GNU_SOURCE -Icommon -Ikeystore -Iagent -Ishim -Iscan $(KH_VERSION_DEF)
CFLAGS_ALL = $(WARN) $(HARDEN) -g $(DEFS) $(PKG_CFLAGS) $(EXTRA_CFLAGS)

# The shim: static, small, libc only. musl when present, else glibc static-pie.
# KH_LOG_TINY: common/log.c prints through common/fmt.c with write(2), so the
# shim links neither stdio nor printf's float code (the agent and CLI keep
# stdio). The shim itself uses no malloc (shim/mem.c).
MUSL_GCC := $(shell command -v musl-gcc 2>/dev/null)
SHIM_DEFS = -D_GNU_SOURCE -DKH_LOG_TINY $(KH_VERSION_DEF) -Icommon -Ishim
ifneq ($(MUSL_GCC),)
SHIM_CC  = musl-gcc
SHIM_CFLAGS = $(WARN) -Os -fstack-protector-strong -fstack-clash-protection $(CF_PROT) \
  -ftrivial-auto-var-init=zero -fno-strict-overflow -fno-strict-aliasing -ffunction-sections \
  -fdata-sections $(SHIM_DEFS) -fno-asynchronous-unwind-tables -fno-unwind-tables \
  $(EXTRA_CFLAGS)
SHIM_LDFLAGS = -static -Wl,--gc-sections -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -s
else
SHIM_CC  = $(CC)
SHIM_CFLAGS = $(WARN) -Os -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
  $(CF_PROT) -ftrivial-auto-var-init=zero -fPIE $(SHIM_DEFS) $(EXTRA_CFLAGS)
SHIM_LDFLAGS = -static-pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -s
endif

COMMON_SRC   := $(wildcard common/*.c)
KEYSTORE_SRC := $(wildcard keystore/*.c)
AGENT_SRC    := $(filter-out agent/main.c,$(wildcard agent/*.c))
CLI_SRC      := $(wildcard agent/cli/*.c)
SCAN_SRC     := $(wildcard scan/*.c)
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
# The scanner and migrator: the CLI, its suites and its fuzz harness only.
LIBSCAN     = $(B)/libscan.a
LIBS_ALL    = $(LIBAGENT) $(LIBKEYSTORE) $(LIBSHIM) $(LIBCOMMON)
LDLIBS_ALL  = $(PKG_LIBS) $(YAML_LIBS)

BINS = $(B)/keyholed $(B)/keyhole $(B)/keyhole-shim
UNIT_BINS = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
FUZZ_REPLAY = $(patsubst tests/fuzz/%.c,$(B)/fuzz/replay_%,$(FUZZ_SRC))
FUZZ_BINS = $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
TOOL_BINS = $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRC))
STATIC_BINS = $(patsubst tests/static/%.c,$(B)/static/%,$(STATIC_SRC))
BENCH_BINS = $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all deps test check check-asan check-valgrind analyze fuzz fuzz-build bench bench-containers \
	stress demo install uninstall deb clean unit tests-build image format format-check
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BINS)
	@printf 'keyhole-shim: %s bytes (static, stripped, %s)\n' \
	  "$$(stat -c %s $(B)/keyhole-shim)" "$(if $(MUSL_GCC),musl,glibc)"

deps:
	@bash scripts/deps.sh

# A stamp of the flags: objects rebuild when the flags change (make WERROR=1
# after make, SAN=1, EXTRA_CFLAGS=...). Rewritten only when it differs.
FLAGS_NOW := $(CC) $(CFLAGS_ALL) | $(SHIM_CC) $(SHIM_CFLAGS) | $(LDHARDEN) | $(SHIM_LDFLAGS)
FLAGS_STAMP := $(B)/.flags
ifneq ($(file <$(FLAGS_STAMP)),$(FLAGS_NOW))
$(shell mkdir -p $(B))
$(file >$(FLAGS_STAMP),$(FLAGS_NOW))
endif

$(B)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(B)/shimobj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(SHIM_CC) $(SHIM_CFLAGS) -MMD -MP -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(LIBKEYSTORE): $(call obj,$(KEYSTORE_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(LIBAGENT): $(call obj,$(AGENT_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(LIBSCAN): $(call obj,$(SCAN_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
# glibc build of the shim's modules, for its unit tests.
$(LIBSHIM): $(call obj,$(SHIM_LIB_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^

$(B)/keyholed: $(call obj,agent/main.c) $(LIBS_ALL)
	$(CC) $(LDHARDEN) -o $@ $^ $(LDLIBS_ALL)
$(B)/keyhole: $(call obj,$(CLI_SRC)) $(LIBSCAN) $(LIBS_ALL)
	$(CC) $(LDHARDEN) -o $@ $^ $(LDLIBS_ALL)
$(B)/keyhole-shim: $(patsubst %.c,$(B)/shimobj/%.o,$(SHIM_SRC) $(COMMON_SRC))
	$(SHIM_CC) $(SHIM_LDFLAGS) -o $@ $^
# --version is compiled in: a new VERSION rebuilds the file that prints it.
$(B)/shimobj/shim/main.o: VERSION

# Unit suites (Check) link the module archives directly.
$(B)/tests/check_%: $(call obj,tests/unit/check_%.c) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDHARDEN) -o $@ $^ $(LDLIBS_ALL) $(CHECK_LIBS)
SCAN_UNIT_BINS = $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/check_scan*.c \
  tests/unit/check_migrate*.c))
$(SCAN_UNIT_BINS): $(B)/tests/%: $(B)/obj/tests/unit/%.o $(LIBSCAN) $(LIBS_ALL)
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
$(B)/fuzz/replay_fuzz_scan: $(call obj,tests/fuzz/fuzz_scan.c tests/fuzz/replay_main.c) \
  $(LIBSCAN) $(LIBS_ALL)
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

check-asan:
	@$(MAKE) --no-print-directory B=build-asan SAN=1 tests-build
	@B=build-asan bash tests/run.sh unit integration fuzz

check-valgrind:
	@$(MAKE) --no-print-directory tests-build
	@B=$(B) VALGRIND=1 bash tests/run.sh unit

# -fanalyzer over every program source, the shim's (musl) included; no
# -Werror, so every finding is listed. docs/fuzzing.md lists the known ones.
analyze:
	@$(MAKE) --no-print-directory B=build-analyze EXTRA_CFLAGS=-fanalyzer WERROR= all

# libFuzzer builds (clang); FUZZ_SECONDS per harness.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined $(DEFS) $(PKG_CFLAGS)
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(COMMON_SRC) $(KEYSTORE_SRC) $(AGENT_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS_ALL)
$(B)/fuzz/fuzz_scan: tests/fuzz/fuzz_scan.c $(SCAN_SRC) $(COMMON_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS_ALL)
# The shim's reply handling: its own modules, nothing of the agent's.
$(B)/fuzz/fuzz_shim_batch: tests/fuzz/fuzz_shim_batch.c $(COMMON_SRC) shim/batch.c shim/set.c shim/mem.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS_ALL)
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	@B=$(B) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh

bench:
	@$(MAKE) --no-print-directory $(BINS) $(BENCH_BINS) $(TOOL_BINS) $(STATIC_BINS)
	@B=$(B) bash bench/run.sh

# Container start on the private docker/podman labs (~30 min here; separate
# from `make bench`, which stays under 10 min and folds in its last results).
bench-containers:
	@$(MAKE) --no-print-directory $(BINS) $(BENCH_BINS) $(STATIC_BINS)
	@B=$(B) bash bench/containers.sh

stress:
	@$(MAKE) --no-print-directory tests-build
	@B=$(B) STRESS=1 bash tests/run.sh stress

demo: deps
	@$(MAKE) --no-print-directory $(BINS) $(TOOL_BINS) $(STATIC_BINS)
	@B=$(B) bash scripts/demo.sh

# install / uninstall / deb: binaries, man pages (citing DOCDIR), the unit,
# /etc/keyhole/keyholed.conf (never overwritten), logrotate, completion,
# docs and examples. `make deb` packages exactly this tree (scripts/mkdeb.sh).
DOCS = README.md $(wildcard docs/*.md)
EXAMPLES = deploy/policy.example.json deploy/keyholed.service.d/fleet.conf
COMPOSE_EXAMPLES = $(wildcard deploy/compose/*)
SUBST = sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@DOCDIR@|$(DOCDIR)|g'

# OCI image of keyholed + keyhole + keyhole-shim and the shared libraries they
# load, built offline with podman (no base image, no pull): $(B)/image/
# keyholed-$(VERSION).oci.tar, tagged keyhole/keyholed:$(VERSION).
image: deps
	@$(MAKE) --no-print-directory $(BINS)
	@B=$(B) VERSION=$(VERSION) bash scripts/image.sh

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/examples/compose \
	  $(DESTDIR)$(COMPDIR) $(DESTDIR)$(SYSCONFDIR)/keyhole $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 0755 $(B)/keyholed $(DESTDIR)$(PREFIX)/sbin/keyholed
	install -m 0755 $(B)/keyhole $(DESTDIR)$(PREFIX)/bin/keyhole
	install -m 0755 $(B)/keyhole-shim $(DESTDIR)$(PREFIX)/bin/keyhole-shim
	for m in docs/man/*.1; do $(SUBST) $$m > $(DESTDIR)$(PREFIX)/share/man/man1/$${m##*/}; done
	for m in docs/man/*.8; do $(SUBST) $$m > $(DESTDIR)$(PREFIX)/share/man/man8/$${m##*/}; done
	chmod 0644 $(DESTDIR)$(PREFIX)/share/man/man*/keyhole*
	$(SUBST) deploy/keyholed.service > $(DESTDIR)$(UNITDIR)/keyholed.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/keyholed.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/keyhole/keyholed.conf ] || \
	  install -m 0644 deploy/keyholed.conf $(DESTDIR)$(SYSCONFDIR)/keyhole/keyholed.conf
	install -m 0644 deploy/keyhole.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/keyhole
	install -m 0644 deploy/keyhole.bash-completion $(DESTDIR)$(COMPDIR)/keyhole
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 $(filter docs/%,$(DOCS)) $(DESTDIR)$(DOCDIR)/docs/
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 $(COMPOSE_EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/compose/

# Removes what install put in place; keeps keyholed.conf, the policy, the
# store and the key (state and configuration are the admin's).
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/keyholed $(DESTDIR)$(PREFIX)/bin/keyhole \
	  $(DESTDIR)$(PREFIX)/bin/keyhole-shim $(DESTDIR)$(UNITDIR)/keyholed.service \
	  $(DESTDIR)$(SYSCONFDIR)/logrotate.d/keyhole $(DESTDIR)$(COMPDIR)/keyhole \
	  $(patsubst docs/man/%,$(DESTDIR)$(PREFIX)/share/man/man1/%,$(wildcard docs/man/*.1)) \
	  $(patsubst docs/man/%,$(DESTDIR)$(PREFIX)/share/man/man8/%,$(wildcard docs/man/*.8))
	rm -rf $(DESTDIR)$(DOCDIR)

deb: $(BINS)
	@bash scripts/mkdeb.sh $(B) $(B)

# The tree is formatted with .clang-format; CI fails on a file that is not.
format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h') && echo "format: clean"

clean:
	rm -rf build build-asan build-analyze

-include $(shell find $(B)/obj $(B)/shimobj -name '*.d' 2>/dev/null)
