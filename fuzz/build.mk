# Fuzzing the analyzer's input handling (libFuzzer, clang).
#
#   make fuzz [FUZZ_SECONDS=20] [FUZZ_TARGETS="fdinfo journal"]
#       builds every harness with clang -fsanitize=fuzzer,address,undefined
#       and runs each for FUZZ_SECONDS (per harness), growing the corpus in
#       $(B)/fuzz/corpus/NAME; prints the exec count of each; fails on a
#       crash, leaving the input in $(B)/fuzz/artifacts/ (copy it into
#       fuzz/regress/NAME/ with the fix: make check replays that directory).
#   make check  replays every seed corpus and fuzz/regress/ through the
#       same harnesses built with $(CC) + ASan (fuzz/replay.sh).
#
# Harnesses (fuzz/fuzz_NAME.c):
#   fdinfo       bpfleak_fdinfo_parse + bpfleak_kind_from_target (common/)
#   mountinfo    bpfleak_mountinfo_bpffs (common/)
#   suppressions suppressions_load + suppressions_match (analyzer/suppress.c)
#   journal      bpfleak-report in-process (report_main) on a journal made of
#                the raw input bytes; seeds: small valid journals (mkseeds)
#   journal_sql  bpfleak-report on a schema-valid journal whose rows the
#                input decides (fuzz/jgen.c): journals that lie
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 20
FUZZ_TARGETS  ?= fdinfo mountinfo suppressions journal journal_sql
FUZZ_DIR      := $(B)/fuzz
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_PKGS     := sqlite3 libdw libelf
FUZZ_PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(FUZZ_PKGS) 2>/dev/null)
FUZZ_LIBS     := $(shell $(PKG_CONFIG) --libs $(FUZZ_PKGS) 2>/dev/null || echo -lsqlite3 -ldw -lelf) \
                 $(LDLIBS_BPF)
FUZZ_DEFS      = -DFUZZ_SMALL_ELF=\"$(abspath $(FUZZ_DIR))/small_elf\"
FUZZ_CFLAGS    = $(BASE_CFLAGS) -O1 -g $(FUZZ_SAN) $(FUZZ_PKG_CFLAGS) -Ianalyzer -Ifuzz $(FUZZ_DEFS)

# What each harness links besides its own file.
FUZZ_AN_SRCS   := $(filter-out analyzer/main.c,$(wildcard analyzer/*.c))
FUZZ_DEPS_fdinfo       := common/fdinfo.c
FUZZ_DEPS_mountinfo    := common/mountinfo.c
FUZZ_DEPS_suppressions := $(FUZZ_AN_SRCS) $(COMMON_SRCS)
FUZZ_DEPS_journal      := $(FUZZ_AN_SRCS) $(COMMON_SRCS)
FUZZ_DEPS_journal_sql  := $(FUZZ_AN_SRCS) $(COMMON_SRCS) fuzz/jgen.c

# ---- libFuzzer builds (clang) ----------------------------------------------
$(FUZZ_DIR)/obj/%.o: %.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

# Explicit rules per harness (no .SECONDEXPANSION: it would reach every
# fragment included after this one).
FUZZ_ALL := fdinfo mountinfo suppressions journal journal_sql
define FUZZ_RULES
$(FUZZ_DIR)/fuzz_$(1): fuzz/fuzz_$(1).c fuzz/fuzz_common.h \
		$(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_DEPS_$(1)))
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -fsanitize=fuzzer -o $$@ $$< $$(filter %.o,$$^) $$(FUZZ_LIBS)

$(FUZZ_DIR)/replay/fuzz_$(1): fuzz/fuzz_$(1).c fuzz/fuzz_common.h fuzz/replay.c \
		$(patsubst %.c,$(FUZZ_DIR)/replay/obj/%.o,$(FUZZ_DEPS_$(1)))
	$$(CC) $$(FUZZ_REPLAY_CFLAGS) -o $$@ $$< fuzz/replay.c $$(filter %.o,$$^) $$(FUZZ_LIBS)
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call FUZZ_RULES,$(t))))

# ---- the same harnesses without libFuzzer, for make check ($(CC) + ASan) -----
FUZZ_REPLAY_CFLAGS = $(BASE_CFLAGS) -O1 -g $(FUZZ_SAN) $(FUZZ_PKG_CFLAGS) -Ianalyzer -Ifuzz \
                     $(FUZZ_DEFS)
$(FUZZ_DIR)/replay/obj/%.o: %.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_REPLAY_CFLAGS) -MMD -MP -c -o $@ $<

# Seed generator and the small ELF the journal seeds point at.
$(FUZZ_DIR)/mkseeds: fuzz/mkseeds.c fuzz/jgen.c fuzz/jgen.h $(COMMON_OBJS) $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 -g -Ifuzz -o $@ fuzz/mkseeds.c fuzz/jgen.c $(COMMON_OBJS) \
		$(LDLIBS_BPF) $(shell $(PKG_CONFIG) --libs sqlite3 2>/dev/null || echo -lsqlite3)

$(FUZZ_DIR)/small_elf: fuzz/small_elf.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -o $@ $<

FUZZ_BINS   := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_REPLAY := $(FUZZ_ALL:%=$(FUZZ_DIR)/replay/fuzz_%)

fuzz: $(FUZZ_BINS) $(FUZZ_DIR)/mkseeds $(FUZZ_DIR)/small_elf
	@sh fuzz/run.sh "$(FUZZ_DIR)" "$(FUZZ_SECONDS)" $(FUZZ_TARGETS)

TEST_SCRIPTS += fuzz/replay.sh
check: $(FUZZ_REPLAY) $(FUZZ_DIR)/mkseeds $(FUZZ_DIR)/small_elf
