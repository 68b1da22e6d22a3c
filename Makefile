# ucspi-tcp, faithful and modern.  The compile and link commands come from
# conf-cc and conf-ld (first line), the install prefix from conf-home.
# CC=clang make replaces the compiler named in conf-cc and conf-ld.

SHELL = /bin/sh
B = build

CONF_CC := $(shell head -n 1 conf-cc)
CONF_LD := $(shell head -n 1 conf-ld)
HOME_DIR := $(shell head -n 1 conf-home)
ifeq ($(origin CC),default)
COMPILE := $(CONF_CC)
LINK := $(CONF_LD)
else
COMPILE := $(CC) $(wordlist 2,999,$(CONF_CC))
LINK := $(CC) $(wordlist 2,999,$(CONF_LD))
endif
COMPILE += $(EXTRA_CFLAGS)
COMPILE += -DVERSION='"$(shell cat VERSION 2>/dev/null)"'
LINK += $(EXTRA_LDFLAGS)
# Sanitizer builds keep their symbols, so that reports name functions.
ifeq ($(NOSTRIP),1)
LINK := $(filter-out -s,$(LINK))
endif

PROGS := $(sort $(patsubst src/%.c,%,$(wildcard src/*.c)))
SCRIPTS := $(sort $(notdir $(wildcard src/scripts/*)))
LIBSRC := $(sort $(wildcard src/lib/*.c))
LIBOBJ := $(patsubst src/lib/%.c,$(B)/obj/lib/%.o,$(LIBSRC))
UNITSRC := $(sort $(wildcard tests/unit/*.c))
UNITS := $(patsubst tests/unit/%.c,$(B)/t/%,$(UNITSRC))
MAN1 := $(sort $(wildcard man/*.1))
MAN5 := $(sort $(wildcard man/*.5))
# Programs linked fully static: they start several times faster.
STATIC_PROGS := tcprules tcprulescheck
LIBS := $(B)/libucspi.a -l:libcdb.a
# Extra libraries of one program: LDLIBS_prog = ...
LDLIBS_rblsmtpd = -lresolv

all: $(B)/.deps $(addprefix $(B)/,$(PROGS)) $(addprefix $(B)/,$(SCRIPTS))

$(B)/.deps: src/deps.sh
	@mkdir -p $(B)
	sh src/deps.sh
	@touch $@

$(B)/obj/lib/%.o: src/lib/%.c src/lib/*.h $(B)/.deps conf-cc
	@mkdir -p $(dir $@)
	$(COMPILE) -c -o $@ $<

$(B)/obj/%.o: src/%.c src/lib/*.h $(B)/.deps conf-cc
	@mkdir -p $(dir $@)
	$(COMPILE) -c -o $@ $<

$(B)/libucspi.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $^

$(addprefix $(B)/,$(filter-out $(STATIC_PROGS),$(PROGS))): $(B)/%: $(B)/obj/%.o $(B)/libucspi.a conf-ld
	$(LINK) -o $@ $< $(LIBS) $(LDLIBS_$*)

$(addprefix $(B)/,$(filter $(STATIC_PROGS),$(PROGS))): $(B)/%: $(B)/obj/%.o $(B)/libucspi.a conf-ld
	$(LINK) $(STATIC) -o $@ $< $(LIBS) $(LDLIBS_$*)

# Full static linking unless a sanitizer build asks otherwise.
STATIC = -static

$(addprefix $(B)/,$(SCRIPTS)): $(B)/%: src/scripts/% conf-home
	sed 's}@HOME@}$(HOME_DIR)}g' $< > $@
	chmod 755 $@

$(B)/t/%: tests/unit/%.c $(B)/libucspi.a tests/unit/tap.h
	@mkdir -p $(dir $@)
	$(COMPILE) -Itests/unit -o $@ $< $(LIBS)

units: $(UNITS)

# The README's test command: build, install dependencies, run every test,
# then the whole suite again under ASan and UBSan (make asan, below; about
# as long as the plain run).  CHECK_ASAN=no skips that second run.
CHECK_ASAN = yes
check: all units
	DEPS_CC="$(firstword $(COMPILE))" sh src/deps.sh --tests
	UCSPI_BIN=$(abspath $(B)) prove tests/
ifeq ($(CHECK_ASAN),yes)
	$(MAKE) asan
endif

demo: all
	UCSPI_BIN=$(abspath $(B)) sh src/demo.sh

install: all
	mkdir -p $(DESTDIR)$(HOME_DIR)/bin $(DESTDIR)$(HOME_DIR)/share/man/man1 $(DESTDIR)$(HOME_DIR)/share/man/man5
	for p in $(PROGS) $(SCRIPTS); do cp $(B)/$$p $(DESTDIR)$(HOME_DIR)/bin/$$p.new && mv -f $(DESTDIR)$(HOME_DIR)/bin/$$p.new $(DESTDIR)$(HOME_DIR)/bin/$$p; done
	for m in $(MAN1); do cp $$m $(DESTDIR)$(HOME_DIR)/share/man/man1/; done
	for m in $(MAN5); do cp $$m $(DESTDIR)$(HOME_DIR)/share/man/man5/; done

clean:
	rm -rf $(B) $(B)-asan $(B)-fuzz

.PHONY: all check demo install clean units
.DELETE_ON_ERROR:

# ---- Benchmarks, sanitizers, fuzzing (bench/, fuzz/; issue 6) ----------
# make bench: ours against /usr/bin's reference, figures to bench/RESULTS.md.
BENCH_TOOLS := loadgen bareloop genrules spawnloop
$(addprefix $(B)/bench/,$(BENCH_TOOLS)): $(B)/bench/%: bench/%.c conf-cc
	@mkdir -p $(dir $@)
	$(COMPILE) -o $@ $<
# The service of the benchmarks and load tests: static and never
# sanitized (not under test itself), so that it starts fast.
$(B)/bench/okchild $(B)/bench/holdchild: $(B)/bench/%: bench/%.c conf-cc
	@mkdir -p $(dir $@)
	$(filter-out $(EXTRA_CFLAGS),$(COMPILE)) -static -s -o $@ $<
bench: all $(addprefix $(B)/bench/,$(BENCH_TOOLS) okchild holdchild)
	UCSPI_BIN=$(abspath $(B)) perl bench/run.pl

# make asan: the whole test suite built with ASan and UBSan, in $(B)-asan.
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g
asan:
	UCSPI_SANITIZED=1 ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	$(MAKE) B=$(B)-asan STATIC= NOSTRIP=1 EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" CHECK_ASAN=no check

# make fuzz: each libFuzzer target of fuzz/ for FUZZTIME seconds.
FUZZTIME = 60
fuzz:
	sh fuzz/run.sh $(B)-fuzz $(FUZZTIME)

# For make check: the load generator and service of tests/robust_*.t; the
# fuzz targets as plain programs replaying the corpus
# (tests/robust_fuzz_replay.t), once the sources they need exist; and
# dynamically linked tcprules/tcprulescheck for valgrind (tests/valgrind_*.t).
FUZZ_READY := $(shell for f in fuzz/*.c; do n=$$(sed -n 's|^// needs: ||p' $$f); [ -n "$$n" ] && ls $$n >/dev/null 2>&1 && basename $$f .c; done)
$(B)/t/fuzz_%: fuzz/%.c fuzz/replay.c $(B)/libucspi.a
	@mkdir -p $(dir $@)
	$(COMPILE) -o $@ $< fuzz/replay.c $(LIBS)
VALGRIND_PROGS := $(filter tcprules tcprulescheck,$(PROGS))
$(B)/t/dyn/%: $(B)/obj/%.o $(B)/libucspi.a conf-ld
	@mkdir -p $(dir $@)
	$(LINK) -o $@ $< $(LIBS) $(LDLIBS_$*)
units: $(B)/bench/loadgen $(B)/bench/okchild $(B)/bench/holdchild $(addprefix $(B)/t/fuzz_,$(FUZZ_READY)) $(addprefix $(B)/t/dyn/,$(VALGRIND_PROGS))
.PHONY: bench asan fuzz
