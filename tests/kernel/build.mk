# The kernel recorder's tests (tests/kernel/*.sh) and the programs they run.
# The hosts make their bpf calls with raw `syscall` instructions and keep
# frame pointers, so the kernel's frame-pointer walk names their lines with
# or without the DWARF unwinder; kr_raw is static as well (the shim cannot
# load into it, `--tracer=auto` must pick the kernel recorder).
KR_DIR   := $(B)/tests/kernel
KR_HOSTS := $(KR_DIR)/kr_raw $(KR_DIR)/kr_forkexec $(KR_DIR)/kr_attach $(KR_DIR)/kr_deep
KR_HOST_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -O0 -g -fno-omit-frame-pointer

$(KR_DIR)/kr_raw: tests/kernel/kr_raw.c tests/kernel/rawsys.h $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(firstword $(CC)) $(KR_HOST_CFLAGS) -static -o $@ $<

$(KR_DIR)/kr_%: tests/kernel/kr_%.c tests/kernel/rawsys.h $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(firstword $(CC)) $(KR_HOST_CFLAGS) -o $@ $<

KR_TESTS := tests/kernel/kernel-vs-shim.sh tests/kernel/raw-syscalls.sh \
            tests/kernel/fork-exec.sh tests/kernel/attach.sh tests/kernel/drops.sh \
            tests/kernel/cli.sh tests/kernel/container.sh tests/kernel/bench-smoke.sh \
            tests/kernel/go-leaks.sh tests/kernel/stack-copy.sh
TEST_SCRIPTS += $(KR_TESTS)
check: $(KR_HOSTS) $(B)/tests/analyzer/e2e_leaks $(B)/bench/bench_kernel

# make check-kernel: these tests alone.
.PHONY: check-kernel
check-kernel: all $(KR_HOSTS) $(B)/tests/analyzer/e2e_leaks $(B)/bench/bench_kernel $(B)/bench/bench_loops
	@sh tests/run-tests.sh $(KR_TESTS)
