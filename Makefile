# ucspi-tcp, faithful and modern.  The compile and link commands come from
# conf-cc and conf-ld (first line), the install prefix from conf-home
# (PREFIX=... on the command line overrides it).
# CC=clang make replaces the compiler named in conf-cc and conf-ld.
# make only compiles; make deps installs what the build and the tests
# need; make check and make demo run make deps first.

SHELL = /bin/sh
B = build

CONF_CC := $(shell head -n 1 conf-cc)
CONF_LD := $(shell head -n 1 conf-ld)
PREFIX := $(shell head -n 1 conf-home)
HOME_DIR = $(PREFIX)
DOCDIR = $(PREFIX)/share/doc/ucspi-tcp
# The release, in one place: the man pages and debian/changelog show it.
VERSION := $(shell cat VERSION)
ifeq ($(origin CC),default)
COMPILE := $(CONF_CC)
LINK := $(CONF_LD)
else
COMPILE := $(CC) $(wordlist 2,999,$(CONF_CC))
LINK := $(CC) $(wordlist 2,999,$(CONF_LD))
endif
# -Werror is make check's (WERROR=-Werror), not the user's build: a newer
# compiler's new warning must not break an installation.
WERROR =
COMPILE += $(EXTRA_CFLAGS) $(WERROR)
COMPILE += -DVERSION='"$(VERSION)"'
LINK += $(EXTRA_LDFLAGS)
# Sanitizer builds keep their symbols, so that reports name functions.
ifeq ($(NOSTRIP),1)
LINK := $(filter-out -s,$(LINK))
endif

# A program is src/NAME.c, or a folder src/NAME/ with a main.c among its
# files (tcpserver: the server core and its main).
DIRPROGS := $(sort $(patsubst src/%/main.c,%,$(wildcard src/*/main.c)))
PROGS := $(sort $(patsubst src/%.c,%,$(wildcard src/*.c)) $(DIRPROGS))
SCRIPTS := $(sort $(notdir $(wildcard src/scripts/*)))
LIBSRC := $(sort $(wildcard src/lib/*.c))
LIBOBJ := $(patsubst src/lib/%.c,$(B)/obj/lib/%.o,$(LIBSRC))
UNITSRC := $(sort $(wildcard tests/unit/*.c))
UNITS := $(patsubst tests/unit/%.c,$(B)/t/%,$(UNITSRC))
MAN1 := $(sort $(wildcard man/*.1))
MAN5 := $(sort $(wildcard man/*.5))
# The pages as installed: the version in the .TH line's source field.
MANPAGES := $(patsubst man/%,$(B)/man/%,$(MAN1) $(MAN5))
# Programs linked fully static: they start several times faster.
STATIC_PROGS := tcprules tcprulescheck
# Programs that run once per connection in front of the service, built
# static on musl when musl-gcc (Debian's musl-tools) is there: a static
# glibc program spends most of its start-up probing the CPU (CPUID, which
# traps to the hypervisor on a VM), about 3 times a musl one's.  Without
# musl-gcc, or in a build that is not static (make asan), they are built
# as the others are, with one line saying so.  rblsmtpd needs glibc's
# resolver: it is linked static and starts before libc where all it has
# to do is run the SMTP server (PRESTART_PROGS).  src/startup.mk.
STARTUP_PROGS := argv0 tcprulescheck
PRESTART_PROGS := rblsmtpd
LIBS := $(B)/libucspi.a -l:libcdb.a
# Extra libraries of one program: LDLIBS_prog = ...
LDLIBS_rblsmtpd = -lresolv
# OpenSSL, for the TLS programs only (src/lib/tls*.c include its headers).
TLS_LIBS = -lssl -lcrypto
LDLIBS_tlsclient = $(TLS_LIBS)
# tlsserver's symbols bound at start (-z now): every engine is a copy
# of it, and with lazy binding each one would call the resolver and
# write its own copy of the GOT again.
LDLIBS_tlsserver = $(TLS_LIBS) -Wl,-z,now
LDLIBS_unit_tls = $(TLS_LIBS)

all: $(addprefix $(B)/,$(PROGS)) $(addprefix $(B)/,$(SCRIPTS)) $(MANPAGES)

# The commands the objects were made with: a change (WERROR, CC,
# EXTRA_CFLAGS, conf-cc) rebuilds them.  Rewritten only when it differs.
BUILD_FLAGS = $(COMPILE) | $(LINK) | $(PREFIX) | $(MUSL_COMPILE) | $(PRESTART_ON)
$(B)/.flags: FORCE | $(B)/.cdb-ok
	@mkdir -p $(B)
	@echo '$(BUILD_FLAGS)' | cmp -s - $@ || echo '$(BUILD_FLAGS)' > $@

# tinycdb's header, or one line saying how to get it.
CDB_MISSING = tinycdb's cdb.h is missing: install the package libcdb-dev (apt-get install libcdb-dev, or make deps as root)
# OpenSSL's likewise: the tls module of the library includes it.
SSL_MISSING = OpenSSL's openssl/ssl.h is missing: install the package libssl-dev (apt-get install libssl-dev, or make deps as root)
$(B)/.cdb-ok:
	$(if $(shell printf '\043include <cdb.h>\n' | $(COMPILE) -E -x c - >/dev/null 2>&1 && echo y),,$(error $(CDB_MISSING)))
	$(if $(shell printf '\043include <openssl/ssl.h>\n' | $(COMPILE) -E -x c - >/dev/null 2>&1 && echo y),,$(error $(SSL_MISSING)))
	@mkdir -p $(B) && touch $@

$(B)/obj/lib/%.o: src/lib/%.c src/lib/*.h $(B)/.flags
	@mkdir -p $(dir $@)
	$(COMPILE) -c -o $@ $<

$(B)/obj/%.o: src/%.c src/lib/*.h $(wildcard src/*/*.h) $(B)/.flags
	@mkdir -p $(dir $@)
	$(COMPILE) -c -o $@ $<

# The objects of a folder program; the server core is tcpserver's files
# but its main, for every server program (OBJS_tlsserver adds its own).
dirobjs = $(patsubst src/%.c,$(B)/obj/%.o,$(wildcard src/$(1)/*.c))
CORE_OBJ = $(filter-out %/main.o,$(call dirobjs,tcpserver))
OBJS_tcpserver = $(call dirobjs,tcpserver)
OBJS_tlsserver = $(call dirobjs,tlsserver) $(CORE_OBJ)

$(B)/libucspi.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $^

# Full static linking unless a sanitizer build asks otherwise.
STATIC = -static
include src/startup.mk

$(addprefix $(B)/,$(filter-out $(STATIC_PROGS) $(DIRPROGS) $(MUSL_PROGS) $(PRESTART_ON),$(PROGS))): $(B)/%: $(B)/obj/%.o $(B)/libucspi.a $(B)/.flags
	$(MUSL_FALLBACK_NOTE)
	$(LINK) -o $@ $< $(LIBS) $(LDLIBS_$*)

.SECONDEXPANSION:
$(addprefix $(B)/,$(DIRPROGS)): $(B)/%: $$(OBJS_%) $(B)/libucspi.a $(B)/.flags
	$(LINK) -o $@ $(OBJS_$*) $(LIBS) $(LDLIBS_$*)

$(addprefix $(B)/,$(filter $(STATIC_PROGS),$(filter-out $(MUSL_PROGS),$(PROGS)))): $(B)/%: $(B)/obj/%.o $(B)/libucspi.a $(B)/.flags
	$(MUSL_FALLBACK_NOTE)
	$(LINK) $(STATIC) -o $@ $< $(LIBS) $(LDLIBS_$*)

$(addprefix $(B)/,$(SCRIPTS)): $(B)/%: src/scripts/% VERSION $(B)/.flags
	@mkdir -p $(dir $@)
	sed 's}@HOME@}$(HOME_DIR)}g; s}@VERSION@}$(VERSION)}g' $< > $@
	chmod 755 $@

$(B)/t/%: tests/unit/%.c $(B)/libucspi.a tests/unit/tap.h $(B)/.flags
	@mkdir -p $(dir $@)
	$(COMPILE) -Itests/unit -o $@ $< $(LIBS) $(LDLIBS_$*)

units: $(UNITS)

# What the build and the tests need (src/deps.sh says what it installs
# and why, a line per group).  make deps DEPS=build: the build's only.
DEPS = build tests sanitizers services
deps:
	@DEPS_CC="$(firstword $(COMPILE))" sh src/deps.sh $(DEPS)

# The README's test command: dependencies, build (with -Werror), every
# test, then the whole suite again under ASan and UBSan (make asan, below;
# about as long as the plain run).  CHECK_ASAN=no skips that second run.
# src/check.sh prints a line per phase and a summary at the end.
CHECK_ASAN = yes
check:
	@sh src/check.sh "$(MAKE)" $(CHECK_ASAN)

# The test suite alone, against what is in $(B).
test: all units
	UCSPI_BIN=$(abspath $(B)) prove --timer tests/

# Ctrl-C ends the demo quietly: src/demo.sh runs the server as the
# terminal's foreground job and exits 0.
demo:
	@$(MAKE) --no-print-directory deps DEPS=build
	@$(MAKE) --no-print-directory all
	@UCSPI_BIN=$(abspath $(B)) sh src/demo.sh

$(B)/man/%: man/% VERSION
	@mkdir -p $(dir $@)
	sed '/^\.TH /s/ ucspi-tcp "/ "ucspi-tcp $(VERSION)" "/' $< > $@

# make install and make uninstall (src/install.sh): programs, man pages,
# and in DOCDIR the documentation and the service examples; uninstall
# removes exactly those, and the directories install created if empty.
DOCS = README NEWS LICENSE rules.example
EXAMPLES := $(sort $(shell find examples -type f 2>/dev/null))
INSTALL_ENV = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" DOCDIR="$(DOCDIR)" B="$(B)" \
	BIN="$(PROGS) $(SCRIPTS)" MAN1="$(notdir $(MAN1))" MAN5="$(notdir $(MAN5))" \
	DOCS="$(DOCS)" EXAMPLES="$(EXAMPLES)"
install: all
	$(INSTALL_ENV) sh src/install.sh install
uninstall:
	$(INSTALL_ENV) sh src/install.sh uninstall

clean:
	rm -rf $(B) $(B)-asan $(B)-fuzz

# make deb: the Debian package (debian/), built by dpkg-buildpackage in a
# copy of the tree under $(B)/deb, so that its clean step leaves build/
# alone; the .deb lands here, for apt install ./ucspi-tcp-modern_*.deb.
# make deb-check (tests/package_deb.t): the package built from a clean
# clone of the committed tree, installed into a scratch root, tried,
# removed, and checked by lintian.
DEB_PKG := $(shell sed -n 's/^Package: //p' debian/control 2>/dev/null)
DEB_DIR = $(B)/deb/$(DEB_PKG)-$(VERSION)
deb:
	@$(MAKE) --no-print-directory deps DEPS="build package"
	rm -rf $(B)/deb && mkdir -p $(DEB_DIR)
	tar -cf - --exclude='./build*' --exclude=./.git --exclude='./*.deb' . | tar -xf - -C $(DEB_DIR)
	cd $(DEB_DIR) && dpkg-buildpackage -us -uc -b
	cp $(B)/deb/$(DEB_PKG)_$(VERSION)_*.deb .
	@ls $(DEB_PKG)_$(VERSION)_*.deb
deb-check:
	@$(MAKE) --no-print-directory deps DEPS="build package"
	UCSPI_DEB_CHECK=1 prove --timer tests/package_deb.t

.PHONY: all check test deps demo install uninstall clean units deb deb-check FORCE
.DELETE_ON_ERROR:

# ---- Benchmarks, sanitizers, fuzzing (bench/, fuzz/; issue 6) ----------
# make bench: ours against /usr/bin's reference, figures to bench/RESULTS.md.
BENCH_TOOLS := loadgen bareloop genrules spawnloop
$(addprefix $(B)/bench/,$(BENCH_TOOLS)): $(B)/bench/%: bench/%.c $(B)/.flags
	@mkdir -p $(dir $@)
	$(COMPILE) -o $@ $<
# tlsload: loadgen for TLS, through the library's tls module.
$(B)/bench/tlsload: bench/tlsload.c $(B)/libucspi.a $(B)/.flags
	@mkdir -p $(dir $@)
	$(COMPILE) -o $@ $< $(LIBS) $(TLS_LIBS)
# The services of the benchmarks and load tests: static (on musl when
# there is musl-gcc) and never sanitized (not under test themselves), so
# that they start fast and the figures are the servers'.
$(B)/bench/okchild $(B)/bench/holdchild: $(B)/bench/%: bench/%.c $(B)/.flags
	@mkdir -p $(dir $@)
	$(if $(MUSL_CC),$(MUSL_CC) $(wordlist 2,999,$(CONF_CC)),$(filter-out $(EXTRA_CFLAGS),$(COMPILE))) -static -s -o $@ $<
# The service of the start-up part: static, on musl when there is musl-gcc
# (the chains it ends measure the program in front of it).
$(B)/bench/noop: bench/noop.c $(B)/.flags
	@mkdir -p $(dir $@)
	$(or $(MUSL_CC),$(firstword $(COMPILE))) -O2 -static -s -o $@ $<
bench: all $(addprefix $(B)/bench/,$(BENCH_TOOLS) okchild holdchild noop tlsload)
	@$(MAKE) --no-print-directory deps DEPS=bench
	UCSPI_BIN=$(abspath $(B)) perl bench/run.pl

# make asan: the whole test suite built with ASan and UBSan, in $(B)-asan.
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g
asan:
	$(MAKE) B=$(B)-asan STATIC= NOSTRIP=1 EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" all units
	UCSPI_SANITIZED=1 ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	$(MAKE) B=$(B)-asan STATIC= NOSTRIP=1 EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" test

# make fuzz: each libFuzzer target of fuzz/ for FUZZTIME seconds.
FUZZTIME = 60
fuzz:
	sh fuzz/run.sh $(B)-fuzz $(FUZZTIME)

# For make check: the load generator and service of tests/robust_*.t; the
# fuzz targets as plain programs replaying the corpus
# (tests/robust_fuzz_replay.t), once the sources they need exist; and
# dynamically linked tcprules/tcprulescheck for valgrind (tests/valgrind_*.t).
FUZZ_READY := $(shell for f in fuzz/*.c; do n=$$(sed -n 's|^// needs: ||p' $$f); [ -n "$$n" ] && ls $$n >/dev/null 2>&1 && basename $$f .c; done)
$(B)/t/fuzz_%: fuzz/%.c fuzz/replay.c $(B)/libucspi.a $(B)/.flags
	@mkdir -p $(dir $@)
	$(COMPILE) -o $@ $< fuzz/replay.c $(LIBS)
VALGRIND_PROGS := $(filter tcprules tcprulescheck,$(PROGS))
$(B)/t/dyn/%: $(B)/obj/%.o $(B)/libucspi.a $(B)/.flags
	@mkdir -p $(dir $@)
	$(LINK) -o $@ $< $(LIBS) $(LDLIBS_$*)
units: $(B)/bench/loadgen $(B)/bench/okchild $(B)/bench/holdchild $(addprefix $(B)/t/fuzz_,$(FUZZ_READY)) $(addprefix $(B)/t/dyn/,$(VALGRIND_PROGS))
.PHONY: bench asan fuzz
