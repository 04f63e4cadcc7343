# bpfleak: find leaked eBPF file descriptors and the code that made them.
#
#   make            build libbpfleak.so, bpfleak-report, bpfleak, samples
#   make check      run every test (unit + real-kernel integration)
#   make demo       the sample XDP gateway under the shim, then its report
#   make demo-go    the Go sample gateway under bpfleak run, then its report
#   make bench      overhead and scale, measured side by side
#   make install PREFIX=/usr/local DESTDIR= [LIBDIR=$(PREFIX)/lib]
#   make deb        the Debian package, in build/deb/ (dist/build.mk)
#
# Each directory adds its own rules in a build.mk fragment; this file holds
# what they share.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
# libbpfleak.so and the samples go to $(LIBDIR)/bpfleak (the package sets
# LIBDIR=/usr/lib/<multiarch>); bpfleak has that directory compiled in.
LIBDIR    ?= $(PREFIX)/lib
BPFLEAK_LIBDIR = $(LIBDIR)/bpfleak
DESTDIR   ?=
CC        ?= cc
CLANG     ?= clang
B         := build

PKG_CONFIG ?= pkg-config
DEP_PKGS  := libbpf libelf libdw libunwind sqlite3

WARN      := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
CFLAGS    ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Icommon -DBPFLEAK_VERSION=\"$(VERSION)\" \
               -fno-omit-frame-pointer
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_BPF := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf)

.PHONY: all deps check check-unit check-integration install clean demo bench sanitize fuzz stress
.DEFAULT_GOAL := all
# Keep every intermediate (test hosts, objects): they are run, not just linked.
.SECONDARY:

# Every build starts by making sure the Debian packages are there.
$(B)/.deps-ok: scripts/deps.sh
	@sh scripts/deps.sh
	@mkdir -p $(B) && touch $@
deps: $(B)/.deps-ok

$(B)/%/:
	@mkdir -p $@

ALL_TARGETS :=
TEST_BINS   :=
TEST_SCRIPTS :=
INSTALL_RULES :=

include common/build.mk
include preload/build.mk
-include analyzer/build.mk
-include tools/build.mk
-include bpf/build.mk
-include recorder/unwind.mk
-include samples/build.mk
-include samples/gateway-go/build.mk
-include tests/build.mk
-include bench/build.mk
-include tests/hostile/build.mk
-include tests/trust/build.mk
-include tests/report/build.mk
-include fuzz/build.mk
-include man/build.mk
-include dist/build.mk
-include recorder/build.mk

all: $(B)/.deps-ok $(ALL_TARGETS)

# One runner for every test binary and script, so the closing line
# ("N passed, N failed, N skipped") covers the whole suite.
check: all $(TEST_BINS)
	@sh tests/run-tests.sh $(TEST_BINS) $(TEST_SCRIPTS)

# Fragments add their own install-* prerequisites to this target.
install: all

clean:
	rm -rf $(B)
