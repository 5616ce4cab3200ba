/*
 * mpchild.h - running the multiprocessing children of a
 * kiln app (spawn children, the fork server, the resource tracker).
 */
#ifndef KILN_MPCHILD_H
#define KILN_MPCHILD_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Sets up a child's PyConfig on top of the app's, for argv
       exe FLAGS... -c CODE ARGS...
   with CODE at code_at (child.c): sys.argv as python3 -c makes it ("-c"
   and ARGS), sys.orig_argv the whole argv, and the flags' settings. */
PyStatus kiln_mp_child_config(PyConfig *config, int argc, char **argv,
                              int code_at);
/* Runs the child's code after initialization; an exit status as
   kiln_run_app() returns it (-1 after a KeyboardInterrupt). */
int kiln_mp_child_run(const char *code, const char *exe);

#endif
