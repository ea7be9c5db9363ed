# SPDX-License-Identifier: MIT
# stunt — one top-level Makefile for every program, test, sanitizer and fuzz build.
#
#   make            build every program and lab tool (build/)
#   make check      install missing packages, build, run unit + lab tests
#   make check-unit unit tests only (no root needed)
#   make asan       the whole suite (unit + lab) with every program built with
#                   AddressSanitizer + UBSan (build-asan/); ASAN_WHAT=unit|lab, ASAN_FILTER
#   make fuzz       libFuzzer targets (clang), each run for FUZZ_SECONDS
#   make demo       (root) a VNC screenshot across two lab NATs through stuntd
#   make bench      benchmarks; each writes its section of docs/benchmarks.md
#   make install    PREFIX=/usr/local DESTDIR= (SBINDIR, MANDIR, UNITDIR, DOCDIR,
#                   SYSUSERSDIR, TMPFILESDIR)
#   make deb        Debian packages stunt and stunt-server (debian/) in $(BUILD)/deb/
#   V=1 for verbose, WERROR=1 (CI) to turn warnings into errors.

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
UNITDIR   ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DOCDIR    ?= $(PREFIX)/share/doc/stunt
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc
CFLAGS    ?= -O2 -g
FUZZ_SECONDS ?= 20

WARN := -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifneq ($(WERROR),)
WARN += -Werror
endif
PKGS      := libmnl libnetfilter_queue libnfnetlink libpcap libcrypto libssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS  := $(shell pkg-config --libs $(PKGS) miniupnpc 2>/dev/null || echo -lmnl -lnetfilter_queue -lnfnetlink -lpcap -lcrypto -lssl -lminiupnpc) -lnatpmp
# hiredis: stunt-server's Redis client (--redis, <hiredis/async.h>), linked
# into it alone (and into the tests that link its library)
SRV_LDLIBS := $(shell pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)
ALL_CFLAGS := $(WARN) $(CPPFLAGS) $(CFLAGS) -D_GNU_SOURCE -DSTUNT_SBINDIR=\"$(SBINDIR)\" -I. $(PKG_CFLAGS) -MMD -MP
LDLIBS    := $(PKG_LIBS)

ifeq ($(V),)
Q := @
E := @printf '  %-6s %s\n'
else
Q :=
E := @true
endif

# Libraries: the code two programs share (common/ proto/ nfq/ probes/) in
# libstunt.a, and each program's own folder in a library of its own, so that
# unit tests and fuzzers link what they test. Folders keep file names short
# (server/tls.c, daemon/tls.c): one archive per folder keeps such members apart.
# A program's main file is NAME/main.c (probes/probe_main.c for stunt-probe).
is_main    = $(filter %/main.c %_main.c,$(1))
lib_src    = $(filter-out $(call is_main,$(1)),$(1))
CORE_SRC  := $(call lib_src,$(foreach d,common proto nfq probes,$(wildcard $(d)/*.c)))
SRV_SRC   := $(call lib_src,$(wildcard server/*.c))
D_SRC     := $(call lib_src,$(wildcard daemon/*.c daemon/trav/*.c))
CTL_SRC   := $(call lib_src,$(wildcard ctl/*.c))
LIB_SRC   := $(CORE_SRC) $(SRV_SRC) $(D_SRC) $(CTL_SRC)
LIB       := $(BUILD)/libstunt.a
SRV_LIB   := $(BUILD)/libstunt-server.a
D_LIB     := $(BUILD)/libstuntd.a
CTL_LIB   := $(BUILD)/libstuntctl.a
# everything, in link order (a program's library before the shared one)
ALL_LIBS  := $(SRV_LIB) $(D_LIB) $(CTL_LIB) $(LIB)

# Programs: NAME := its main file and its own library; the rest is in libstunt.a.
PROG_stunt-probe  := probes/probe_main.c
PROG_stunt-server := server/main.c
PROG_stuntd       := daemon/main.c
PROG_stuntctl     := ctl/main.c
PLIB_stunt-probe  :=
PLIB_stunt-server := $(SRV_LIB)
PLIB_stuntd       := $(D_LIB)
PLIB_stuntctl     := $(CTL_LIB)
PLDLIBS_stunt-server := $(SRV_LDLIBS)
PROGRAMS  := $(foreach p,stunt-probe stunt-server stuntd stuntctl,$(if $(wildcard $(firstword $(PROG_$(p)))),$(p)))
PROG_BINS := $(PROGRAMS:%=$(BUILD)/%)

# Lab tools: one standalone C file each in tests/lab/.
LAB_SRC   := $(wildcard tests/lab/*.c)
LAB_BINS  := $(LAB_SRC:tests/lab/%.c=$(BUILD)/lab/%)

# Lab drivers: small programs linked with libstunt that lab tests run inside
# namespaces to drive the library for real (one per tests/drivers/*.c).
DRV_SRC   := $(wildcard tests/drivers/*.c)
DRV_BINS  := $(DRV_SRC:tests/drivers/%.c=$(BUILD)/drv/%)

# Unit tests: one program per tests/unit/test_*.c.
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# Fuzz targets: one per tests/fuzz/fuzz_*.c, linked with an instrumented library.
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)

MAN_PAGES := $(wildcard docs/man/*.[1-8])

.PHONY: all programs check check-unit check-lab asan fuzz install uninstall clean deps demo bench unit-bins deb
all: $(PROG_BINS) $(LAB_BINS) $(DRV_BINS) $(UNIT_BINS)
programs: $(PROG_BINS)

deps:
	$(Q)tools/install-deps.sh

$(BUILD)/%.o: %.c
	$(E) CC $<
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(CORE_SRC:%.c=$(BUILD)/%.o)
$(SRV_LIB): $(SRV_SRC:%.c=$(BUILD)/%.o)
$(D_LIB): $(D_SRC:%.c=$(BUILD)/%.o)
$(CTL_LIB): $(CTL_SRC:%.c=$(BUILD)/%.o)
$(ALL_LIBS):
	$(E) AR $@
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

.SECONDARY:
.SECONDEXPANSION:
$(PROG_BINS): $(BUILD)/%: $$(addprefix $(BUILD)/,$$(PROG_$$*:.c=.o)) $$(PLIB_$$*) $(LIB)
	$(E) LD $@
	$(Q)$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(PLIB_$*) $(LIB) $(LDFLAGS) $(LDLIBS) $(PLDLIBS_$*)

$(BUILD)/lab/%: $(BUILD)/tests/lab/%.o
	$(E) LD $@
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/drv/%: $(BUILD)/tests/drivers/%.o $(ALL_LIBS)
	$(E) LD $@
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(ALL_LIBS) $(LDFLAGS) $(LDLIBS) $(SRV_LDLIBS)

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(ALL_LIBS)
	$(E) LD $@
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(ALL_LIBS) $(LDFLAGS) $(LDLIBS) $(SRV_LDLIBS)

unit-bins: $(UNIT_BINS)

# Packages first, then a fresh make (it re-reads pkg-config), then the tests:
# with -j, deps and the build must not race on a fresh machine.
check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/run.sh all

check-unit: $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) tests/run.sh unit

check-lab: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/run.sh lab

ASAN_WHAT   ?= all
ASAN_FILTER ?=
asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan CC=clang \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" all unit-bins
	$(Q)BUILD=build-asan STUNT_SANITIZE=1 tests/run.sh $(ASAN_WHAT) $(ASAN_FILTER)

# The library is built once with coverage instrumentation and shared by every target.
FUZZ_CFLAGS := $(WARN) -Wno-missing-prototypes -D_GNU_SOURCE -I. $(PKG_CFLAGS) -g -O1
FUZZ_LIBS   := $(ALL_LIBS:$(BUILD)/lib%.a=build-fuzz/lib%-fuzz.a)

build-fuzz/obj/%.o: %.c
	$(E) FUZZCC $<
	$(Q)mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<

build-fuzz/libstunt-fuzz.a: $(CORE_SRC:%.c=build-fuzz/obj/%.o)
build-fuzz/libstunt-server-fuzz.a: $(SRV_SRC:%.c=build-fuzz/obj/%.o)
build-fuzz/libstuntd-fuzz.a: $(D_SRC:%.c=build-fuzz/obj/%.o)
build-fuzz/libstuntctl-fuzz.a: $(CTL_SRC:%.c=build-fuzz/obj/%.o)
$(FUZZ_LIBS):
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIBS)
	$(E) FUZZ $@
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_LIBS) $(LDLIBS) $(SRV_LDLIBS)

fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/bench.sh

# The compiled-in SBINDIR (common/paths.c) follows PREFIX: the stamp changes
# when SBINDIR does, and what compiles it in is rebuilt (make install PREFIX=...
# after a plain make rebuilds before installing).
SBINDIR_STAMP := $(BUILD)/.sbindir
$(SBINDIR_STAMP): FORCE
	$(Q)mkdir -p $(BUILD)
	$(Q)echo '$(SBINDIR)' | cmp -s - $@ || echo '$(SBINDIR)' >$@
$(BUILD)/common/paths.o $(BUILD)/tests/drivers/nfqdrv.o: $(SBINDIR_STAMP)
.PHONY: FORCE
FORCE:

# programs only (not the tests), built with this PREFIX
install: $(PROG_BINS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	$(foreach p,$(filter stuntd stunt-server,$(PROGRAMS)),install -m 755 $(BUILD)/$(p) $(DESTDIR)$(SBINDIR)/$(p);)
	$(foreach p,$(filter stuntctl stunt-probe,$(PROGRAMS)),install -m 755 $(BUILD)/$(p) $(DESTDIR)$(BINDIR)/$(p);)
	$(if $(wildcard tools/stunt-rules),install -m 755 tools/stunt-rules $(DESTDIR)$(SBINDIR)/stunt-rules)
	install -d $(DESTDIR)$(UNITDIR)
	$(foreach u,$(wildcard tools/*.service),sed 's|/usr/local/sbin|$(SBINDIR)|g' $(u) \
		>$(DESTDIR)$(UNITDIR)/$(notdir $(u));)
	install -d $(DESTDIR)$(DOCDIR)
	$(foreach f,$(wildcard docs/*.conf.example),install -m 644 $(f) $(DESTDIR)$(DOCDIR)/;)
	$(foreach m,$(filter %.1,$(MAN_PAGES)),install -m 644 $(m) $(DESTDIR)$(MANDIR)/man1/;)
	$(foreach m,$(filter %.8,$(MAN_PAGES)),install -m 644 $(m) $(DESTDIR)$(MANDIR)/man8/;)
	install -d $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	$(foreach f,$(wildcard tools/*.sysusers),install -m 644 $(f) $(DESTDIR)$(SYSUSERSDIR)/$(notdir $(f:.sysusers=.conf));)
	$(foreach f,$(wildcard tools/*.tmpfiles),install -m 644 $(f) $(DESTDIR)$(TMPFILESDIR)/$(notdir $(f:.tmpfiles=.conf));)

uninstall:
	rm -f $(PROGRAMS:%=$(DESTDIR)$(SBINDIR)/%) $(PROGRAMS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(SBINDIR)/stunt-rules
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(wildcard tools/*.service)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(wildcard docs/*.conf.example)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(filter %.1,$(MAN_PAGES))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(filter %.8,$(MAN_PAGES))))
	rm -f $(addprefix $(DESTDIR)$(SYSUSERSDIR)/,$(notdir $(patsubst %.sysusers,%.conf,$(wildcard tools/*.sysusers))))
	rm -f $(addprefix $(DESTDIR)$(TMPFILESDIR)/,$(notdir $(patsubst %.tmpfiles,%.conf,$(wildcard tools/*.tmpfiles))))

# Debian packages (debian/): dpkg-buildpackage in a copy of the sources under
# $(BUILD)/deb/src (its `clean` must not touch this tree), so that the .deb
# files land in $(BUILD)/deb/. The copy is removed when the build succeeds.
DEB_DIR := $(BUILD)/deb
deb: deps
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	$(Q)tar -cf - --exclude=./.git --exclude='./build*' --exclude='./$(BUILD)' . | tar -C $(DEB_DIR)/src -xf -
	$(Q)cd $(DEB_DIR)/src && dpkg-buildpackage -b -uc -us
	$(Q)rm -rf $(DEB_DIR)/src
	$(Q)ls -1 $(DEB_DIR)/*.deb

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) build-asan build-fuzz -name '*.d' 2>/dev/null)
