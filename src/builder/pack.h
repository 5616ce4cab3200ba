/*
 * pack.h - writes the executable: the launcher, the payload that kpack
 * makes of the collection (streamed to the file as it is packed) and the
 * trailer, into a temporary file renamed over the output at the end.
 */
#ifndef KILN_PACK_H
#define KILN_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "collect.h"
#include "options.h"
#include "pytarget.h"

/* Writes output: atomically, or nothing at all (the temporary file is
   removed on a failure, or when SIGINT, SIGTERM or SIGHUP ends kiln). The
   payload's size in *len, the files packed in *n_files. -1 after an error
   message. */
int pack_write(const char *output, const char *launcher,
               const collection *c, const build_options *o,
               const target_info *t, uint64_t *len, size_t *n_files);

#endif
