/*
 * kpack_avx2.c - XXH3-64 built for AVX2, which hashes a byte in a third of
 * the instructions of the SSE2 build; kpack_read.c calls it only when the
 * CPU has AVX2. The hash is the same either way.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("avx2")
#define XXH_VECTOR 2 /* XXH_AVX2 */
#endif
#include "kpack_hash.h"

#if KP_HAVE_AVX2_BUILD

uint64_t kp_xxh3_avx2(const void *buf, size_t len)
{
    return XXH3_64bits(buf, len);
}

void kp_xxh3_update_avx2(XXH3_state_t *st, const void *buf, size_t len)
{
    XXH3_64bits_update(st, buf, len);
}

#else
typedef int kp_no_avx2_build; /* ISO C: a unit declares something */
#endif
