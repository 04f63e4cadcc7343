# Real-process regression tests of the trust issues (hangs, crashes, false
# verdicts): host_trust (one binary, a mode per daemon pattern), a host with
# its own getenv, two plugins.  -O0 -g -rdynamic: reports name their lines.
TRUST_DIR   := $(B)/tests/trust
TRUST_HOSTS := $(TRUST_DIR)/host_trust $(TRUST_DIR)/host_getenv \
               $(TRUST_DIR)/plugin_a.so $(TRUST_DIR)/plugin_b.so $(TRUST_DIR)/plugin_ctor.so
TRUST_HOST_SRCS := tests/trust/host_trust.c tests/trust/modes_exit.c tests/trust/modes_spawn.c \
                   tests/trust/modes_fd.c tests/trust/modes_stack.c

$(TRUST_DIR)/host_trust: $(TRUST_HOST_SRCS) tests/trust/host_trust.h $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O0 -g -rdynamic -o $@ $(TRUST_HOST_SRCS) $(LDLIBS_BPF) -luring -lpthread -ldl

$(TRUST_DIR)/host_getenv: tests/trust/host_getenv.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O0 -g -o $@ $< $(LDLIBS_BPF)

$(TRUST_DIR)/plugin_ctor.so: tests/trust/plugin_ctor.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O0 -g -fPIC -shared -o $@ $< $(LDLIBS_BPF)

$(TRUST_DIR)/plugin_%.so: tests/trust/plugin.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O0 -g -fPIC -shared -DPLUGIN_NAME='"tr_plugin_$*"' \
		-DPLUGIN_FN=plugin_$*_create_map -o $@ $< $(LDLIBS_BPF)

TRUST_TESTS := $(sort $(wildcard tests/trust/*.sh))
TRUST_TESTS := $(filter-out tests/trust/lib.sh,$(TRUST_TESTS))
TEST_SCRIPTS += $(TRUST_TESTS)
check: $(TRUST_HOSTS)
ALL_TEST_PROGS += $(TRUST_HOSTS)
