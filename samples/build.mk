# The sample XDP gateway (samples/gateway.c), its demo and its tests.
#
# The BPF object is embedded with a bpftool skeleton, so the binary needs
# nothing but libbpf at run time.
BPFTOOL ?= bpftool
LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)

$(B)/samples/gateway.skel.h: $(GATEWAY_BPF_OBJ)
	@mkdir -p $(dir $@)
	$(BPFTOOL) gen skeleton $< name gateway > $@.tmp
	@mv $@.tmp $@

$(B)/samples/gateway: samples/gateway.c bpf/gateway.h $(B)/samples/gateway.skel.h $(B)/.deps-ok
	$(CC) $(ALL_CFLAGS) $(LIBBPF_CFLAGS) -Ibpf -I$(B)/samples -o $@ $< $(LDFLAGS) $(LDLIBS_BPF)

ALL_TARGETS += $(B)/samples/gateway

.PHONY: install-samples
install-samples: $(B)/samples/gateway
	install -d $(DESTDIR)$(BPFLEAK_LIBDIR)/samples
	install -m 0755 $(B)/samples/gateway $(DESTDIR)$(BPFLEAK_LIBDIR)/samples/gateway
install: install-samples

# make demo: the gateway under the shim in a private network namespace,
# then its report.  The report's exit status 1 (leaks found) is the
# expected outcome; demo.sh fails on anything else.
demo: $(B)/.deps-ok all
	@B=$(B) sh samples/demo.sh

# Tests of the sample, bpfleak run and the whole chain (tests/sample/).
TEST_SCRIPTS += tests/sample/gateway-leaks.sh tests/sample/gateway-signals.sh \
	tests/sample/gateway-acl.sh tests/sample/bpfleak-run.sh tests/sample/cli.sh \
	tests/sample/make-demo.sh
