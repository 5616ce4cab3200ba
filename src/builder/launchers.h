/*
 * launchers.h - the launchers kiln packs with, one per CPython
 * installation (make builds them): where kiln finds them, which one a
 * --python asks for, whether its installation is still the one it was
 * linked from, and `kiln targets`.
 */
#ifndef KILN_LAUNCHERS_H
#define KILN_LAUNCHERS_H

#include "server.h"

/* What --python named when it was a venv's python: the app's
   distributions are searched in the venv, as that python would. */
typedef struct {
    char *root;      /* the venv's folder, or NULL */
    int system_site; /* include-system-site-packages = true */
} venv_info;

/* Finds the launcher for spec: NULL for the default, a version ("3.12",
   "3.11.7") or the path of a python (an installation's, or a venv's).
   Starts its compile server s, checks that its installation has not
   changed since make, and sets *launcher (malloc'd; s->launcher points
   at it) and *venv. -1 after a message that lists the launchers there
   are. */
int launchers_select(const char *spec, kserver *s, char **launcher,
                     venv_info *venv);
/* Starts, in s, a launcher whose CPython has tomllib (3.11+), the default
   first, to read pyproject.toml for a 3.10 target. */
int launchers_start_toml_reader(kserver *s, char **launcher);
void venv_info_free(venv_info *venv);
/* `kiln targets`: each launcher with its version, installation and
   state, and the pythons of this machine that have none. */
int launchers_print(void);

#endif
