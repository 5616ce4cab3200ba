/*
 * require.h - REQUIRE(c) for the fuzz targets: an invariant of an accepted
 * input does not hold, which is a reader bug, so abort and let libFuzzer
 * keep the input.
 */
#ifndef KILN_REQUIRE_H
#define KILN_REQUIRE_H

#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(c)                                                           \
    do {                                                                     \
        if (!(c)) {                                                          \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,      \
                    __LINE__, #c);                                           \
            abort();                                                         \
        }                                                                    \
    } while (0)

#endif
