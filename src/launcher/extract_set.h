/*
 * extract_set.h - the packed files and folders of a set of top-level names,
 * which one extraction holds, walked in order.
 */
#ifndef KILN_EXTRACT_SET_H
#define KILN_EXTRACT_SET_H

#include <stddef.h>
#include <sys/stat.h>

#include "kpack.h"

/* Written last into a complete extraction: the layout, then one line per
   file, "SIZE MTIME_NS PATH". */
#define KILN_EXTRACT_STAMP ".kiln-complete"

/* The top-level names whose files one folder holds, sorted, distinct. */
typedef struct {
    char **tops;
    size_t n;
} kiln_top_set;

typedef int (*kiln_file_fn)(const kp_pack *, const kp_entry *, void *);

/* Calls fn for every packed file of the set's names, in order; stops at
   the first non-zero result, and returns it. */
int kiln_each_file(const kp_pack *pack, const kiln_top_set *set,
                   kiln_file_fn fn, void *arg);
/* Calls fn for each folder that holds the set's files, once: the root
   (""), then the others in order. -1 when fn fails. */
int kiln_each_dir(const kp_pack *pack, const kiln_top_set *set,
                  int (*fn)(const char *rel, void *arg), void *arg);

unsigned long long kiln_mtime_ns(const struct stat *st);
/* A malloc'd formatted string; NULL when out of memory. */
char *kiln_asprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
