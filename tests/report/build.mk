# Tests of the reports made for bug tickets: one entry per call site in
# every format, markdown, HTML with its timeline, escaping of what a
# journal from someone else's machine holds.  The cmocka test drives the
# analyzer in-process (plain and ASan+UBSan builds, as tests/analyzer/
# does); html-chromium.sh renders the HTML in headless Chromium.
REPORT_TEST_HELPERS := tests/analyzer/jbuild.c tests/report/scenarios.c
REPORT_TEST_HDRS := tests/analyzer/jbuild.h tests/report/scenarios.h
REPORT_TEST_FLAGS := $(ANALYZER_CFLAGS) $(ANALYZER_TEST_DEFS) -Ianalyzer -Itests/analyzer -Itests/report
REPORT_TESTS := $(B)/tests/report/test_report_formats
REPORT_ASAN_TESTS := $(B)/asan/tests/report/test_report_formats

$(B)/tests/report/test_%: tests/report/test_%.c $(REPORT_TEST_HELPERS) $(REPORT_TEST_HDRS) \
		$(ANALYZER_LIB) $(COMMON_OBJS) | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O0 $(REPORT_TEST_FLAGS) -o $@ $< $(REPORT_TEST_HELPERS) \
		$(ANALYZER_LIB) $(COMMON_OBJS) $(ANALYZER_LIBS) $(ANALYZER_CMOCKA)

$(B)/asan/tests/report/test_%: tests/report/test_%.c $(REPORT_TEST_HELPERS) $(REPORT_TEST_HDRS) \
		$(ANALYZER_ASAN_LIB) $(ANALYZER_ASAN_COMMON) | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O0 $(ASAN_FLAGS) -DBPFLEAK_ASAN=1 $(REPORT_TEST_FLAGS) -o $@ $< \
		$(REPORT_TEST_HELPERS) $(ANALYZER_ASAN_LIB) $(ANALYZER_ASAN_COMMON) $(ANALYZER_LIBS) \
		$(ANALYZER_CMOCKA)

# The journals html-chromium.sh renders.
$(B)/tests/report/mkjournal: tests/report/mkjournal.c $(REPORT_TEST_HELPERS) $(REPORT_TEST_HDRS) \
		$(ANALYZER_LIB) $(COMMON_OBJS) | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(REPORT_TEST_FLAGS) -o $@ $< $(REPORT_TEST_HELPERS) $(ANALYZER_LIB) \
		$(COMMON_OBJS) $(ANALYZER_LIBS) $(ANALYZER_CMOCKA)

REPORT_SCRIPTS := tests/report/html-chromium.sh
TEST_BINS += $(REPORT_TESTS) $(REPORT_ASAN_TESTS)
TEST_SCRIPTS += $(REPORT_SCRIPTS)
check: $(B)/tests/report/mkjournal

.PHONY: check-report
check-report: $(B)/bpfleak-report $(REPORT_TESTS) $(REPORT_ASAN_TESTS) $(B)/tests/report/mkjournal
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 sh tests/run-tests.sh $(REPORT_TESTS) \
		$(REPORT_ASAN_TESTS) $(REPORT_SCRIPTS)

# docs/report-demo.png, the README's picture: `make demo`'s journal as
# HTML, rendered by the same Chromium step as the tests.
.PHONY: report-screenshot
report-screenshot: $(B)/bpfleak-report
	@test -s $(B)/demo/gateway.db || { echo "run make demo first" >&2; exit 1; }
	$(B)/bpfleak-report --format html $(B)/demo/gateway.db > $(B)/demo/gateway.html || [ $$? = 1 ]
	sh scripts/render-html.sh png $(B)/demo/gateway.html docs/report-demo.png 1100 1240
