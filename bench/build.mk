# make bench: the shim's overhead and the analyzer's scale, measured side by
# side (docs/overhead.md says how, and has the figures).
#
#   $(B)/bench/bench_loops   the timed loops, run with and without the shim
#   $(B)/bench/gen_journal   a synthetic journal for bpfleak-report
#   $(B)/bench/bench         runs them interleaved, prints the table, writes JSON
#                            (bench.c the driver, harness.c, one figure_*.c a figure)
#
# `make bench` never fails on timing.  `make check` builds the three and runs
# bench/smoke.sh: the whole harness once in --short mode, so it cannot rot.
# BENCH_FLAGS passes options through, e.g. make bench BENCH_FLAGS='--reps 9 --only 1,2'.
# A full run (not --short, --only or --no-peers) rewrites README.md's table
# from bench/results.json (bench/readme_table.py).
BENCH_BINS := $(B)/bench/bench_loops $(B)/bench/gen_journal $(B)/bench/gen_week $(B)/bench/bench
BENCH_FLAGS ?=
# e.g. --before DIR: K1-K3 also traced by DIR/bpfleak (another build), side by side.
BENCH_KERNEL_FLAGS ?=
SQLITE_LIBS := $(shell $(PKG_CONFIG) --libs sqlite3 2>/dev/null || echo -lsqlite3)

$(B)/bench/bench_loops: bench/bench_loops.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS_BPF) -lpthread

# gen_journal writes through the journal writer, linked as a shared object:
# the synthetic stacks point into gen_journal's own code, which must stay the
# generator alone (the writer's code linked in doubles the analyzer's
# symbolizing time and would move figure 5).
GEN_JOURNAL_LIB := $(B)/bench/libgenjournal-writer.so
$(GEN_JOURNAL_LIB): $(COMMON_SRCS) $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -Wl,-soname,$(notdir $@) -o $@ $(COMMON_SRCS) $(LDFLAGS) \
		$(LDLIBS_BPF) $(SQLITE_LIBS)

GEN_MODULES := bench/gen_modules.c bench/gen_modules.h
$(B)/bench/gen_journal: bench/gen_journal.c $(GEN_MODULES) include/bpfleak/journal.h $(GEN_JOURNAL_LIB) $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< bench/gen_modules.c $(GEN_JOURNAL_LIB) -Wl,-rpath,'$$ORIGIN' $(LDFLAGS) $(SQLITE_LIBS)

# A simulated week of churn and a slow leak, folded as the shim folds (figure 9).
$(B)/bench/gen_week: bench/gen_week.c $(GEN_MODULES) include/bpfleak/journal.h $(GEN_JOURNAL_LIB) $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< bench/gen_modules.c $(GEN_JOURNAL_LIB) -Wl,-rpath,'$$ORIGIN' $(LDFLAGS) $(SQLITE_LIBS)

BENCH_SRCS := bench/bench.c bench/harness.c bench/figure_loops.c bench/figure_journal.c \
              bench/figure_analyzer.c bench/figure_rss.c bench/figure_peers.c \
              bench/figure_startup.c bench/figure_week.c
$(B)/bench/bench: $(BENCH_SRCS) bench/bench.h $(B)/obj/common/jsonw.o $(B)/obj/common/utf8.o $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(BENCH_SRCS) $(B)/obj/common/jsonw.o $(B)/obj/common/utf8.o $(LDFLAGS) $(SQLITE_LIBS) -lm

bench: all $(BENCH_BINS) $(B)/bench/bench_kernel
	$(B)/bench/bench --build $(B) --json bench/results.json \
		--label "$$(git describe --always --dirty 2>/dev/null || echo unknown)" $(BENCH_FLAGS)
	python3 bench/readme_table.py bench/results.json README.md
	$(B)/bench/bench_kernel --build $(B) --json bench/results-kernel.json $(BENCH_KERNEL_FLAGS)

# The kernel recorder's figures (bench/bench_kernel.c), in the same run.
BENCH_KERNEL_SRCS := bench/bench_kernel.c bench/bench_kernel_floor.c
$(B)/bench/bench_kernel: $(BENCH_KERNEL_SRCS) bench/bench_kernel_floor.h $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(BENCH_KERNEL_SRCS) $(LDFLAGS) $(LDLIBS_BPF) $(SQLITE_LIBS)

check: $(BENCH_BINS)
TEST_SCRIPTS += bench/smoke.sh
