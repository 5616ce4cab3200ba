/*
 * mpchild.h - recognizing and running the multiprocessing children of a
 * kiln app (spawn children, the fork server, the resource tracker).
 */
#ifndef KILN_MPCHILD_H
#define KILN_MPCHILD_H

/* Before initialization, in an app: when argv is a multiprocessing
   child's command line, with its proof, takes the proof argument out of
   argv, closes the proof and returns the index in the new argv of the -c
   code; else 0 (one warning on stderr when the proof fails). A child's
   command line is
       exe --kiln-child-proof=FD FLAGS... -c "from multiprocessing.M ..."
   with interpreter flags as subprocess._args_from_interpreter_flags()
   writes them (-I, -S, -B, -O, -W opt, -X opt, ...), and FD a proof that
   kiln_child_proof_check() accepts. */
int kiln_mp_child_argv(const char *exe, int *argc, char ***argv);
/* Sets up a child's PyConfig on top of the app's: sys.argv as python3 -c
   makes it ("-c" and the arguments after the code), sys.orig_argv the
   whole argv, and the flags' settings. */
PyStatus kiln_mp_child_config(PyConfig *config, int argc, char **argv,
                              int code_at);
/* Runs the child's code after initialization; an exit status as
   kiln_run_app() returns it (-1 after a KeyboardInterrupt). */
int kiln_mp_child_run(const char *code, const char *exe);

#endif
