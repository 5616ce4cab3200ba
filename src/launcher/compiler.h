/*
 * compiler.h - the launcher's build-time service: compiles sources to
 * bytecode with this very CPython, for `kiln build` (see compiler.c).
 */
#ifndef KILN_COMPILER_H
#define KILN_COMPILER_H

/* Frames of the protocol; see docs/format.md, "compile server". */
enum {
    KC_OP_INFO = 'I',    /* -> key=value lines about this CPython */
    KC_OP_COMPILE = 'C', /* name=co_filename, arg=optimize, data=source */
    KC_OP_TOML = 'T',    /* name=pyproject.toml -> key=value lines */
    KC_OP_SCAN = 'S',    /* name=module, arg=1 for a package, data=source
                            -> its imports (py/server_scan.py) */
    KC_OP_GRAMMAR = 'G', /* name=lib2to3 folder -> NAME=HEX pickled grammars */
    KC_OP_DISTS = 'D',   /* data=package=/site-packages= lines -> what
                            the distributions own, as lines */
    KC_OK = 0,
    KC_ERROR = 1
};

/* Serves requests on stdin until EOF; returns the exit status. exe is the
   launcher's own path. */
int kiln_compile_server(const char *exe);

#endif
