/*
 * strbuf.c - a growable string (strbuf.h).
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h" /* xrealloc */

char strbuf_empty[1];

void strbuf_grow(strbuf *sb, size_t extra)
{
    size_t want = sb->len + extra + 1;

    if (want <= sb->alloc)
        return;
    if (want < 2 * sb->alloc)
        want = 2 * sb->alloc;
    if (want < 64)
        want = 64;
    sb->buf = xrealloc(sb->alloc ? sb->buf : NULL, want);
    if (!sb->alloc)
        sb->buf[0] = '\0';
    sb->alloc = want;
}

void strbuf_add(strbuf *sb, const void *data, size_t len)
{
    strbuf_grow(sb, len);
    memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void strbuf_addstr(strbuf *sb, const char *s)
{
    strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(strbuf *sb, int c)
{
    strbuf_grow(sb, 1);
    sb->buf[sb->len++] = (char)c;
    sb->buf[sb->len] = '\0';
}

void strbuf_addf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    strbuf_grow(sb, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

int strbuf_has_line(const strbuf *sb, const char *prefix)
{
    size_t len = strlen(prefix);
    const char *end = sb->buf + sb->len;

    for (const char *p = sb->buf; p < end; p += strcspn(p, "\n") + 1)
        if ((size_t)(end - p) >= len && memcmp(p, prefix, len) == 0)
            return 1;
    return 0;
}

char *strbuf_detach(strbuf *sb)
{
    char *s = sb->alloc ? sb->buf : xstrdup("");

    *sb = (strbuf)STRBUF_INIT;
    return s;
}

void strbuf_release(strbuf *sb)
{
    if (sb->alloc)
        free(sb->buf);
    *sb = (strbuf)STRBUF_INIT;
}
