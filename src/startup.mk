# Included by the Makefile: STARTUP_PROGS (the programs that run once per
# connection in front of the service) linked static on musl.  musl-gcc's
# start-up is close to that of a program with no libc at all (about 150
# us against 460 for static glibc and 550 for dynamic glibc, on the VM
# where bench/RESULTS.md was measured).
#
# tinycdb: Debian ships only a glibc build of libcdb.a.  Its undefined
# symbols (nm -u) are memcmp, memcpy, memmove, malloc, free, read, write,
# munmap, mmap64, lseek64, __errno_location, __stack_chk_fail,
# __assert_fail and __fxstat64: musl defines every one of them with
# glibc's calling convention (the last three as its glibc-compatibility
# symbols; struct stat is the kernel's on x86-64 in both), so the same
# archive links soundly.  A libcdb.a that needed anything else would fail
# the link, loudly.

MUSL_CC := $(shell command -v musl-gcc 2>/dev/null)
ifeq ($(STATIC),)
MUSL_WHY_NOT = not a static build
else ifeq ($(MUSL_CC),)
MUSL_WHY_NOT = musl-gcc is missing (Debian package musl-tools, make deps installs it), so they start about 3 times slower
endif
ifeq ($(MUSL_WHY_NOT),)
MUSL_PROGS := $(filter $(STARTUP_PROGS),$(PROGS))
endif
# The one line of a build without musl, when one of them is linked.
MUSL_FALLBACK_NOTE = $(if $(filter $*,$(STARTUP_PROGS)),@echo "make: $* linked with glibc: $(MUSL_WHY_NOT)")

MB = $(B)/musl
MUSL_COMPILE = $(MUSL_CC) $(wordlist 2,999,$(CONF_CC)) -I$(MB)/include $(EXTRA_CFLAGS) $(WERROR) -DVERSION='"$(VERSION)"'
MUSL_LINK = $(MUSL_CC) $(filter-out $(if $(filter 1,$(NOSTRIP)),-s),$(wordlist 2,999,$(CONF_LD))) -static $(EXTRA_LDFLAGS)
# The library modules they use (a module missing here is an undefined
# reference at link time).
MUSL_LIB := addr errtext fd msg num opts pathexec ruleparse rules rulesdb
MUSL_LIBOBJ := $(patsubst %,$(MB)/obj/lib/%.o,$(MUSL_LIB))

# musl-gcc sees musl's headers only; cdb.h is linked in from where the
# build's own compiler finds it (tinycdb's header is libc-neutral).
$(MB)/include/cdb.h: | $(B)/.cdb-ok
	@mkdir -p $(dir $@)
	ln -sf "$$(printf '\043include <cdb.h>\n' | $(COMPILE) -M -x c - | tr ' \\' '\n\n' | grep '/cdb\.h$$' | head -n 1)" $@

$(MB)/obj/%.o: src/%.c src/lib/*.h $(B)/.flags $(MB)/include/cdb.h
	@mkdir -p $(dir $@)
	$(MUSL_COMPILE) -c -o $@ $<

$(MB)/libucspi.a: $(MUSL_LIBOBJ)
	rm -f $@
	ar rcs $@ $^

$(addprefix $(B)/,$(MUSL_PROGS)): $(B)/%: $(MB)/obj/%.o $(MB)/libucspi.a $(B)/.flags
	$(MUSL_LINK) -o $@ $< $(MB)/libucspi.a "$$($(firstword $(COMPILE)) -print-file-name=libcdb.a)"

# PRESTART_PROGS: static, entered at prestart_entry (src/lib/prestart.h),
# on x86-64 only.  The start before libc is compiled so that it calls
# nothing (no stack protector, no sanitizer, no loop turned into a
# memcpy call), and the object is checked for it.
ifneq ($(STATIC),)
ifneq ($(filter x86_64-%,$(shell $(firstword $(COMPILE)) -dumpmachine 2>/dev/null)),)
PRESTART_ON := $(filter $(PRESTART_PROGS),$(PROGS))
endif
endif
PRESTART_OBJ := $(B)/obj/lib/prestart.o $(B)/obj/lib/rblstart.o
PRESTART_CFLAGS := -fno-builtin -fno-stack-protector -fno-sanitize=all \
	$(if $(findstring clang,$(shell $(firstword $(COMPILE)) --version 2>/dev/null | head -n 1)),,-fno-tree-loop-distribute-patterns)
$(PRESTART_OBJ): COMPILE += $(PRESTART_CFLAGS)

$(addprefix $(B)/,$(PRESTART_ON)): $(B)/%: $(B)/obj/%.o $(B)/libucspi.a $(B)/.flags
	@bad=$$(nm -u $(PRESTART_OBJ) | awk 'NF == 2 { print $$2 }' | grep -vx -e _start -e prestart_program -e prestart_getenv -e prestart_operand); \
	  [ -z "$$bad" ] || { echo "make: src/lib/prestart.c or rblstart.c calls $$bad before libc starts" >&2; exit 1; }
	$(LINK) $(STATIC) -Wl,-u,prestart_entry -Wl,-e,prestart_entry -o $@ $< $(LIBS) $(LDLIBS_$*)
