# tests/unit/rules.mk - unit tests and fuzzing of the kpack format, of what
# the launcher does with its entries, and of the ELF dependency reader.
#
# Included by the main Makefile, which defines CC, CFLAGS, BUILD and
# SAN_FLAGS.
#   make unit-test                 plain and ASan+UBSan builds of test_kpack,
#                                  test_elf and test_strbuf (the builder's
#                                  strbuf and reply-line reader), and the
#                                  unit tests of the launcher's Python half
#                                  (tests/py)
#   make fuzz [FUZZ_SECONDS=30]    libFuzzer runs of fuzz_kpack (the reader
#                                  and the launcher's src/launcher/entries.c,
#                                  seeded by make_corpus) and fuzz_elf
#                                  (seeded by shared objects), half the time
#                                  each

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_FLAGS ?= -std=c11 -g -O1 -D_GNU_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

FUZZ_HALF = $$(( ($(FUZZ_SECONDS) + 1) / 2 ))

KPACK_SRC := src/format/kpack_read.c src/format/kpack_write.c \
	src/format/kpack_avx2.c
KPACK_DEPS := $(KPACK_SRC) src/format/kpack.h src/format/kpack_layout.h \
	src/format/kpack_hash.h
ENTRIES_DEPS := src/launcher/entries.c src/launcher/entries.h
ELF_DEPS := src/common/elf.c src/common/elf.h
UNIT_DEPS := tests/unit/harness.h
# The builder's text helpers, and what they use of the builder.
STRBUF_SRC := src/builder/strbuf.c src/builder/reply.c src/builder/util.c \
	src/common/diag.c src/common/strfmt.c src/format/kpack_read.c \
	src/format/kpack_avx2.c
STRBUF_DEPS := $(STRBUF_SRC) src/builder/strbuf.h src/builder/reply.h \
	src/builder/util.h src/common/diag.h
STRBUF_INC := -iquote src/builder -iquote src/common -iquote src/format

$(BUILD)/test_kpack: tests/unit/test_kpack.c $(KPACK_DEPS) $(UNIT_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc/format -o $@ tests/unit/test_kpack.c \
		$(KPACK_SRC)

$(BUILD)/test_kpack_san: tests/unit/test_kpack.c $(KPACK_DEPS) $(UNIT_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Isrc/format -o $@ \
		tests/unit/test_kpack.c $(KPACK_SRC)

$(BUILD)/test_elf: tests/unit/test_elf.c $(ELF_DEPS) $(UNIT_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -iquote src/common -o $@ tests/unit/test_elf.c \
		src/common/elf.c

$(BUILD)/test_elf_san: tests/unit/test_elf.c $(ELF_DEPS) $(UNIT_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -iquote src/common -o $@ \
		tests/unit/test_elf.c src/common/elf.c

$(BUILD)/test_strbuf: tests/unit/test_strbuf.c $(STRBUF_DEPS) $(UNIT_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(STRBUF_INC) -o $@ tests/unit/test_strbuf.c \
		$(STRBUF_SRC)

$(BUILD)/test_strbuf_san: tests/unit/test_strbuf.c $(STRBUF_DEPS) $(UNIT_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(STRBUF_INC) -o $@ \
		tests/unit/test_strbuf.c $(STRBUF_SRC)

unit-test: $(BUILD)/test_kpack $(BUILD)/test_kpack_san $(BUILD)/test_elf \
		$(BUILD)/test_elf_san $(BUILD)/test_strbuf $(BUILD)/test_strbuf_san
	$(BUILD)/test_kpack
	$(BUILD)/test_kpack_san
	$(BUILD)/test_elf
	$(BUILD)/test_elf_san
	$(BUILD)/test_strbuf
	$(BUILD)/test_strbuf_san
	$(PYTHON) -I tests/py/test_kiln_support.py

$(BUILD)/fuzz_kpack: tests/fuzz/fuzz_kpack.c tests/fuzz/require.h $(KPACK_DEPS) \
		$(ENTRIES_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Isrc/format -iquote src/launcher -o $@ \
		tests/fuzz/fuzz_kpack.c $(KPACK_SRC) src/launcher/entries.c

$(BUILD)/make_corpus: tests/fuzz/make_corpus.c $(KPACK_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc/format -o $@ tests/fuzz/make_corpus.c \
		$(KPACK_SRC)

$(BUILD)/fuzz_elf: tests/fuzz/fuzz_elf.c tests/fuzz/require.h $(ELF_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -iquote src/common -o $@ tests/fuzz/fuzz_elf.c \
		src/common/elf.c

# ELF seeds: a small library with a soname, a runpath and two DT_NEEDED,
# and small extension modules of the target Python.
ELF_SEEDS := $(wildcard $(addprefix /usr/lib/python$(PY_VERSION)/lib-dynload/, \
	_uuid.*.so nis.*.so _crypt.*.so))
$(BUILD)/fuzz-elf-corpus/.seeded: $(ELF_SEEDS)
	@mkdir -p $(@D)
	printf 'int seed(void) { return 1; }\n' | $(CC) -shared -fPIC -s -x c - \
		-o $(@D)/seed.so -Wl,-soname,libseed.so.1 \
		-Wl,-rpath,'$$ORIGIN/../seed.libs' -Wl,--no-as-needed -lm
	$(if $(ELF_SEEDS),cp $(ELF_SEEDS) $(@D)/)
	touch $@

# The corpus directories are kept between runs and grow; crash inputs land
# in $(BUILD)/fuzz-artifacts. libFuzzer exits non-zero on a crash, a leak,
# a timeout or running out of memory, which fails the target.
fuzz: $(BUILD)/fuzz_kpack $(BUILD)/make_corpus $(BUILD)/fuzz_elf \
		$(BUILD)/fuzz-elf-corpus/.seeded
	@mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/make_corpus $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz_kpack -max_total_time=$(FUZZ_HALF) -max_len=65536 \
		-timeout=10 -artifact_prefix=$(BUILD)/fuzz-artifacts/ \
		$(BUILD)/fuzz-corpus
	$(BUILD)/fuzz_elf -max_total_time=$(FUZZ_HALF) -max_len=65536 \
		-timeout=10 -artifact_prefix=$(BUILD)/fuzz-artifacts/ \
		$(BUILD)/fuzz-elf-corpus

.PHONY: unit-test fuzz
