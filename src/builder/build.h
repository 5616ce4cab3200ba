/*
 * build.h - `kiln build`: collects, compiles through the target's launcher,
 * packs and writes the executable atomically.
 */
#ifndef KILN_BUILD_H
#define KILN_BUILD_H

#include "util.h"

typedef struct {
    const char *script;
    const char *module;
    vec paths; /* char*: --path folders, searched in order */
    const char *output;
    const char *config; /* pyproject.toml to read, NULL for ./pyproject.toml */
    const char *python; /* target version, "3.11" */
    int interpreter;
    int source;   /* keep sources (default 1); -1 when not given */
    int optimize; /* 0, 1, 2; -1 when not given */
    int quiet;
    int verbose; /* print the time each phase took */
} build_options;

/* Returns the process exit status. */
int kiln_build(build_options *o);
/* Directory where this kiln looks for launchers, for messages. */
char *find_launcher(const char *python, vec *tried);

#endif
