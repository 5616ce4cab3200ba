/*
 * tempdir.h - the private temporary folder (0700, kiln-extract-TAG in
 * $TMPDIR, or /tmp when that is not safe, checked as the caches are), made
 * at its first use and removed at exit, or on SIGTERM and SIGHUP.
 */
#ifndef KILN_TEMPDIR_H
#define KILN_TEMPDIR_H

#include <stddef.h>

/* Its path, made at the first call: for the extractions the cache cannot
   hold, and for copies of packed files that are not the extract cache's
   (pkg_resources.resource_filename()). NULL with err when no safe folder
   can be made. */
const char *kiln_temp_folder(char *err, size_t errlen);
/* Its descriptor once made, else -1. */
int kiln_temp_folder_fd(void);
/* At exit: removes it (only in the process that made it) and puts back
   the default action of the signals it caught. */
void kiln_temp_folder_remove(void);

#endif
