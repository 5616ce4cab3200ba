/*
 * strbuf.h - a growable string, as git's strbuf: requests and joined lists
 * are built by appending, in amortised linear time, with no strcat.
 */
#ifndef KILN_STRBUF_H
#define KILN_STRBUF_H

#include <stddef.h>

/* buf is always a NUL-terminated string of len bytes (never NULL: an empty
   strbuf points at a shared ""); alloc 0 means nothing is allocated. */
typedef struct {
    char *buf;
    size_t len, alloc;
} strbuf;

extern char strbuf_empty[];
#define STRBUF_INIT {strbuf_empty, 0, 0}

/* Room for extra more bytes (and the NUL) without reallocating. */
void strbuf_grow(strbuf *sb, size_t extra);
void strbuf_add(strbuf *sb, const void *data, size_t len);
void strbuf_addstr(strbuf *sb, const char *s);
void strbuf_addch(strbuf *sb, int c);
void strbuf_addf(strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Does a line of the buffer start with prefix? A prefix that ends with
   '\n' asks for a whole line. */
int strbuf_has_line(const strbuf *sb, const char *prefix);
/* The string, malloc'd ("" when empty), and the strbuf empty again. */
char *strbuf_detach(strbuf *sb);
void strbuf_release(strbuf *sb);

#endif
