/*
 * runapp.h - running a kiln app's entry point, and exit statuses.
 */
#ifndef KILN_RUNAPP_H
#define KILN_RUNAPP_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "kpack.h"

/* Runs the app's entry point; returns a process exit status, or -1 after a
   KeyboardInterrupt escaped (the caller exits by SIGINT). */
int kiln_run_app(const kp_pack *pack);
/* The exit status of running code that returned res (stolen): 0; or after
   an exception, printed, 1 (-1 after a KeyboardInterrupt); SystemExit
   exits the process. */
int kiln_exit_status(PyObject *res);

#endif
