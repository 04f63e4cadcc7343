# libbpfleak.so: the LD_PRELOAD recorder, and libbpfleak-journal.so beside it.
#
# Every process the shim is preloaded into loads libbpfleak.so, bpf or not,
# so it links libc alone (docs/overhead.md, figure 8).  What recording
# needs is loaded when recording starts: libunwind with dlopen
# (preload/unwinder.c), and the journal writer with sqlite as
# libbpfleak-journal.so (preload/jwapi.h).  sqlite is linked into that
# module statically with its symbols hidden (--exclude-libs), so a host
# that links its own sqlite keeps it and ours never mixes with it.
SHIM_SRCS := preload/real.c preload/state.c preload/config.c preload/log.c preload/self.c preload/arena.c \
             preload/fdtable.c preload/ownfds.c preload/unwinder.c preload/stack.c preload/sigstack.c \
             preload/objcache.c preload/queue.c preload/modules.c preload/record.c \
             preload/hooks_bpf.c preload/hooks_fd.c preload/hooks_process.c \
             preload/journal.c preload/writer.c preload/writer_requests.c preload/exitsnap.c preload/heldscan.c preload/lifecycle.c preload/interpose.c
SHIM_OBJS := $(SHIM_SRCS:%.c=$(B)/pic/%.o)
# The shim's part of common/: no sqlite (that is the module's), no JSON.
JOURNAL_WRITER_PIC_OBJS := $(B)/pic/common/journal_writer.o $(B)/pic/common/journal_writer_rows.o \
                           $(B)/pic/common/journal_fold.o $(B)/pic/common/journal_fold_pairs.o \
                           $(B)/pic/common/sqlquery.o
SHIM_COMMON_OBJS := $(filter-out $(JOURNAL_WRITER_PIC_OBJS) \
                    $(B)/pic/common/jsonw.o $(B)/pic/common/utf8.o,$(COMMON_PIC_OBJS))
SQLITE_A  := $(shell $(PKG_CONFIG) --variable=libdir sqlite3 2>/dev/null)/libsqlite3.a
# The soname unwinder.c opens: the one -lunwind would link.
UNWIND_SONAME := $(shell objdump -p "$$($(CC) -print-file-name=libunwind.so)" 2>/dev/null | \
                   awk '/SONAME/ { print $$2 }')
$(B)/pic/preload/unwinder.o: EXTRA_CFLAGS += -DBPFLEAK_UNWIND_SONAME=\"$(or $(UNWIND_SONAME),libunwind.so.8)\"

JOURNAL_MODULE := $(B)/libbpfleak-journal.so
JOURNAL_MODULE_OBJS := $(B)/pic/preload/jwmodule.o $(JOURNAL_WRITER_PIC_OBJS) $(SHIM_COMMON_OBJS)

$(JOURNAL_MODULE): $(JOURNAL_MODULE_OBJS)
	$(CC) -shared -fPIC -Wl,-z,now -Wl,-z,relro -Wl,--no-undefined -o $@ $^ \
		-Wl,--exclude-libs,ALL $(SQLITE_A) -lpthread -ldl -lm

# The module comes with the shim: whoever builds one (tests, sanitizer
# builds) gets both.
$(B)/libbpfleak.so: $(B)/pic/preload/jwload.o $(SHIM_OBJS) $(SHIM_COMMON_OBJS) | $(JOURNAL_MODULE)
	$(CC) -shared -fPIC -Wl,-z,now -Wl,-z,relro -Wl,--no-undefined -o $@ \
		$(B)/pic/preload/jwload.o $(SHIM_OBJS) $(SHIM_COMMON_OBJS) -ldl -lpthread

ALL_TARGETS += $(B)/libbpfleak.so $(JOURNAL_MODULE)

.PHONY: install-shim
install: install-shim
install-shim: $(B)/libbpfleak.so $(JOURNAL_MODULE)
	install -d $(DESTDIR)$(BPFLEAK_LIBDIR) $(DESTDIR)$(PREFIX)/include/bpfleak
	install -m 0755 $(B)/libbpfleak.so $(DESTDIR)$(BPFLEAK_LIBDIR)/libbpfleak.so
	install -m 0755 $(JOURNAL_MODULE) $(DESTDIR)$(BPFLEAK_LIBDIR)/libbpfleak-journal.so
	install -m 0644 include/bpfleak/journal.h $(DESTDIR)$(PREFIX)/include/bpfleak/
