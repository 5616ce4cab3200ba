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
    l->line = p;
    l->len = strcspn(p, "\n");
    *at = p + l->len + (p[l->len] == '\n');
    l->value = memchr(p, '=', l->len);
    l->key = p;
    l->key_len = l->value ? (size_t)(l->value - p) : l->len;
    if (l->value)
        l->value++;
    l->value_len = l->value ? l->len - l->key_len - 1 : 0;
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
