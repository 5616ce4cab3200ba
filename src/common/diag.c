/*
 * diag.c - messages to stderr: one sink for errors and warnings.
 */
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(const char *prefix, const char *fmt, va_list ap,
                   const char *reason)
{
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    if (reason)
        fprintf(stderr, ": %s", reason);
    fputc('\n', stderr);
}

int error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report("kiln: ", fmt, ap, NULL);
    va_end(ap);
    return -1;
}

int error_errno(const char *fmt, ...)
{
    const char *reason = strerror(errno);
    va_list ap;

    va_start(ap, fmt);
    report("kiln: ", fmt, ap, reason);
    va_end(ap);
    return -1;
}

void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report("kiln: ", fmt, ap, NULL);
    va_end(ap);
    exit(1);
}

void warning(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report("kiln: warning: ", fmt, ap, NULL);
    va_end(ap);
}
