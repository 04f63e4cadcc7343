# Code shared by the recorders, the analyzer and the tools around them: the
# journal writer, /proc and bpffs readers, a JSON writer.
COMMON_SRCS := common/buildid.c common/fdinfo.c common/mountinfo.c common/objinfo.c \
               common/procfs.c common/duration.c common/snapshot.c common/sqlquery.c common/journal_writer.c \
               common/journal_writer_rows.c common/journal_fold.c common/journal_fold_pairs.c common/jsonw.c common/utf8.c
# Built twice: PIC + hidden for the shim, plain for the analyzer and tests.
COMMON_PIC_OBJS := $(COMMON_SRCS:%.c=$(B)/pic/%.o)
COMMON_OBJS     := $(COMMON_SRCS:%.c=$(B)/obj/%.o)

$(B)/pic/%.o: %.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c -o $@ $<

$(B)/obj/%.o: %.c $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(B) -name '*.d' 2>/dev/null)
