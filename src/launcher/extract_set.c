/*
 * extract_set.c - the packed files and folders of a set of top-level
 * names, walked in order, for the extract cache and its check at exit.
 */
#include "extract_set.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entries.h"
#include "strfmt.h"

char *kiln_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *out;

    va_start(ap, fmt);
    out = str_vprintf(fmt, ap);
    va_end(ap);
    return out;
}

/* Calls fn for every packed file of top: the file `top` itself, or those
   under top/. Stops at the first non-zero result. */
static int each_top_file(const kp_pack *pack, const char *top, kiln_file_fn fn,
                         void *arg)
{
    size_t len = strlen(top);
    char small[256], *prefix = len < sizeof small - 1 ? small
                                                      : malloc(len + 2);
    long single = kp_find_file(pack, top, len);
    kp_entry e;
    int rc = 0;

    if (!prefix)
        return -1;
    memcpy(prefix, top, len);
    prefix[len] = '/';
    prefix[len + 1] = '\0';
    if (single >= 0) {
        kp_file_at(pack, (uint32_t)single, &e);
        rc = fn(pack, &e, arg);
    }
    for (uint32_t i = kp_files_lower_bound(pack, prefix, len + 1);
         rc == 0 && i < pack->file_count; i++) {
        kp_file_at(pack, i, &e);
        if (e.path_len <= len || memcmp(e.path, prefix, len + 1) != 0)
            break;
        rc = fn(pack, &e, arg);
    }
    if (prefix != small)
        free(prefix);
    return rc;
}

/* each_top_file() for every name of the set, in order. */
int kiln_each_file(const kp_pack *pack, const kiln_top_set *set,
                   kiln_file_fn fn, void *arg)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < set->n; i++)
        rc = each_top_file(pack, set->tops[i], fn, arg);
    return rc;
}

/* The folders that hold the files of a set, each once: the root (""),
   then, file by file, the folders of its path not seen yet. Packed paths
   are sorted bytewise, so the files below one folder are contiguous. */
typedef struct {
    int (*fn)(const char *rel, void *arg);
    void *arg;
    const char *prev; /* the folder of the previous file */
    size_t prev_len;
} dir_walk;

static int walk_dir_of(const kp_pack *pack, const kp_entry *e, void *arg)
{
    dir_walk *w = arg;
    size_t len = ke_folder_len(e->path, e->path_len), same = 0;
    char *rel;
    int rc = 0;

    (void)pack;
    /* The longest folder that this file shares with the previous one. */
    for (size_t i = 0; i <= len && i <= w->prev_len; i++) {
        int end_a = i == len || e->path[i] == '/';
        int end_b = i == w->prev_len || w->prev[i] == '/';
        if (end_a && end_b)
            same = i;
        if (i == len || i == w->prev_len || e->path[i] != w->prev[i])
            break;
    }
    if (!w->prev)
        same = 0;
    rel = strndup(e->path, len);
    if (!rel)
        return -1;
    for (size_t i = same ? same + 1 : 0; rc == 0 && i <= len; i++)
        if (i == len || rel[i] == '/') {
            rel[i] = '\0';
            if (i > 0)
                rc = w->fn(rel, w->arg);
            rel[i] = i == len ? '\0' : '/';
        }
    free(rel);
    w->prev = e->path;
    w->prev_len = len;
    return rc;
}

int kiln_each_dir(const kp_pack *pack, const kiln_top_set *set,
                  int (*fn)(const char *rel, void *arg), void *arg)
{
    dir_walk w = {fn, arg, NULL, 0};

    if (fn("", arg) != 0)
        return -1;
    return kiln_each_file(pack, set, walk_dir_of, &w);
}

unsigned long long kiln_mtime_ns(const struct stat *st)
{
    return (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
           (unsigned long long)st->st_mtim.tv_nsec;
}
