/*
 * reply.h - reads the compile server's replies (docs/format.md): lines
 * "key=value" ended by '\n'. One iterator serves every reply the builder
 * reads (INFO, TOML, GRAMMAR, DISTS, SCAN).
 */
#ifndef KILN_REPLY_H
#define KILN_REPLY_H

#include <stddef.h>

typedef struct {
    const char *line; /* the whole line, len bytes, without its '\n' */
    size_t len;
    const char *key; /* the line up to its first '=', key_len bytes */
    size_t key_len;
    const char *value; /* after the '=', value_len bytes; NULL: no '=' */
    size_t value_len;
} reply_line;

/* The next non-empty line of the text at *at, which moves past it; 0 at
   the end of the text. */
int reply_next(const char **at, reply_line *l);
/* Is the line "key=..."? */
int reply_is(const reply_line *l, const char *key);
/* The value as a new string ("" when the line has no '='). */
char *reply_value(const reply_line *l);
/* For a reply the caller owns (text, where l was read): the value as a
   C string in place, its '\n' overwritten. */
char *reply_cut(char *text, const reply_line *l);
/* The value of the first line "key=..." of text, as a new string, or
   NULL. */
char *reply_get(const char *text, const char *key);
/* The value of the first line "key=NAME\tVALUE" of text for name[0:len),
   as a new string, or NULL. */
char *reply_lookup(const char *text, const char *key, const char *name,
                   size_t len);

#endif
