/*
 * inspect.h - `kiln inspect FILE`: lists and verifies a kiln executable.
 */
#ifndef KILN_INSPECT_H
#define KILN_INSPECT_H

/* Returns the process exit status: 0 when intact, 1 when not. */
int kiln_inspect(const char *path);

#endif
