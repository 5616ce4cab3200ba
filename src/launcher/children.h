/*
 * children.h - the parent side of a kiln app's children: every child that
 * the app starts with its own executable gets a proof that the app started
 * it (childproof.c), wherever the app starts it.
 */
#ifndef KILN_CHILDREN_H
#define KILN_CHILDREN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "kpack.h"

/* Before initialization: the payload (as packed, not as a python child
   runs it) and the executable's path. Nothing is wrapped for an
   interpreter payload, whose children are ordinary python3 children. */
void kiln_children_init(const kp_pack *pack, const char *exe);
/* The importer's hooks. Before it executes the module fullname:
   subprocess and multiprocessing.util get _posixsubprocess.fork_exec
   wrapped (subprocess binds it as it runs). After: os gets execv, execve,
   posix_spawn and posix_spawnp wrapped, _posixsubprocess (an extension
   module in some builds) fork_exec. 0, or -1 with an exception. */
int kiln_children_before_exec(PyObject *fullname);
int kiln_children_after_exec(PyObject *fullname, PyObject *module);
/* The same for those of them that are already imported (os, once site
   has run in a python child). */
int kiln_children_wrap_loaded(void);

#endif
