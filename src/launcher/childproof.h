/*
 * childproof.h - the proof that a process started as a multiprocessing
 * child of a kiln app was started by the app itself: a descriptor that
 * argv and the environment cannot forge.
 */
#ifndef KILN_CHILDPROOF_H
#define KILN_CHILDPROOF_H

#include <stddef.h>

/* The argument the parent puts right after argv[0]: PREFIX then the
   number of the inherited proof descriptor. */
#define KILN_CHILD_PROOF_ARG "--kiln-child-proof="

/* _kiln.child_proof(), parent side: a new AF_UNIX stream socket (close on
   exec) whose peer end is already closed. Its peer credentials are this
   process's pid and effective ids, fixed when it was made. The caller
   passes it to the child and closes it. */
PyObject *kiln_child_proof_new(PyObject *module, PyObject *unused);

/* Child side, before Python initializes: 0 when fd is a proof made by our
   parent process, with our effective uid and gid, and that parent runs
   this very executable (same device and inode). Else -1, with why in
   why[len]. Closes nothing. */
int kiln_child_proof_check(int fd, char *why, size_t len);

#endif
