/*
 * compile.h - compiling sources to bytecode with the target's launcher.
 */
#ifndef KILN_COMPILE_H
#define KILN_COMPILE_H

#include "collect.h"
#include "server.h"

/* Compiles every module_item in jobs (source in out.bytes) that has no
   code yet into its out.code, or its error message ("path:line:col:
   SyntaxError: ..."), and scans those with out.want_scan set
   (scan_request). first is a started server, more are started from
   launcher. Progress shows after 1 s unless quiet. -1 when a server failed
   (message printed); compile errors are left in the items. optimize < 0
   only scans. */
int compile_all(const char *launcher, kserver *first, vec *jobs, int optimize,
                double start, int quiet);

#endif
