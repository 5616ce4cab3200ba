/*
 * extract.h - the extract-once cache: packages that read files beside their
 * __file__ get real files, written once per content and reused by every run.
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
/* Removes the temporary folders made by kiln_extract(). */
void kiln_extract_cleanup(void);

#endif
