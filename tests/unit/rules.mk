# tests/unit/rules.mk - unit tests and fuzzing of the kpack format.
#
# Included by the main Makefile, which defines CC, CFLAGS, BUILD and
# SAN_FLAGS.
#   make unit-test                 plain and ASan+UBSan builds of test_kpack
#   make fuzz [FUZZ_SECONDS=30]    libFuzzer run, seeded by make_corpus

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_FLAGS ?= -std=c11 -g -O1 -D_GNU_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

KPACK_DEPS := src/format/kpack.c src/format/kpack.h

$(BUILD)/test_kpack: tests/unit/test_kpack.c $(KPACK_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc/format -o $@ tests/unit/test_kpack.c \
		src/format/kpack.c

$(BUILD)/test_kpack_san: tests/unit/test_kpack.c $(KPACK_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Isrc/format -o $@ \
		tests/unit/test_kpack.c src/format/kpack.c

unit-test: $(BUILD)/test_kpack $(BUILD)/test_kpack_san
	$(BUILD)/test_kpack
	$(BUILD)/test_kpack_san

$(BUILD)/fuzz_kpack: tests/fuzz/fuzz_kpack.c $(KPACK_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Isrc/format -o $@ tests/fuzz/fuzz_kpack.c \
		src/format/kpack.c

$(BUILD)/make_corpus: tests/fuzz/make_corpus.c $(KPACK_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc/format -o $@ tests/fuzz/make_corpus.c \
		src/format/kpack.c

# The corpus directory is kept between runs and grows; crash inputs land
# in $(BUILD)/fuzz-artifacts. libFuzzer exits non-zero on a crash, a leak,
# a timeout or running out of memory, which fails the target.
fuzz: $(BUILD)/fuzz_kpack $(BUILD)/make_corpus
	@mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/make_corpus $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz_kpack -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-timeout=10 -artifact_prefix=$(BUILD)/fuzz-artifacts/ \
		$(BUILD)/fuzz-corpus

.PHONY: unit-test fuzz
