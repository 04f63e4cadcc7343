# Tests of the shim and the shared /proc code.
#
# Unit tests link the shim's objects except lifecycle.o and interpose.o, so
# the test binary neither records itself nor interposes its own close().
# Integration tests run small host programs under LD_PRELOAD=libbpfleak.so
# on the real kernel and check the journal with SQL.
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
TEST_DEFS   := -DBPFLEAK_BUILD_DIR=\"$(abspath $(B))\" -DBPFLEAK_SRC_DIR=\"$(abspath .)\"
SHIM_UNIT_OBJS := $(filter-out $(B)/pic/preload/lifecycle.o $(B)/pic/preload/interpose.o,$(SHIM_OBJS)) \
                  $(B)/pic/preload/jwlinked.o
SHIM_UNIT_LIBS := $(SQLITE_A) -lunwind $(LDLIBS_BPF) $(CMOCKA_LIBS) -lpthread -ldl -lm

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(wildcard tests/unit/test_*.c))
$(B)/tests/unit/%: tests/unit/%.c tests/unit/lifecycle_stub.c $(SHIM_UNIT_OBJS) $(COMMON_PIC_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_DEFS) -Ipreload -rdynamic -o $@ $^ $(SHIM_UNIT_LIBS)

# Programs that run under the shim: -O0 -rdynamic so each can find the
# address range of its own functions with dladdr1 and print it.
INTEG_HOSTS := $(patsubst tests/integration/%.c,$(B)/tests/integration/%,$(wildcard tests/integration/host_*.c))
$(B)/tests/integration/host_%: tests/integration/host_%.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O0 -g -rdynamic $(TEST_DEFS) -o $@ $< $(LDLIBS_BPF) -lpthread -ldl

INTEG_TESTS := $(patsubst tests/integration/%.c,$(B)/tests/integration/%,$(wildcard tests/integration/test_*.c))
$(B)/tests/integration/test_%: tests/integration/test_%.c tests/integration/harness.h $(B)/libbpfleak.so $(INTEG_HOSTS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_DEFS) -Itests/integration -o $@ $< \
		$(shell $(PKG_CONFIG) --libs sqlite3) $(LDLIBS_BPF) $(CMOCKA_LIBS) -lpthread

TEST_BINS += $(UNIT_TESTS) $(INTEG_TESTS)
ALL_TEST_PROGS += $(INTEG_HOSTS)
