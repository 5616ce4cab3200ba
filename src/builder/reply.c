/*
 * reply.c - the reply-line iterator (reply.h).
 */
#include "reply.h"

#include <string.h>

#include "util.h"

int reply_next(const char **at, reply_line *l)
{
    const char *p = *at;

    while (p && *p == '\n')
        p++;
    if (!p || !*p) {
        *at = p;
        return 0;
    }
    /* One pass: to the first '=' or the end of the line. */
    l->line = l->key = p;
    l->key_len = strcspn(p, "=\n");
    l->value = p[l->key_len] == '=' ? p + l->key_len + 1 : NULL;
    l->value_len = l->value ? strcspn(l->value, "\n") : 0;
    l->len = l->value ? l->key_len + 1 + l->value_len : l->key_len;
    *at = p + l->len + (p[l->len] == '\n');
    return 1;
}

int reply_is(const reply_line *l, const char *key)
{
    return l->value && strlen(key) == l->key_len &&
           memcmp(l->key, key, l->key_len) == 0;
}

char *reply_value(const reply_line *l)
{
    return xprintf("%.*s", (int)l->value_len, l->value ? l->value : "");
}

char *reply_cut(char *text, const reply_line *l)
{
    char *value = text + (l->value - text);

    value[l->value_len] = '\0';
    return value;
}

char *reply_lookup(const char *text, const char *key, const char *name,
                   size_t len)
{
    reply_line l;

    while (reply_next(&text, &l))
        if (reply_is(&l, key) && l.value_len > len &&
            strncmp(l.value, name, len) == 0 && l.value[len] == '\t')
            return xprintf("%.*s", (int)(l.value_len - len - 1),
                           l.value + len + 1);
    return NULL;
}

char *reply_get(const char *text, const char *key)
{
    reply_line l;

    while (reply_next(&text, &l))
        if (reply_is(&l, key))
            return reply_value(&l);
    return NULL;
}
