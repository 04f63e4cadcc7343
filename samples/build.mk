# The sample XDP gateway (samples/gateway.c and its parts), its demo and its tests.
#
# The BPF object is embedded with a bpftool skeleton, so the binary needs
# nothing but libbpf at run time.
LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)

# The XDP datapath, compiled for the BPF target (flags from bpf/build.mk).
GATEWAY_BPF_OBJ := $(B)/samples/gateway.bpf.o
$(GATEWAY_BPF_OBJ): samples/gateway.bpf.c samples/gateway.h $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -Isamples -c -o $@ $<

$(B)/samples/gateway.skel.h: $(GATEWAY_BPF_OBJ)
	@mkdir -p $(dir $@)
	$(BPFTOOL) gen skeleton $< name gateway > $@.tmp
	@mv $@.tmp $@

# The loader: main and the two leaks in gateway.c, the rest one job a file
# (samples/loader.h lists them).
GATEWAY_SRCS := samples/gateway.c samples/options.c samples/acl.c samples/acl_apply.c \
                samples/datapath.c samples/probe.c samples/log.c
$(B)/samples/gateway: $(GATEWAY_SRCS) samples/gateway.h samples/loader.h $(B)/samples/gateway.skel.h \
		$(B)/.deps-ok
	$(CC) $(ALL_CFLAGS) $(LIBBPF_CFLAGS) -Isamples -I$(B)/samples -o $@ $(GATEWAY_SRCS) $(LDFLAGS) \
		$(LDLIBS_BPF)

ALL_TARGETS += $(GATEWAY_BPF_OBJ) $(B)/samples/gateway

# The object is embedded in the gateway (a bpftool skeleton); it is also
# installed beside it for users who want to load it with bpftool/xdp-loader.
.PHONY: install-samples
install-samples: $(B)/samples/gateway
	install -d $(DESTDIR)$(BPFLEAK_LIBDIR)/samples
	install -m 0755 $(B)/samples/gateway $(DESTDIR)$(BPFLEAK_LIBDIR)/samples/gateway
	install -m 0644 $(GATEWAY_BPF_OBJ) $(DESTDIR)$(BPFLEAK_LIBDIR)/samples/gateway.bpf.o
install: install-samples

# make demo: the gateway under the shim in a private network namespace,
# then its report.  The report's exit status 1 (leaks found) is the
# expected outcome; demo.sh fails on anything else.
demo: $(B)/.deps-ok all
	@B=$(B) sh samples/demo.sh

# Tests of the sample, bpfleak run and the whole chain (tests/sample/).
TEST_SCRIPTS += tests/sample/gateway-leaks.sh tests/sample/gateway-signals.sh \
	tests/sample/gateway-acl.sh tests/sample/bpfleak-run.sh tests/sample/cli.sh \
	tests/sample/make-demo.sh tests/sample/report-formats.sh tests/sample/report-browser.sh
