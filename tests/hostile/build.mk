# Hostile tests of the shim (real kernel) and of the analyzer (lying input).
#
#   make check          the short variants (about a minute in all)
#   make stress         the long variants: more seeds and operations, more
#                       children, 200 kills, more mass-close runs
#   make sanitize       the thread test against an ASan+UBSan shim, then a
#                       TSan one (sanitize-asan / sanitize-tsan alone);
#                       SAN_CC=gcc by default (see tests/hostile/sanitize.sh)
#
# Test scripts find the build through BPFLEAK_BUILD (exported below for the
# targets that run them), so `make B=/tmp/x check` tests /tmp/x.
HOSTILE_DIR   := $(B)/tests/hostile
HOSTILE_PROGS := $(HOSTILE_DIR)/host_hostile $(HOSTILE_DIR)/host_hostile_alt

# One binary, a mode a file; host_hostile.c (main) first, since the
# variant's padding there moves every function linked after it.
HOSTILE_SRCS := tests/hostile/host_hostile.c tests/hostile/mode_threads.c \
                tests/hostile/mode_forks.c tests/hostile/mode_sigclose.c \
                tests/hostile/mode_closeall.c tests/hostile/mode_killloop.c \
                tests/hostile/mode_highfd.c tests/hostile/mode_plain.c tests/hostile/mode_leak.c

# -O0 -g: the journal-lies test checks file:line of a known call.
$(HOSTILE_DIR)/host_hostile: $(HOSTILE_SRCS) tests/hostile/host_hostile.h $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O0 -g $(EXTRA_CFLAGS) -o $@ $(HOSTILE_SRCS) $(LDLIBS_BPF) -lpthread

# The same program with other code layout and build-id: "a module path
# that is now a different binary".
$(HOSTILE_DIR)/host_hostile_alt: $(HOSTILE_SRCS) tests/hostile/host_hostile.h $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O0 -g $(EXTRA_CFLAGS) -DHOSTILE_VARIANT=1 -o $@ $(HOSTILE_SRCS) \
		$(LDLIBS_BPF) -lpthread

HOSTILE_TESTS := tests/hostile/threads.sh tests/hostile/forks.sh tests/hostile/sigclose.sh \
                 tests/hostile/closeall.sh tests/hostile/sigkill.sh tests/hostile/highfd.sh \
                 tests/hostile/journal-locations.sh tests/hostile/journal-lies.sh
TEST_SCRIPTS += $(HOSTILE_TESTS)
check: $(HOSTILE_PROGS)
check stress: export BPFLEAK_BUILD := $(abspath $(B))

# ---- make stress -----------------------------------------------------------
STRESS_ENV := HOSTILE_SEEDS="1 2 3 4 5 6 7 8 9 10" HOSTILE_OPS=1000000 HOSTILE_TIMEOUT=600 \
              HOSTILE_CHILDREN=200 HOSTILE_KILLS=200 HOSTILE_LOOP_RUNS=30 \
              HOSTILE_SIG_CREATES=200000 BPFLEAK_TEST_LOGS=$(B)/stress-logs
stress: all $(HOSTILE_PROGS)
	@$(STRESS_ENV) sh tests/run-tests.sh $(HOSTILE_TESTS)

# ---- make sanitize ---------------------------------------------------------
SAN_CC   ?= gcc
SAN_ASAN := $(B)/san-asan
SAN_TSAN := $(B)/san-tsan
.PHONY: sanitize-asan sanitize-tsan
sanitize: sanitize-asan sanitize-tsan

sanitize-asan: $(B)/bpfleak-report
	@$(MAKE) --no-print-directory -s B=$(SAN_ASAN) \
		CC="$(SAN_CC) -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		$(SAN_ASAN)/libbpfleak.so $(SAN_ASAN)/tests/hostile/host_hostile
	@sh tests/hostile/sanitize.sh asan $(SAN_ASAN) $(B) $(SAN_CC)

sanitize-tsan: $(B)/bpfleak-report
	@$(MAKE) --no-print-directory -s B=$(SAN_TSAN) CC="$(SAN_CC) -fsanitize=thread" \
		$(SAN_TSAN)/libbpfleak.so $(SAN_TSAN)/tests/hostile/host_hostile
	@sh tests/hostile/sanitize.sh tsan $(SAN_TSAN) $(B) $(SAN_CC)
