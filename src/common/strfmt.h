/*
 * strfmt.h - printf into a new string, for both programs: the builder
 * wraps it with its out-of-memory exit (xprintf), the launcher checks
 * for NULL.
 */
#ifndef KILN_STRFMT_H
#define KILN_STRFMT_H

#include <stdarg.h>

/* A malloc'd string, or NULL when out of memory. */
char *str_vprintf(const char *fmt, va_list ap);

#endif
