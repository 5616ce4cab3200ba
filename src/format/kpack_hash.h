/*
 * kpack_hash.h - private to src/format: XXH3-64, the payload's checksum,
 * with AVX2 where the CPU has it (kpack_avx2.c).
 */
#ifndef KILN_KPACK_HASH_H
#define KILN_KPACK_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* GCC only: clang's <immintrin.h> (the fuzzer's) wants -mavx2. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KP_HAVE_AVX2_BUILD 1
#else
#define KP_HAVE_AVX2_BUILD 0
#endif

/* XXH3_64bits() and XXH3_64bits_update(), AVX2 when the CPU has it. */
uint64_t kp_xxh3(const void *buf, size_t len);
void kp_xxh3_update(XXH3_state_t *st, const void *buf, size_t len);

#if KP_HAVE_AVX2_BUILD
uint64_t kp_xxh3_avx2(const void *buf, size_t len);
void kp_xxh3_update_avx2(XXH3_state_t *st, const void *buf, size_t len);
#endif

#endif
