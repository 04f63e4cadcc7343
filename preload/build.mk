# libbpfleak.so: the LD_PRELOAD recorder.
#
# sqlite is linked statically with its symbols hidden (--exclude-libs), so a
# host that links its own sqlite keeps it and ours never mixes with it.
# libunwind's Debian archive is not PIC, so it stays a shared dependency;
# only unw_backtrace is used.
SHIM_SRCS := preload/real.c preload/state.c preload/config.c preload/log.c preload/self.c preload/arena.c \
             preload/fdtable.c preload/ownfds.c preload/stack.c preload/sigstack.c \
             preload/objcache.c preload/queue.c preload/modules.c preload/record.c \
             preload/hooks_bpf.c preload/hooks_fd.c preload/hooks_process.c \
             preload/journal.c preload/writer.c preload/lifecycle.c preload/interpose.c
SHIM_OBJS := $(SHIM_SRCS:%.c=$(B)/pic/%.o)
SQLITE_A  := $(shell $(PKG_CONFIG) --variable=libdir sqlite3 2>/dev/null)/libsqlite3.a
SHIM_LIBS := -Wl,--exclude-libs,ALL $(SQLITE_A) -lunwind $(LDLIBS_BPF) -lpthread -ldl -lm

$(B)/libbpfleak.so: $(SHIM_OBJS) $(COMMON_PIC_OBJS)
	$(CC) -shared -fPIC -Wl,-z,now -Wl,-z,relro -Wl,--no-undefined -o $@ $^ $(SHIM_LIBS)

ALL_TARGETS += $(B)/libbpfleak.so

.PHONY: install-shim
install: install-shim
install-shim: $(B)/libbpfleak.so
	install -d $(DESTDIR)$(BPFLEAK_LIBDIR) $(DESTDIR)$(PREFIX)/include/bpfleak
	install -m 0755 $(B)/libbpfleak.so $(DESTDIR)$(BPFLEAK_LIBDIR)/libbpfleak.so
	install -m 0644 include/bpfleak/journal.h $(DESTDIR)$(PREFIX)/include/bpfleak/
