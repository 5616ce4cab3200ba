# kiln - one-file Python executables that import everything from memory.
#   make                      kiln and the launcher for CPython $(PY_VERSION)
#   make install PREFIX=DIR   DIR/bin/kiln and DIR/lib/kiln/kiln-launcher-*
#   make demo                 build, pack examples/hello, run it, time it
#   make check                unit tests, fuzzing, end-to-end tests (+ASan),
#                             the core ones on every other CPython (matrix),
#                             a quick subset of CPython's test suite
#   make conformance PY=3.12  CPython's whole test suite with a kiln
#                             interpreter and that python: docs/conformance.md
#   make bench PY=3.12        startup and build benchmarks against that python

# The CPythons to build a launcher for, the default target first: Debian's
# python3.11 and every pyenv 3.10 to 3.13. tools/targets.sh describes each
# in $(BUILD)/targets.mk (T_<name>_PYTHON, _VERSION, _INCLUDE, _LIBPYTHON)
# and $(BUILD)/targets.txt; LIBPYTHON= and PY_INCLUDE= override the
# default target's (make optimized).
PY_VERSION ?= 3.11
PYTHON     ?= /usr/bin/python$(PY_VERSION)
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHONS    ?= $(PYTHON) $(sort $(wildcard $(PYENV_ROOT)/versions/*/bin/python3.1[0-3]))
PREFIX     ?= /usr/local
BUILD      ?= build
CC         ?= gcc
CFLAGS     ?= -O2 -g
CFLAGS     += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# The launcher exports libpython's symbols to extension modules it dlopens.
LAUNCHER_LTO     ?=
LAUNCHER_LDFLAGS := -no-pie -Wl,--export-dynamic $(LAUNCHER_LTO)
# pyenv's libpython carries 35 MB of debug information, which every app
# would carry too; the ASan launcher keeps it.
# All of libpython, as python's own binary has it: an extension module may
# need a function nothing in the launcher calls (3.13's _interpreters needs
# _PyInterpreterConfig_UpdateFromDict).
whole = -Wl,--whole-archive $(1) -Wl,--no-whole-archive
LAUNCHER_STRIP   := -Wl,--strip-debug
LAUNCHER_LIBS    := -Wl,-Bstatic -lexpat -lz -Wl,-Bdynamic -ldl -lm -lpthread -lutil

FORMAT_SRC   := src/format/kpack_read.c src/format/kpack_write.c \
                src/format/kpack_avx2.c
COMMON_SRC   := src/common/fdio.c src/common/privdir.c src/common/diag.c \
                src/common/strfmt.c
LAUNCHER_SRC := src/launcher/main.c src/launcher/importer.c src/launcher/finder.c \
                src/launcher/loader.c src/launcher/extload.c src/launcher/pathentry.c \
                src/launcher/excepthook.c src/launcher/install.c src/launcher/runapp.c \
                src/launcher/kilnmod.c src/launcher/pyrun.c \
                src/launcher/compiler.c \
                src/launcher/extract.c src/launcher/extract_set.c src/launcher/sweep.c \
                src/launcher/tempdir.c src/launcher/extract_report.c \
                src/launcher/opencode.c src/launcher/mpchild.c \
                src/launcher/childproof.c src/launcher/child.c src/launcher/children.c \
                src/launcher/paths.c src/launcher/entries.c src/launcher/pyinternal.c \
                src/launcher/installation.c src/launcher/locks.c
BUILDER_SRC  := src/builder/kiln.c src/builder/options.c src/builder/build.c \
                src/builder/pytarget.c src/builder/launchers.c src/builder/server.c \
                src/builder/collect.c src/builder/collection.c src/builder/dist.c \
                src/builder/scan.c src/builder/reach.c src/builder/imports.c \
                src/builder/extraction.c src/builder/extlibs.c \
                src/builder/compile.c src/builder/cache.c src/builder/pack.c \
                src/builder/inspect.c src/builder/reply.c src/builder/strbuf.c \
                src/builder/util.c src/common/elf.c
# -iquote: "elf.h" is kiln's, <elf.h> the system's. What both sides may
# include; each adds its own folder (LAUNCHER_INCLUDES, BUILDER_INCLUDES).
INCLUDES     := -iquote src/format -iquote src/common -iquote src/protocol
HEADERS      := $(wildcard src/*/*.h)

TARGETS_MK := $(BUILD)/targets.mk
ifeq ($(filter clean,$(MAKECMDGOALS)),)
-include $(TARGETS_MK)
endif
DEFAULT  := $(firstword $(TARGETS))
ifdef LIBPYTHON
T_$(DEFAULT)_LIBPYTHON := $(LIBPYTHON)
endif
ifdef PY_INCLUDE
T_$(DEFAULT)_INCLUDE := $(PY_INCLUDE)
endif
LAUNCHER  := kiln-launcher-$(DEFAULT)
LAUNCHERS := $(addprefix $(BUILD)/kiln-launcher-,$(TARGETS))
TARGET_H  := $(BUILD)/py-$(DEFAULT)/target.h
# Python code of the launcher lives in src/launcher/py/*.py and is built in
# as C strings: src/launcher/py/x.py becomes $(BUILD)/gen/x.py.h. The
# builder's, which it sends to the compile server, lives in src/builder/py/
# and becomes $(BUILD)/gen/builder/x.py.h, built into kiln only.
EMBED_PY := $(wildcard src/launcher/py/*.py)
EMBED_H  := $(patsubst src/launcher/py/%,$(BUILD)/gen/%.h,$(EMBED_PY))
BUILDER_EMBED_PY := $(wildcard src/builder/py/*.py)
BUILDER_EMBED_H  := $(patsubst src/builder/py/%,$(BUILD)/gen/builder/%.h,$(BUILDER_EMBED_PY))
# launcher_includes NAME: the paths of the launcher for target NAME.
launcher_includes = $(INCLUDES) -iquote src/launcher -I$(BUILD)/py-$(1) \
                    -I$(BUILD)/gen -I$(T_$(1)_INCLUDE)
LAUNCHER_INCLUDES = $(call launcher_includes,$(DEFAULT))
BUILDER_INCLUDES := $(INCLUDES) -iquote src/builder -I$(BUILD)/gen/builder

.PHONY: FORCE all install demo check bench deps check-deps unit-test fuzz e2e matrix san optimized clean hdr-check \
        conformance conformance-quick
# A plain `make` checks the Debian packages it needs first (deps.sh).
# A launcher per installation is a lot of objects: a job per core
# (JOBS=-j1 builds one at a time).
JOBS ?= -j$(shell nproc)
all: deps
	@$(MAKE) --no-print-directory $(JOBS) $(BUILD)/kiln $(LAUNCHERS)

# Remade on every run, replaced only when PYTHONS or an installation
# changed; kiln's default target (options.c) comes with it.
$(TARGETS_MK): FORCE
	@mkdir -p $(BUILD)/gen/builder
	@tools/targets.sh $@ $(BUILD)/targets.txt $(BUILD)/gen/builder/default_target.h $(PYTHONS)
FORCE:

define embed_py
	@mkdir -p $(@D)
	$(PYTHON) tools/embed.py $(subst .,_,$(*F))_py $< > $@.tmp
	mv $@.tmp $@
endef
$(BUILD)/gen/%.py.h: src/launcher/py/%.py tools/embed.py
	$(embed_py)
$(BUILD)/gen/builder/%.py.h: src/builder/py/%.py tools/embed.py
	$(embed_py)

# Object files, one per source, with -MMD dependencies: touching one file
# rebuilds one file. $(BUILD)/obj and, for ASan+UBSan, $(BUILD)/san/obj.
OBJ_DIR := $(BUILD)/obj
SAN_DIR := $(BUILD)/san/obj
objects = $(patsubst src/%.c,$(1)/%.o,$(2))
BUILDER_OBJ = $(call objects,$(1),$(BUILDER_SRC) $(FORMAT_SRC) $(COMMON_SRC))
LAUNCHER_OBJ = $(call objects,$(1),$(LAUNCHER_SRC) $(FORMAT_SRC) $(COMMON_SRC))

define compile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(1) -MMD -MP $(2) -c -o $@ $<
endef
# obj_rules DIR FLAGS_VAR: each side compiles with its own include paths;
# FLAGS_VAR names the extra flags (its value has commas, which a call
# would split).
define obj_rules
$(1)/builder/%.o: src/builder/%.c | $$(BUILDER_EMBED_H)
	$$(call compile,$$($(2)),$$(BUILDER_INCLUDES))
$(1)/launcher/%.o: src/launcher/%.c | $$(TARGET_H) $$(EMBED_H)
	$$(call compile,$$($(2)) $$(LAUNCHER_LTO),$$(LAUNCHER_INCLUDES))
$(1)/common/%.o: src/common/%.c
	$$(call compile,$$($(2)),$$(INCLUDES))
$(1)/format/%.o: src/format/%.c
	$$(call compile,$$($(2)),$$(INCLUDES))
endef
PLAIN_FLAGS :=
$(eval $(call obj_rules,$(OBJ_DIR),PLAIN_FLAGS))
$(eval $(call obj_rules,$(SAN_DIR),SAN_FLAGS))
-include $(wildcard $(OBJ_DIR)/*/*.d $(SAN_DIR)/*/*.d)

$(BUILD)/kiln: $(call BUILDER_OBJ,$(OBJ_DIR))
	$(CC) $(CFLAGS) -o $@ $^ -lpthread

# target_rules NAME: the launcher of target NAME. target.h holds what the
# launcher knows of its installation (tools/target-h.py): its bytecode
# magic, its prefix (the compile server finds the stdlib and site folders
# there, whatever python3 is on PATH) and its identity, made again when
# its libpython changes.
define target_rules
$(BUILD)/py-$(1)/target.h: $$(T_$(1)_LIBPYTHON) tools/target-h.py
	@mkdir -p $$(@D)
	$$(T_$(1)_PYTHON) -I -S tools/target-h.py $$(T_$(1)_LIBPYTHON) > $$@.tmp
	mv $$@.tmp $$@
$(OBJ_DIR)/launcher-$(1)/%.o: src/launcher/%.c | $(BUILD)/py-$(1)/target.h $$(EMBED_H)
	$$(call compile,$$(LAUNCHER_LTO),$$(call launcher_includes,$(1)))
$(BUILD)/kiln-launcher-$(1): $$(patsubst src/launcher/%.c,$(OBJ_DIR)/launcher-$(1)/%.o,$$(LAUNCHER_SRC)) \
                             $$(call objects,$(OBJ_DIR),$$(FORMAT_SRC) $$(COMMON_SRC))
	$$(CC) $$(CFLAGS) $$(LAUNCHER_LDFLAGS) $$(LAUNCHER_STRIP) -o $$@ $$^ \
	    $$(call whole,$$(T_$(1)_LIBPYTHON)) $$(LAUNCHER_LIBS)
# python3 on the launcher's own libpython: make bench's same-interpreter
# baseline.
$(BUILD)/python-static-$(1): bench/python_static.c $$(T_$(1)_LIBPYTHON)
	$$(CC) $$(CFLAGS) -I$$(T_$(1)_INCLUDE) $$(LAUNCHER_LDFLAGS) -o $$@ $$< \
	    $$(call whole,$$(T_$(1)_LIBPYTHON)) $$(LAUNCHER_LIBS)
endef
$(foreach t,$(TARGETS),$(eval $(call target_rules,$(t))))

# ASan+UBSan builds of both, side by side so that kiln finds its launcher.
san: $(BUILD)/san/kiln $(BUILD)/san/$(LAUNCHER)
$(BUILD)/san/kiln: $(call BUILDER_OBJ,$(SAN_DIR))
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ -lpthread
$(BUILD)/san/$(LAUNCHER): $(call LAUNCHER_OBJ,$(SAN_DIR))
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(LAUNCHER_LDFLAGS) -o $@ $^ \
	    $(call whole,$(T_$(DEFAULT)_LIBPYTHON)) $(LAUNCHER_LIBS)

# Every header compiles on its own (git's hdr-check), with its side's paths.
hdr-check: $(TARGET_H) $(EMBED_H) $(BUILDER_EMBED_H)
	@tools/hdr-check.sh "$(CC)" $(CFLAGS) $(BUILDER_INCLUDES) -- \
	    $(wildcard src/builder/*.h src/common/*.h src/format/*.h src/protocol/*.h)
	@tools/hdr-check.sh "$(CC)" $(CFLAGS) $(LAUNCHER_INCLUDES) -- \
	    $(wildcard src/launcher/*.h)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/kiln
	install -m 755 $(BUILD)/kiln $(DESTDIR)$(PREFIX)/bin/kiln
	install -m 755 -s $(LAUNCHERS) $(DESTDIR)$(PREFIX)/lib/kiln/

deps:
	@tools/deps.sh build

check-deps:
	@tools/deps.sh check

demo: deps all
	@tools/demo.sh $(BUILD)

-include tests/unit/rules.mk

e2e: all san $(BUILD)/repack
	@tests/e2e/run.sh $(BUILD)

# The core end-to-end tests against each other installation of
# $(BUILD)/targets.txt (tests/matrix.sh); the default has the whole suite.
matrix: all $(BUILD)/repack
	tests/matrix.sh $(BUILD)

check: check-deps
	$(MAKE) all
	$(MAKE) $(JOBS) san $(BUILD)/repack
	$(MAKE) hdr-check
	$(MAKE) unit-test
	$(MAKE) fuzz
	tests/e2e/run.sh $(BUILD)
	tests/matrix.sh $(BUILD)
	$(MAKE) conformance-quick

# CPython's own test suite, run by a kiln interpreter and by the target
# python -I -S (Debian's libpython3.11-testsuite; pyenv's own suites).
# conformance PY=NAME: every module of that target (default: the first),
# -j2, writes its section of docs/conformance.md (ONLY=kiln reruns kiln
# alone); conformance-quick: tests/conformance/quick.txt on the default,
# and tests/conformance/quick-matrix.txt on every other target; each fails
# on a difference that tests/conformance/differences.txt does not explain.
conformance: all
	tools/conformance.sh $(BUILD) full $(PY)

conformance-quick: all
	tools/conformance.sh $(BUILD) quick
	tools/conformance.sh $(BUILD) quick-matrix

# PY=NAME: the target to measure (a NAME of $(BUILD)/targets.txt: 3.12).
PY ?= $(DEFAULT)
bench: deps all $(BUILD)/python-static-$(PY)
	@bench/bench.sh $(BUILD) $(PY)

# kiln on a PGO+LTO libpython built from Debian's python3.11 source, in
# $(BUILD)/opt (20-30 minutes; not needed by anything else). The link-time
# optimizer sees CPython's own code, whose warnings are not ours to fail on
# (the plain build checks kiln's sources with -Werror). The launcher is
# stripped: the library's debug information would add 20 MB to every app.
OPT_PYTHON ?= $(BUILD)/optimized-python
optimized:
	tools/optimized-python.sh $(OPT_PYTHON)
	$(MAKE) BUILD=$(BUILD)/opt PYTHONS=$(PYTHON) LIBPYTHON=$(OPT_PYTHON)/current/libpython$(PY_VERSION).a \
	    PY_INCLUDE="$(abspath $(OPT_PYTHON))/current/Include -I$(abspath $(OPT_PYTHON))/current" \
	    LAUNCHER_LTO="-flto=auto -w -s" all $(BUILD)/opt/python-static-$(DEFAULT)

clean:
	rm -rf $(BUILD)

$(BUILD)/repack: tests/tools/repack.c $(FORMAT_SRC) $(HEADERS)
	$(CC) $(CFLAGS) $(INCLUDES) -o $@ tests/tools/repack.c $(FORMAT_SRC)
