/*
 * mpchild.h - recognizing and running the multiprocessing children of a
 * kiln app (spawn children, the fork server, the resource tracker).
 */
#ifndef KILN_MPCHILD_H
#define KILN_MPCHILD_H

/* The index in argv of the -c code when argv is a multiprocessing child's
   command line: interpreter flags as subprocess._args_from_interpreter_
   flags() writes them (-I, -S, -B, -O, -W opt, -X opt, ...), then -c and
   code that starts with "from multiprocessing."; 0 otherwise. */
int kiln_mp_child_code_at(int argc, char **argv);
/* Sets up a child's PyConfig on top of the app's: sys.argv as python3 -c
   makes it ("-c" and the arguments after the code), sys.orig_argv the
   whole argv, and the flags' settings. */
PyStatus kiln_mp_child_config(PyConfig *config, int argc, char **argv,
                              int code_at);
/* Runs the child's code after initialization; an exit status as
   kiln_run_app() returns it (-1 after a KeyboardInterrupt). */
int kiln_mp_child_run(const char *code, const char *exe);

#endif
