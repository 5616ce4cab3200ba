/*
 * pytarget.h - the target CPython, through its launcher: where kiln finds
 * the launcher, what its compile server's INFO reply says about that
 * Python (version, stdlib, bytecode magic, built-in modules), and what
 * else the build asks of it (lib2to3's grammars).
 */
#ifndef KILN_PYTARGET_H
#define KILN_PYTARGET_H

#include <stdint.h>

#include "collect.h"
#include "server.h"

typedef struct {
    char *version, *stdlib, *dynload, *ext_suffix, *builtins, *scanner;
    char *frozen; /* frozen modules, importable without being packed */
    uint32_t hexversion, magic;
} target_info;

/* Finds the launcher of CPython python ("3.11") in *launcher (malloc'd),
   starts its compile server s and reads its INFO reply into t. -1 after
   an error message (with the paths looked at when there is no launcher).
   s->launcher points at *launcher. */
int target_start(const char *python, kserver *s, char **launcher,
                 target_info *t);
void target_free(target_info *t);
/* What the target imports without it being packed: its built-in and
   frozen modules, comma-separated; malloc'd. */
char *target_importable(const target_info *t);
/* Does the target's lib-dynload hold _tkinter? */
int target_has_tkinter(const target_info *t);
/* Adds lib2to3's pickled grammars, made by the target from its stdlib,
   when lib2to3 is packed. */
int target_add_lib2to3_grammars(kserver *s, collection *c,
                                const target_info *t);

#endif
