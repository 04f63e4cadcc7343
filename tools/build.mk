# bpfleak, the front end: `bpfleak run -- CMD` and `bpfleak report`.
#
# The binary looks for libbpfleak.so beside itself (in-tree: build/), then
# in ../lib/bpfleak/ from itself (a relocated install), then in the install
# directory compiled in here, $(BPFLEAK_LIBDIR) (Makefile).  The stamp holds
# that directory, so changing PREFIX or LIBDIR rebuilds bpfleak.

$(B)/tools/libdir.stamp: FORCE-libdir
	@mkdir -p $(dir $@)
	@echo '$(BPFLEAK_LIBDIR)' | cmp -s - $@ 2>/dev/null || echo '$(BPFLEAK_LIBDIR)' > $@
.PHONY: FORCE-libdir
FORCE-libdir:

# The kernel recorder is linked in (recorder/build.mk sets BPFLEAK_LINK_*).
$(B)/bpfleak: tools/bpfleak.c tools/report_cmd.c tools/front.h $(B)/tools/libdir.stamp $(B)/.deps-ok
	$(CC) $(ALL_CFLAGS) -Irecorder -DBPFLEAK_LIBDIR='"$(BPFLEAK_LIBDIR)"' -o $@ \
		tools/bpfleak.c tools/report_cmd.c \
		$(BPFLEAK_LINK_OBJS) $(LDFLAGS) $(BPFLEAK_LINK_LIBS)

ALL_TARGETS += $(B)/bpfleak

.PHONY: install-tools
install-tools: $(B)/bpfleak
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/bpfleak $(DESTDIR)$(PREFIX)/bin/bpfleak
install: install-tools
