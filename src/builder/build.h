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
    vec packages;  /* char*: --package NAME or NAME[extra,...] */
    vec site_dirs; /* char*: --site-packages folders */
    const char *output;
    const char *config; /* pyproject.toml to read, NULL for ./pyproject.toml */
    const char *python; /* target version, "3.11" */
    int interpreter;
    int source;   /* keep sources (default 1); -1 when not given */
    int optimize; /* 0, 1, 2; -1 when not given */
    int gc_freeze; /* an app runs after gc.freeze() (default 1); -1 when
                      not given */
    int python_child; /* sys.executable children are interpreters (default
                         0); -1 when not given */
    int unbuffered;   /* as python3 -u (default 0); -1 when not given */
    int quiet;
    int verbose; /* print the time each phase took */
    vec extract, no_extract; /* char*: top-level packages forced either way */
    int stdlib_files; /* the whole stdlib gets real files at run time: 1,
                         0, or -1 when not given (then when a packed
                         package needs it: imports.h) */
    const char *extract_origin; /* where those came from, for messages */
} build_options;

/* Returns the process exit status. */
int kiln_build(build_options *o);
/* Directory where this kiln looks for launchers, for messages. */
char *find_launcher(const char *python, vec *tried);

#endif
