# The kernel recorder's offline user-stack unwinder (recorder/unwind*.c) and
# /proc/PID/maps module reader (recorder/procmaps.c), and their tests on
# real processes (tests/kernel/test_unwind*.c, test_procmaps.c).
#
# The recorder links $(UNWIND_OBJS) with $(UNWIND_LIBS).
UNWIND_SRCS := recorder/unwind.c recorder/unwind_session.c recorder/unwind_default.c \
               recorder/unwind_fast.c recorder/procmaps.c
UNWIND_OBJS := $(UNWIND_SRCS:%.c=$(B)/obj/%.o)
UNWIND_LIBS := $(shell $(PKG_CONFIG) --libs libdw libelf 2>/dev/null || echo -ldw -lelf) -lpthread

ALL_TARGETS += $(UNWIND_OBJS)

UNWIND_TEST_DIR := $(B)/tests/kernel

# The host the test stops at its bpf() call.  Built as Debian builds libbpf
# and libc: no frame pointers, CFI in .eh_frame only; no sibling calls, so
# the expected chain does not depend on the optimizer's mood.  The
# compiler without the flags a sanitizer build adds to CC: ASan would put
# its own qsort interceptor in the chain.
$(UNWIND_TEST_DIR)/unwind_host: tests/kernel/unwind_host.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(firstword $(CC)) -std=gnu11 $(WARN) -O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls \
		-fasynchronous-unwind-tables -o $@ $< $(LDLIBS_BPF)

# The same in Go, static and with cgo, where a Go toolchain is installed
# (golang-go); without one, the Go cases of the test skip and say why.
GO ?= go
HAVE_GO := $(shell command -v $(GO) >/dev/null 2>&1 && echo yes)
GO_ENV = GO111MODULE=off GOPATH=$(abspath $(B))/gopath GOCACHE=$(abspath $(B))/go-cache \
         GOFLAGS= CC="$(firstword $(CC))"
UNWIND_HOSTS := $(UNWIND_TEST_DIR)/unwind_host
ifeq ($(HAVE_GO),yes)
UNWIND_GO_SRCS := $(wildcard tests/kernel/unwind_host_go/*.go)
$(UNWIND_TEST_DIR)/unwind_host_go: $(UNWIND_GO_SRCS)
	@mkdir -p $(dir $@)
	cd tests/kernel/unwind_host_go && $(GO_ENV) CGO_ENABLED=0 $(GO) build -o $(abspath $@) .
$(UNWIND_TEST_DIR)/unwind_host_go_cgo: $(UNWIND_GO_SRCS)
	@mkdir -p $(dir $@)
	cd tests/kernel/unwind_host_go && $(GO_ENV) CGO_ENABLED=1 $(GO) build -o $(abspath $@) .
UNWIND_HOSTS += $(UNWIND_TEST_DIR)/unwind_host_go $(UNWIND_TEST_DIR)/unwind_host_go_cgo
endif

# Named one by one, not by wildcard: tests/kernel/ is shared with the
# recorder's own tests, which link other things.
UNWIND_TESTS := $(addprefix $(UNWIND_TEST_DIR)/,test_unwind test_procmaps test_unwind_go test_unwind_fuzz)
UNWIND_TESTLIB := tests/kernel/unwind_testlib.c tests/kernel/unwind_testlib.h \
                  tests/kernel/ptrace_capture.h recorder/unwind.h recorder/unwind_session.h recorder/procmaps.h

$(UNWIND_TESTS): $(UNWIND_TEST_DIR)/%: tests/kernel/%.c $(UNWIND_TESTLIB) $(UNWIND_OBJS) \
		$(B)/obj/common/buildid.o | $(UNWIND_HOSTS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_DEFS) -Irecorder -o $@ $< tests/kernel/unwind_testlib.c \
		$(UNWIND_OBJS) $(B)/obj/common/buildid.o $(UNWIND_LIBS) $(CMOCKA_LIBS)

TEST_BINS += $(UNWIND_TESTS)
# Named here too: with .SECONDARY, a host deleted after test_unwind was
# linked would not be remade through the order-only prerequisite alone.
check: $(UNWIND_HOSTS)

# make bench-unwind: the cost of one unwind (the C host's 10-frame stack at
# its bpf() call, through libbpf and libc), over more iterations than check.
.PHONY: bench-unwind
bench-unwind: $(UNWIND_TEST_DIR)/test_unwind $(UNWIND_HOSTS)
	@out=$$(BPFLEAK_TEST_FILTER=test_cost_per_unwind BPFLEAK_UNWIND_BENCH_ITERS=200000 \
		$(UNWIND_TEST_DIR)/test_unwind 2>&1); rc=$$?; \
	printf '%s\n' "$$out" | grep -E '^unwind cost|skip:|FAILED|ERROR'; exit $$rc
