# Deployment: the Debian package (debian/) and the systemd examples it ships.
#
#   make deb    builds $(B)/deb/bpfleak_$(VERSION)_ARCH.deb with
#               dpkg-buildpackage -us -uc -b on a copy of this tree, then runs
#               lintian on it (scripts/build-deb.sh)
#
# The systemd examples (dist/systemd/*.in) name the installed bpfleak,
# bpfleak-report and libbpfleak.so: $(B)/dist/systemd/ holds them with the
# paths of this PREFIX and LIBDIR filled in.  The package installs those
# under /usr/share/doc/bpfleak/examples/; docs/deploy.md explains them.
SYSTEMD_EXAMPLES := $(patsubst dist/systemd/%.in,$(B)/dist/systemd/%,$(wildcard dist/systemd/*.in))

$(B)/dist/paths.stamp: FORCE-dist-paths
	@mkdir -p $(dir $@)
	@echo '$(PREFIX) $(BPFLEAK_LIBDIR)' | cmp -s - $@ 2>/dev/null || echo '$(PREFIX) $(BPFLEAK_LIBDIR)' > $@
.PHONY: FORCE-dist-paths
FORCE-dist-paths:

$(B)/dist/systemd/%: dist/systemd/%.in $(B)/dist/paths.stamp
	@mkdir -p $(dir $@)
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@PKGLIBDIR@|$(BPFLEAK_LIBDIR)|g' \
	    -e 's|@DOCDIR@|$(PREFIX)/share/doc/bpfleak|g' $< > $@

ALL_TARGETS += $(SYSTEMD_EXAMPLES)

.PHONY: deb
deb: $(B)/.deps-ok
	@sh scripts/deps.sh deb
	@sh scripts/build-deb.sh $(B)/deb $(VERSION)

# systemd-analyze verify on the examples; the package's contents and fields.
# The install test (dpkg -i, dpkg -r) changes the machine: .ci/run runs it.
TEST_SCRIPTS += tests/package/systemd-verify.sh tests/package/deb.sh

# A bpf user for the CAP_BPF-only test (tests/package/capbpf.sh).
$(B)/tests/package/host_capbpf: tests/package/host_capbpf.c tests/lib/host_out.h $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O0 -g -o $@ $< $(LDLIBS_BPF)
TEST_SCRIPTS += tests/package/capbpf.sh
check: $(B)/tests/package/host_capbpf
