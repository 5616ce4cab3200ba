/*
 * installation.h - is the CPython installation this launcher was linked
 * from still the one on disk? The compile server packs that
 * installation's stdlib, which must match the libpython inside.
 */
#ifndef KILN_INSTALLATION_H
#define KILN_INSTALLATION_H

#include <stddef.h>

/* 0 when the stdlib (and the libpython, if still there) have the size and
   mtime they had at make; else -1 with, in msg, a message that names both
   sides and what to do. exe: this launcher's path, for the message. */
int installation_check(const char *exe, char *msg, size_t size);

#endif
