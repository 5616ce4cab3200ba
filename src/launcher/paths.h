/*
 * paths.h - where a kiln interpreter says it is: sys.executable and the
 * installation prefix, venvs included.
 */
#ifndef KILN_PATHS_H
#define KILN_PATHS_H

#include <limits.h>
#include <stddef.h>

/* sys.executable as python3 computes it: argv[0] made absolute, or found
   on PATH, without resolving symlinks, so that a venv's bin/python keeps
   its own path. A malloc'ed string, or NULL if not found. */
char *kiln_invoked_path(const char *argv0);
/* sys.prefix (before site.py) and sys._base_executable. For an app
   (python_path NULL): exe's folder and exe, exe being the running file's
   real path. For an interpreter run as python_path (its invoked path, or
   exe): the same, unless that is a venv's python; then the kiln
   interpreter its pyvenv.cfg leads to, and its folder. 0, or -1 if a path
   does not fit. */
int kiln_prefix(const char *exe, const char *python_path,
                char prefix[PATH_MAX], char base_executable[PATH_MAX]);
/* Interpreter mode's stdlib folder on disk, for what kiln does not pack:
   <prefix>/lib/pythonX.Y. 0, or -1 if it does not fit. */
int kiln_disk_stdlib(const char *prefix, char *buf, size_t size);

#endif
