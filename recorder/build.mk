# The kernel recorder (recorder/): user space of bpf/recorder.bpf.c, linked
# into bpfleak for `bpfleak run --tracer=kernel` and `bpfleak attach`.
#
# The DWARF unwinder and /proc/PID/maps reader come from recorder/unwind.mk
# (UNWIND_OBJS, UNWIND_LIBS), included before this file.
RECORDER_SRCS := recorder/attach.c recorder/choose.c recorder/exec_modules.c recorder/fdmodel.c recorder/finalizer.c recorder/journal_path.c \
                 recorder/kernel_load.c recorder/objects.c recorder/procs.c recorder/records.c \
                 recorder/run.c recorder/session.c recorder/snapshots.c recorder/stackcopy.c recorder/stacks.c \
                 recorder/tracefs.c
RECORDER_UNWIND_OBJS := $(UNWIND_OBJS)
RECORDER_UNWIND_LIBS := $(UNWIND_LIBS)
RECORDER_UNWINDER    := libdw
RECORDER_OBJS := $(RECORDER_SRCS:%.c=$(B)/obj/%.o) $(RECORDER_UNWIND_OBJS)
RECORDER_CFLAGS := -Irecorder -Ibpf -I$(B)/bpf -DBPFLEAK_UNWINDER=\"$(RECORDER_UNWINDER)\"

$(B)/obj/recorder/%.o: recorder/%.c $(B)/bpf/recorder.skel.h $(B)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(RECORDER_CFLAGS) -MMD -MP -c -o $@ $<

# bpfleak links the recorder (tools/build.mk's recipe uses these).
BPFLEAK_LINK_OBJS := $(RECORDER_OBJS) $(COMMON_OBJS)
BPFLEAK_LINK_LIBS := $(LDLIBS_BPF) $(RECORDER_UNWIND_LIBS) \
                     $(shell $(PKG_CONFIG) --libs sqlite3 2>/dev/null || echo -lsqlite3) -lz
$(B)/bpfleak: $(BPFLEAK_LINK_OBJS) recorder/kernel_recorder.h

-include tests/kernel/build.mk
