/*
 * strfmt.c - printf into a new string (strfmt.h).
 */
#include "strfmt.h"

#include <stdio.h>
#include <stdlib.h>

char *str_vprintf(const char *fmt, va_list ap)
{
    va_list again;
    char *out;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (out)
        vsnprintf(out, (size_t)n + 1, fmt, again);
    va_end(again);
    return out;
}
