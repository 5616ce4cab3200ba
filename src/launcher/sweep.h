/*
 * sweep.h - the names of kiln's temporary folders, and the sweep that
 * removes those whose writer is gone.
 */
#ifndef KILN_SWEEP_H
#define KILN_SWEEP_H

#include <stddef.h>

/* TAG for a temporary folder's name: PID-PIDNS-RANDOM. */
void kiln_make_tag(char *out, size_t size);
/* Removes each folder in dir of this user whose name is prefix + TAG
   (prefix NULL: a writer's .LABEL-HASH.TAG in the extract cache) and whose
   TAG names a process of this pid namespace that is gone, or, with
   max_age > 0, that is older than max_age seconds; never a symlink, nor
   anything a symlink points to. */
void kiln_sweep(int dir, const char *prefix, long max_age);

#endif
