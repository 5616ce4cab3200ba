# kiln - one-file Python executables that import everything from memory.
#   make                      kiln and the launcher for CPython $(PY_VERSION)
#   make install PREFIX=DIR   DIR/bin/kiln and DIR/lib/kiln/kiln-launcher-*
#   make demo                 build, pack examples/hello, run it, time it
#   make check                unit tests, fuzzing, end-to-end tests (+ASan),
#                             a quick subset of CPython's test suite
#   make conformance          CPython's whole test suite with a kiln
#                             interpreter and python3.11: docs/conformance.md
#   make bench                startup and build benchmarks against python3

PY_VERSION ?= 3.11
PYTHON     ?= /usr/bin/python$(PY_VERSION)
PY_INCLUDE ?= /usr/include/python$(PY_VERSION)
PY_LIBDIR  ?= /usr/lib/python$(PY_VERSION)/config-$(PY_VERSION)-x86_64-linux-gnu
LIBPYTHON  ?= $(PY_LIBDIR)/libpython$(PY_VERSION).a
PREFIX     ?= /usr/local
BUILD      ?= build
CC         ?= gcc
CFLAGS     ?= -O2 -g
CFLAGS     += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# The launcher exports libpython's symbols to extension modules it dlopens.
LAUNCHER_LTO     ?=
LAUNCHER_LDFLAGS := -no-pie -Wl,--export-dynamic $(LAUNCHER_LTO)
LAUNCHER_LIBS    := -Wl,-Bstatic -lexpat -lz -Wl,-Bdynamic -ldl -lm -lpthread -lutil

FORMAT_SRC   := src/format/kpack_read.c src/format/kpack_write.c
COMMON_SRC   := src/common/fdio.c src/common/privdir.c
LAUNCHER_SRC := src/launcher/main.c src/launcher/importer.c src/launcher/compiler.c \
                src/launcher/extract.c src/launcher/opencode.c src/launcher/mpchild.c \
                src/launcher/childproof.c src/launcher/child.c src/launcher/children.c \
                src/launcher/paths.c src/launcher/entries.c
BUILDER_SRC  := src/builder/kiln.c src/builder/options.c src/builder/build.c \
                src/builder/pytarget.c src/builder/server.c \
                src/builder/collect.c src/builder/collection.c src/builder/dist.c \
                src/builder/scan.c src/builder/reach.c src/builder/imports.c \
                src/builder/extraction.c src/builder/extlibs.c \
                src/builder/compile.c src/builder/cache.c src/builder/pack.c \
                src/builder/inspect.c src/builder/reply.c src/builder/strbuf.c \
                src/builder/util.c src/common/elf.c src/common/diag.c
# -iquote: "elf.h" is kiln's, <elf.h> the system's.
INCLUDES     := -iquote src/format -iquote src/common -iquote src/launcher \
                -iquote src/builder
HEADERS      := $(wildcard src/*/*.h)

LAUNCHER := kiln-launcher-$(PY_VERSION)
TARGET_H := $(BUILD)/py$(PY_VERSION)/target.h
# Python code of the launcher lives in src/launcher/py/*.py and is built in
# as C strings: src/launcher/py/x.py becomes $(BUILD)/gen/x.py.h.
EMBED_PY := $(wildcard src/launcher/py/*.py)
EMBED_H  := $(patsubst src/launcher/py/%,$(BUILD)/gen/%.h,$(EMBED_PY))
LAUNCHER_DEPS := $(LAUNCHER_SRC) $(FORMAT_SRC) $(COMMON_SRC) $(HEADERS) $(TARGET_H) $(EMBED_H)
LAUNCHER_INCLUDES := $(INCLUDES) -I$(BUILD)/py$(PY_VERSION) -I$(BUILD)/gen -I$(PY_INCLUDE)

.PHONY: all install demo check bench deps check-deps unit-test fuzz e2e san optimized clean \
        conformance conformance-quick
all: $(BUILD)/kiln $(BUILD)/$(LAUNCHER)

# The target's bytecode magic, and its prefix: the compile server finds the
# target's stdlib and site folders there, whatever python3 is on PATH.
$(TARGET_H): Makefile
	@mkdir -p $(@D)
	$(PYTHON) -c 'import importlib.util as u, sys; print("#define KILN_PY_MAGIC 0x%08xu" % int.from_bytes(u.MAGIC_NUMBER, "little")); print("#define KILN_PY_PREFIX \"%s\"" % sys.base_prefix)' > $@.tmp
	mv $@.tmp $@

$(BUILD)/gen/%.py.h: src/launcher/py/%.py tools/embed.py
	@mkdir -p $(@D)
	$(PYTHON) tools/embed.py $(subst .,_,$(*F))_py $< > $@.tmp
	mv $@.tmp $@

$(BUILD)/kiln: $(BUILDER_SRC) $(FORMAT_SRC) $(COMMON_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INCLUDES) -o $@ $(BUILDER_SRC) $(FORMAT_SRC) $(COMMON_SRC) -lpthread

$(BUILD)/$(LAUNCHER): $(LAUNCHER_DEPS)
	$(CC) $(CFLAGS) $(LAUNCHER_INCLUDES) \
	    $(LAUNCHER_LDFLAGS) -o $@ $(LAUNCHER_SRC) $(FORMAT_SRC) $(COMMON_SRC) \
	    $(LIBPYTHON) $(LAUNCHER_LIBS)

# ASan+UBSan builds of both, side by side so that kiln finds its launcher.
san: $(BUILD)/san/kiln $(BUILD)/san/$(LAUNCHER)
$(BUILD)/san/kiln: $(BUILDER_SRC) $(FORMAT_SRC) $(COMMON_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(INCLUDES) -o $@ $(BUILDER_SRC) $(FORMAT_SRC) $(COMMON_SRC) -lpthread
$(BUILD)/san/$(LAUNCHER): $(LAUNCHER_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(LAUNCHER_INCLUDES) \
	    $(LAUNCHER_LDFLAGS) -o $@ $(LAUNCHER_SRC) $(FORMAT_SRC) $(COMMON_SRC) \
	    $(LIBPYTHON) $(LAUNCHER_LIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/kiln
	install -m 755 $(BUILD)/kiln $(DESTDIR)$(PREFIX)/bin/kiln
	install -m 755 -s $(BUILD)/$(LAUNCHER) $(DESTDIR)$(PREFIX)/lib/kiln/$(LAUNCHER)

deps:
	@tools/deps.sh build

check-deps:
	@tools/deps.sh check

demo: deps all
	@tools/demo.sh $(BUILD)

-include tests/unit/rules.mk

e2e: all san $(BUILD)/repack
	@tests/e2e/run.sh $(BUILD)

check: check-deps all san $(BUILD)/repack
	$(MAKE) unit-test
	$(MAKE) fuzz
	tests/e2e/run.sh $(BUILD)
	$(MAKE) conformance-quick

# CPython's own test suite (Debian's libpython3.11-testsuite), run by a kiln
# interpreter and by python3.11 -I -S. conformance: every module, -j2,
# writes docs/conformance.md (ONLY=kiln reruns kiln alone); conformance-quick:
# tests/conformance/quick.txt, fails on a difference not expected in
# tests/conformance/differences.txt.
conformance: all
	tools/conformance.sh $(BUILD) full

conformance-quick: all
	tools/conformance.sh $(BUILD) quick

bench: deps all $(BUILD)/python-static-$(PY_VERSION)
	@bench/bench.sh $(BUILD)

# python3 on the launcher's own libpython: the same-interpreter baseline.
$(BUILD)/python-static-$(PY_VERSION): bench/python_static.c
	$(CC) $(CFLAGS) -I$(PY_INCLUDE) $(LAUNCHER_LDFLAGS) -o $@ $< $(LIBPYTHON) $(LAUNCHER_LIBS)

# kiln on a PGO+LTO libpython built from Debian's python3.11 source, in
# $(BUILD)/opt (20-30 minutes; not needed by anything else). The link-time
# optimizer sees CPython's own code, whose warnings are not ours to fail on
# (the plain build checks kiln's sources with -Werror). The launcher is
# stripped: the library's debug information would add 20 MB to every app.
OPT_PYTHON ?= $(BUILD)/optimized-python
optimized:
	tools/optimized-python.sh $(OPT_PYTHON)
	$(MAKE) BUILD=$(BUILD)/opt LIBPYTHON=$(OPT_PYTHON)/current/libpython$(PY_VERSION).a \
	    PY_INCLUDE="$(abspath $(OPT_PYTHON))/current/Include -I$(abspath $(OPT_PYTHON))/current" \
	    LAUNCHER_LTO="-flto=auto -w -s" all $(BUILD)/opt/python-static-$(PY_VERSION)

clean:
	rm -rf $(BUILD)

$(BUILD)/repack: tests/tools/repack.c $(FORMAT_SRC) $(HEADERS)
	$(CC) $(CFLAGS) $(INCLUDES) -o $@ tests/tools/repack.c $(FORMAT_SRC)
