/*
 * pytarget.h - the target CPython, through its launcher (launchers.h
 * finds it): what its compile server's INFO reply says about that
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

/* Reads the INFO reply of the compile server s into t; -1 after an
   error message. */
int target_query(kserver *s, target_info *t);
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
