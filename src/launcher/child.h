/*
 * child.h - what a process running a kiln app's executable is for: the app
 * itself, or a child that the app started with its own executable and that
 * proves it (childproof.c), whose argv then says what it runs.
 */
#ifndef KILN_CHILD_H
#define KILN_CHILD_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <sys/stat.h>

#include "kpack.h"

typedef enum {
    KILN_CHILD_NONE,   /* the app, with its argv as given: no proof */
    KILN_CHILD_APP,    /* proven: the app's main, with the child's args */
    KILN_CHILD_MP,     /* proven: multiprocessing's child (mpchild.c) */
    KILN_CHILD_RERUN,  /* proven: the app again ([sys.executable] +
                          sys.argv), with sys.argv as the parent had it */
    KILN_CHILD_PYTHON  /* proven, and --python-child: a kiln interpreter of
                          the packed code */
} kiln_child_role;

typedef struct {
    kiln_child_role role;
    int at;          /* MP: index of the -c code; RERUN: of the app's path,
                        or of "-m" before the main module's name */
    int python_like; /* argv looks like python's (-c, -m, a .py script, its
                        flags): for the hint of an APP child */
} kiln_child;

/* Before initialization, in an app: when argv[1] is the proof argument
   (--kiln-child-proof=FD) and the proof holds, takes the argument out of
   argv, closes FD and returns what the child runs. Otherwise argv is the
   app's own, untouched (KILN_CHILD_NONE); when the proof fails for an argv
   that it would have changed the meaning of, one warning on stderr says
   why. exe is the executable's path, for messages. An APP child with
   python-like argv that exits with a status other than 0 prints one hint
   naming --python-child (an on_exit() handler). */
kiln_child kiln_child_argv(const kp_pack *pack, const char *exe, int *argc,
                           char ***argv);
/* What a proven child with argv (no proof argument) runs, when the file it
   runs is self: its role, at and python_like in *out. */
void kiln_child_classify(const kp_pack *pack, const struct stat *self,
                         int argc, char **argv, kiln_child *out);
/* Walks python's interpreter flags from argv[1], those that an app's child
   may carry (-b -B -d -E -I -O -P -q -s -S -u -v, -W opt, -X opt),
   applying them to config when it is not NULL (-O adds to the level).
   Returns the index of the first argument that is not such a flag (argc
   when none is left), or -1 when one is malformed (a cluster with another
   letter, -W without its value). */
int kiln_child_flags(int argc, char **argv, PyConfig *config,
                     PyStatus *status);
/* An app's (not an interpreter's) sys.argv and sys.orig_argv, and a
   child's flags. sys.orig_argv is argv; sys.argv is argv with argv[0] the
   path the executable was started by (AT_EXECFN: ./app, or /usr/bin/app
   when found through PATH, as python3 gives a script), or, for a RERUN
   child, the parent's sys.argv. */
PyStatus kiln_child_config(PyConfig *config, const kiln_child *child,
                           int argc, char **argv);
/* The pack as an interpreter payload, for a PYTHON child. */
kp_pack kiln_child_python_pack(const kp_pack *pack);

#endif
