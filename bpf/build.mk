# The kernel recorder's BPF programs (bpf/recorder.bpf.c and the bpf/*.bpf.h it
# includes: one object), compiled for the
# BPF target and embedded in bpfleak as a bpftool skeleton.  The sample
# gateway's datapath lives in samples/ and uses the same flags.
#
# clang -target bpf does not search the multiarch include directory, where
# Debian keeps <asm/types.h> (needed by <linux/bpf.h>): add it by hand.
# (Not `$(CC) -dumpmachine`: clang says x86_64-pc-linux-gnu.)
BPF_ARCH_INC := /usr/include/$(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
BPF_CFLAGS   := -g -O2 -target bpf -Wall -Wextra -Werror -I$(BPF_ARCH_INC)
BPFTOOL ?= bpftool
# DWARF is dropped from the embedded object (BTF, which CO-RE needs, stays).
LLVM_STRIP ?= $(shell command -v llvm-strip 2>/dev/null || echo true)

# vmlinux.h comes from the running kernel's BTF at build time (CO-RE makes
# the object portable); it is never committed.
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
$(B)/bpf/vmlinux.h: $(B)/.deps-ok
	@mkdir -p $(dir $@)
	@test -r $(VMLINUX_BTF) || { echo "bpf: $(VMLINUX_BTF) is missing: the kernel recorder needs a kernel with BTF" >&2; exit 1; }
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp
	@mv $@.tmp $@

RECORDER_BPF_OBJ := $(B)/bpf/recorder.bpf.o
$(RECORDER_BPF_OBJ): bpf/recorder.bpf.c $(wildcard bpf/*.bpf.h) bpf/recorder.h $(B)/bpf/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -mcpu=v3 -D__TARGET_ARCH_x86 -I$(B)/bpf -Ibpf -c -o $@ $<
	$(LLVM_STRIP) -g $@

$(B)/bpf/recorder.skel.h: $(RECORDER_BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name recorder_bpf > $@.tmp
	@mv $@.tmp $@
