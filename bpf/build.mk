# The sample gateway's XDP datapath, compiled for the BPF target.
#
# clang -target bpf does not search the multiarch include directory, where
# Debian keeps <asm/types.h> (needed by <linux/bpf.h>): add it by hand.
# (Not `$(CC) -dumpmachine`: clang says x86_64-pc-linux-gnu.)
BPF_ARCH_INC := /usr/include/$(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
BPF_CFLAGS   := -g -O2 -target bpf -Wall -Wextra -Werror -I$(BPF_ARCH_INC) -Ibpf

GATEWAY_BPF_OBJ := $(B)/bpf/gateway.bpf.o

$(GATEWAY_BPF_OBJ): bpf/gateway.bpf.c bpf/gateway.h $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c -o $@ $<

ALL_TARGETS += $(GATEWAY_BPF_OBJ)

# The object is embedded in the gateway (a bpftool skeleton); it is also
# installed beside it for users who want to load it with bpftool/xdp-loader.
.PHONY: install-bpf
install-bpf: $(GATEWAY_BPF_OBJ)
	install -d $(DESTDIR)$(BPFLEAK_LIBDIR)/samples
	install -m 0644 $(GATEWAY_BPF_OBJ) $(DESTDIR)$(BPFLEAK_LIBDIR)/samples/gateway.bpf.o
install: install-bpf
