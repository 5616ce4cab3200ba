/*
 * extract.h - the extract-once cache: packages that read files beside their
 * __file__ get real files, written once per content and reused by every run.
 * The files are read-only, and so are their folders: what a program writes
 * beside an extracted __file__ fails, rather than landing in the cache,
 * where the next build would leave it behind.
 */
#ifndef KILN_EXTRACT_H
#define KILN_EXTRACT_H

#include <stddef.h>

#include "kpack.h"

/* Makes sure the packed files of the top-level package or module `top`
   exist on disk, and returns the malloc'd folder that holds them as packed
   (<folder>/top/...): $XDG_CACHE_HOME/kiln/extract/<top>-<hash>. When that
   cache cannot be used, a private temporary folder is used instead, removed
   at exit, and *warning holds the reason (malloc'd). NULL with err on
   failure. */
char *kiln_extract(const kp_pack *pack, const char *top, char **warning,
                   char *err, size_t errlen);
/* The same for the standard library's part that is extracted (the
   top-level names of the modules flagged both KP_MOD_STDLIB and
   KP_MOD_EXTRACT), all in one folder laid out as the stdlib's own:
   .../extract/stdlib-<hash>. */
char *kiln_extract_stdlib(const kp_pack *pack, char **warning, char *err,
                          size_t errlen);
/* At exit: warns, on stderr, about files that this process wrote into
   the folders it extracted (root can, despite their modes), which are not
   kept; then removes the private temporary folder (tempdir.h). */
void kiln_extract_cleanup(void);

#endif
