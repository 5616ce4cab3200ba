/*
 * compiler.h - the launcher's build-time service: compiles sources to
 * bytecode with this very CPython, and runs the Python code that `kiln
 * build` sends it (see compiler.c; the frames are in protocol.h).
 */
#ifndef KILN_COMPILER_H
#define KILN_COMPILER_H

/* Serves requests on stdin until EOF; returns the exit status. exe is the
   launcher's own path. */
int kiln_compile_server(const char *exe);

#endif
