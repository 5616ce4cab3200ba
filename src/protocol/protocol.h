/*
 * protocol.h - the frames that `kiln build` (src/builder/server.c) and a
 * launcher's compile server (src/launcher/compiler.c) exchange over pipes;
 * docs/format.md, "The compile server". Both sides include it, and it
 * includes nothing.
 *
 * Request: u32 op, u32 arg, u32 name_len, u32 data_len, name, data
 * Reply:   u32 status (KC_OK or KC_ERROR), u32 len, bytes
 * (native byte order: both ends run on the same machine).
 */
#ifndef KILN_PROTOCOL_H
#define KILN_PROTOCOL_H

enum {
    /* Bumped when a frame changes meaning; an L frame carries it. 2: the
       code L sends is a module whose functions the server calls. */
    KC_VERSION = 2,
    KC_OP_LOAD = 'L',    /* arg=KC_LOAD_ARG(the op the code serves),
                            name=its file, data=Python source of a module
                            (src/builder/py/) -> empty; sent by kiln before
                            any op below runs */
    KC_OP_INFO = 'I',    /* -> key=value lines about this CPython; its code
                            gets the SCAN code's text */
    KC_OP_BUILT = 'B',   /* -> key=value lines: the installation the
                            launcher was linked from and its identity
                            then (target.h), which kiln checks */
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

/* The arg of an L frame: a launcher of another version refuses it (one
   from before KC_VERSION finds no such op). */
#define KC_LOAD_ARG(op) ((unsigned)KC_VERSION << 8 | (unsigned)(op))
#define KC_LOAD_OP(arg) ((arg) & 0xffu)
#define KC_LOAD_VERSION(arg) ((arg) >> 8)

#endif
