/*
 * entries.h - what the launcher makes of packed entries, in plain C (no
 * Python): the parts of a packed path it cuts, the paths it joins, the
 * preload list it splits and the main module it runs. The importer and
 * the fuzz target (tests/fuzz/fuzz_kpack.c) share this code, so that the
 * fuzzer checks what the launcher really does with a hostile entry.
 */
#ifndef KILN_ENTRIES_H
#define KILN_ENTRIES_H

#include <stddef.h>

#include "kpack.h"

/* Length of the first part of a packed path: the top-level package or
   module it belongs to ("json" for json/decoder.py), whose files the
   extract cache writes together. */
size_t ke_top_len(const char *path, size_t len);
/* Length of the folder part of a packed path: "a/b.py" -> 1, "b.py" -> 0. */
size_t ke_folder_len(const char *path, size_t len);
/* Packed path length of the folder a package's submodules live in: a
   namespace package's path, else the folder of its __init__. */
size_t ke_package_dir_len(const kp_entry *e);
/* Length of the packed folder a module sits in: "a" for a/b/__init__.py,
   a/b (a namespace package) and a/c.py. */
size_t ke_location_len(const kp_entry *e);
/* Is the file f one of the files of top (the file top itself, or one under
   top/)? Those are what extracting top writes. */
int ke_in_top(const kp_entry *f, const char *top, size_t len);
/* root "/" rel[0:len] (root alone when len is 0) into out: the path of a
   packed path under a folder (the executable, or an extract folder). -1
   when it does not fit in outlen bytes. */
int ke_join(char *out, size_t outlen, const char *root, const char *rel,
            size_t len);
/* The next path of a preload list (blob b of an extension module: packed
   paths joined by '\n'): its start and *len, from *pos on, which moves
   past it; NULL at the end of the list [list, end). */
const char *ke_preload_next(const char **pos, const char *end, size_t *len);
/* The module an app runs: 0 with *e, or -1 (an interpreter, or none). */
int ke_main_entry(const kp_pack *p, kp_entry *e);

#endif
