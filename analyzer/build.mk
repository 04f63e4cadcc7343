# bpfleak-report: reads a journal, names the call site of every leak.
#
# The analyzer is built as a static archive (everything but main.c) so the
# unit tests in tests/analyzer/ drive the very same code in-process.  A
# second, ASan+UBSan build of archive and tests runs under `make check`
# too (check-analyzer-asan runs only that).
ANALYZER_PKGS   := sqlite3 libdw libelf
ANALYZER_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(ANALYZER_PKGS) 2>/dev/null)
ANALYZER_LIBS   := $(shell $(PKG_CONFIG) --libs $(ANALYZER_PKGS) 2>/dev/null || echo -lsqlite3 -ldw -lelf) \
                   $(LDLIBS_BPF)
ANALYZER_SRCS   := $(filter-out analyzer/main.c,$(wildcard analyzer/*.c))
ANALYZER_OBJS   := $(ANALYZER_SRCS:%.c=$(B)/%.o)
ANALYZER_LIB    := $(B)/analyzer/libanalyzer.a
ANALYZER_CMOCKA := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

$(B)/analyzer/%.o: analyzer/%.c | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ANALYZER_CFLAGS) -Ianalyzer -MMD -MP -c -o $@ $<

$(ANALYZER_LIB): $(ANALYZER_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bpfleak-report: $(B)/analyzer/main.o $(ANALYZER_LIB) $(COMMON_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(ANALYZER_LIBS)

ALL_TARGETS += $(B)/bpfleak-report

# ---- tests -----------------------------------------------------------------
ANALYZER_TEST_DEFS := -DBPFLEAK_BUILD_DIR=\"$(abspath $(B))\" -DBPFLEAK_SRC_DIR=\"$(abspath .)\"
ANALYZER_TEST_SRCS := $(wildcard tests/analyzer/test_*.c)
ANALYZER_TEST_HELPERS := tests/analyzer/jbuild.c
ANALYZER_TESTS := $(ANALYZER_TEST_SRCS:tests/analyzer/%.c=$(B)/tests/analyzer/%)

# -O0 for the symbolization test: it checks lines of its own calls.
$(B)/tests/analyzer/%: tests/analyzer/%.c $(ANALYZER_TEST_HELPERS) tests/analyzer/jbuild.h \
		$(ANALYZER_LIB) $(COMMON_OBJS) | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O0 $(ANALYZER_CFLAGS) $(ANALYZER_TEST_DEFS) -Ianalyzer -Itests/analyzer \
		-o $@ $< $(ANALYZER_TEST_HELPERS) $(ANALYZER_LIB) $(COMMON_OBJS) \
		$(ANALYZER_LIBS) $(ANALYZER_CMOCKA)

# The real-kernel program with one leak of each kind (run by e2e_leaks.sh).
$(B)/tests/analyzer/e2e_leaks: tests/analyzer/e2e_leaks.c | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O0 -g -o $@ $< $(LDLIBS_BPF)

# ---- ASan + UBSan build of the analyzer and its unit tests ------------------
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ANALYZER_ASAN_OBJS := $(ANALYZER_SRCS:%.c=$(B)/asan/%.o)
ANALYZER_ASAN_COMMON := $(COMMON_SRCS:%.c=$(B)/asan/%.o)
ANALYZER_ASAN_LIB := $(B)/asan/analyzer/libanalyzer.a
ANALYZER_ASAN_TESTS := $(ANALYZER_TEST_SRCS:tests/analyzer/%.c=$(B)/asan/tests/analyzer/%)

$(B)/asan/analyzer/%.o: analyzer/%.c | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(ASAN_FLAGS) $(ANALYZER_CFLAGS) -Ianalyzer -MMD -MP -c -o $@ $<

$(B)/asan/common/%.o: common/%.c | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(ASAN_FLAGS) -MMD -MP -c -o $@ $<

$(ANALYZER_ASAN_LIB): $(ANALYZER_ASAN_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/asan/tests/analyzer/%: tests/analyzer/%.c $(ANALYZER_TEST_HELPERS) tests/analyzer/jbuild.h \
		$(ANALYZER_ASAN_LIB) $(ANALYZER_ASAN_COMMON) | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O0 $(ASAN_FLAGS) -DBPFLEAK_ASAN=1 $(ANALYZER_CFLAGS) \
		$(ANALYZER_TEST_DEFS) -Ianalyzer -Itests/analyzer -o $@ $< $(ANALYZER_TEST_HELPERS) \
		$(ANALYZER_ASAN_LIB) $(ANALYZER_ASAN_COMMON) $(ANALYZER_LIBS) $(ANALYZER_CMOCKA)

# The host of the live --pid and read-only journal scripts.
$(B)/tests/analyzer/live_host: tests/analyzer/live_host.c | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 -g -o $@ $< $(LDLIBS_BPF)

ANALYZER_SCRIPTS := tests/analyzer/e2e_leaks.sh tests/analyzer/live-pid.sh tests/analyzer/readonly.sh \
                    tests/analyzer/fold-week.sh tests/golden/golden.sh
TEST_BINS += $(ANALYZER_TESTS) $(ANALYZER_ASAN_TESTS)
TEST_SCRIPTS += $(ANALYZER_SCRIPTS)
check: $(B)/tests/analyzer/e2e_leaks $(B)/tests/analyzer/live_host

.PHONY: check-analyzer check-analyzer-asan install-analyzer
check-analyzer: $(B)/bpfleak-report $(ANALYZER_TESTS) $(B)/tests/analyzer/e2e_leaks \
		$(B)/tests/analyzer/live_host
	@sh tests/run-tests.sh $(ANALYZER_TESTS) $(ANALYZER_SCRIPTS)
check-analyzer-asan: $(ANALYZER_ASAN_TESTS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 sh tests/run-tests.sh $(ANALYZER_ASAN_TESTS)

install: install-analyzer
install-analyzer: $(B)/bpfleak-report
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/bpfleak-report $(DESTDIR)$(PREFIX)/bin/bpfleak-report

# ---- golden reports (tests/golden): fixed journals, expected text and JSON --
$(B)/tests/golden/mkgolden: tests/golden/mkgolden.c $(COMMON_OBJS) | $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ANALYZER_CFLAGS) -o $@ $< $(COMMON_OBJS) $(ANALYZER_LIBS)

check: $(B)/tests/golden/mkgolden
check-analyzer: $(B)/tests/golden/mkgolden
