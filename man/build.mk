# Man pages: bpfleak(1), bpfleak-report(1), libbpfleak(7).
#
# The sources say @VERSION@, @PREFIX@ and @LIBDIR@; the copies in $(B)/man
# have them filled in and are what `make install` installs (@LIBDIR@ is
# $(BPFLEAK_LIBDIR)).  The stamp rebuilds them when PREFIX or LIBDIR changes.
MAN_PAGES := man/bpfleak.1 man/bpfleak-report.1 man/libbpfleak.7
MAN_OUT   := $(MAN_PAGES:man/%=$(B)/man/%)

$(B)/man/prefix.stamp: FORCE-man-prefix
	@mkdir -p $(dir $@)
	@echo '$(VERSION) $(PREFIX) $(BPFLEAK_LIBDIR)' | cmp -s - $@ 2>/dev/null || \
		echo '$(VERSION) $(PREFIX) $(BPFLEAK_LIBDIR)' > $@
.PHONY: FORCE-man-prefix
FORCE-man-prefix:

$(B)/man/%: man/% $(B)/man/prefix.stamp
	@mkdir -p $(dir $@)
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@PREFIX@|$(PREFIX)|g' \
	    -e 's|@LIBDIR@|$(BPFLEAK_LIBDIR)|g' $< > $@

ALL_TARGETS += $(MAN_OUT)

.PHONY: install-man
install-man: $(MAN_OUT)
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0644 $(B)/man/bpfleak.1 $(B)/man/bpfleak-report.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(B)/man/libbpfleak.7 $(DESTDIR)$(PREFIX)/share/man/man7/
install: install-man
