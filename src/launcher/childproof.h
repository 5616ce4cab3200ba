/*
 * childproof.h - the proof that a process running a kiln app's executable
 * was started by the app itself: a descriptor that argv and the
 * environment cannot forge.
 */
#ifndef KILN_CHILDPROOF_H
#define KILN_CHILDPROOF_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>

/* The argument the parent puts right after argv[0]: PREFIX then the
   number of the inherited proof descriptor. */
#define KILN_CHILD_PROOF_ARG "--kiln-child-proof="

/* What a proof holds, queued by its maker: a socket that a program made
   for its own ends does not. */
#define KILN_CHILD_PROOF_MESSAGE "kiln-child-proof 1\n"

/* Parent side: a new AF_UNIX stream socket (close on exec, numbered 3 or
   more) whose peer end is already closed, with the message queued. Its
   peer credentials are this process's pid and effective ids, fixed when it
   was made. The caller passes it to the child and closes it. -1 with
   errno on failure. */
int kiln_child_proof_make(void);
/* _kiln.child_proof(): the same, as a Python int. */
PyObject *kiln_child_proof_new(PyObject *module, PyObject *unused);

/* Child side, before Python initializes: 0 when fd is a proof, with the
   message, made with our effective uid and gid, either by our parent
   process while it ran this very executable (same device and inode), or
   by this very process before it executed this file (os.execv). Else -1,
   with why in why[len]. Reads the message; closes nothing. */
int kiln_child_proof_check(int fd, char *why, size_t len);

#endif
