/*
 * pytarget.c - the target CPython (pytarget.h): its INFO reply, the
 * grammars lib2to3 needs.
 */
#include "pytarget.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reply.h"

int target_query(kserver *s, target_info *t)
{
    uint32_t status;
    uint8_t *out;
    size_t len;
    char *magic, *hexversion;
    unsigned bytes[4];

    if (server_call(s, KC_OP_INFO, 0, "info", "", 0, &status, &out, &len))
        return -1;
    if (status != KC_OK) {
        error("the launcher %s cannot describe its Python: %s", s->launcher,
              (char *)out);
        free(out);
        return -1;
    }
    t->version = reply_get((char *)out, "version");
    t->stdlib = reply_get((char *)out, "stdlib");
    t->dynload = reply_get((char *)out, "dynload");
    t->ext_suffix = reply_get((char *)out, "ext_suffix");
    t->builtins = reply_get((char *)out, "builtins");
    t->frozen = reply_get((char *)out, "frozen");
    t->scanner = reply_get((char *)out, "scanner");
    magic = reply_get((char *)out, "magic");
    hexversion = reply_get((char *)out, "hexversion");
    t->hexversion = (uint32_t)strtoul(hexversion ? hexversion : "0", NULL,
                                      10);
    free(hexversion);
    free(out);
    if (!t->version || !t->stdlib || !t->dynload || !t->ext_suffix ||
        !t->builtins || !t->scanner ||
        !magic || sscanf(magic, "%2x%2x%2x%2x", &bytes[0], &bytes[1],
                         &bytes[2], &bytes[3]) != 4) {
        free(magic);
        return error("the launcher %s gave an incomplete description of "
                     "its Python", s->launcher);
    }
    t->magic = bytes[0] | bytes[1] << 8 | bytes[2] << 16 |
               (uint32_t)bytes[3] << 24;
    free(magic);
    return 0;
}

void target_free(target_info *t)
{
    free(t->version);
    free(t->stdlib);
    free(t->dynload);
    free(t->ext_suffix);
    free(t->builtins);
    free(t->frozen);
    free(t->scanner);
}

char *target_importable(const target_info *t)
{
    return xprintf("%s,%s", t->builtins, t->frozen ? t->frozen : "");
}

int target_has_tkinter(const target_info *t)
{
    DIR *d = opendir(t->dynload);
    struct dirent *de;
    int found = 0;

    while (d && !found && (de = readdir(d)))
        found = strncmp(de->d_name, "_tkinter.", 9) == 0;
    if (d)
        closedir(d);
    return found;
}

/* ---- lib2to3's grammars ------------------------------------------------ */

/* lib2to3 loads a pickled grammar when Grammar.txt is not a file on disk,
   as inside the executable; Debian ships no pickles, so the target Python
   makes them. */
int target_add_lib2to3_grammars(kserver *s, collection *c,
                                const target_info *t)
{
    char *dir = xprintf("%s/lib2to3", t->stdlib);
    const char *at;
    reply_line l;
    uint32_t status;
    uint8_t *out;
    size_t len;
    int rc = 0;

    if (!collection_find(c, "lib2to3.pgen2.driver")) {
        free(dir);
        return 0;
    }
    if (server_call(s, KC_OP_GRAMMAR, 0, dir, "", 0, &status, &out, &len)) {
        free(dir);
        return -1;
    }
    if (status != KC_OK)
        rc = error("cannot make lib2to3's grammars from %s: %s", dir,
                   (char *)out);
    for (at = (char *)out; rc == 0 && reply_next(&at, &l);) {
        size_t n = l.value_len / 2;
        const char *hex;
        uint8_t *bytes;
        char *relpath;

        if (!l.value)
            continue;
        hex = reply_cut((char *)out, &l); /* sscanf reads to its end */
        bytes = xmalloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            sscanf(hex + 2 * i, "%2hhx", &bytes[i]);
        relpath = xprintf("lib2to3/%.*s", (int)l.key_len, l.key);
        collection_add_made(c, relpath, bytes, n);
        free(relpath);
    }
    free(out);
    free(dir);
    return rc;
}
