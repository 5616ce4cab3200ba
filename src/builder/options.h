/*
 * options.h - the options of `kiln build`: its command line, then
 * [tool.kiln] in pyproject.toml for what the command line leaves unset,
 * then the defaults.
 */
#ifndef KILN_OPTIONS_H
#define KILN_OPTIONS_H

#include "server.h"
#include "util.h"

typedef struct {
    const char *script;
    const char *module;
    vec paths; /* char*: --path folders, searched in order */
    vec packages;  /* char*: --package NAME or NAME[extra,...] */
    vec site_dirs; /* char*: --site-packages folders */
    const char *output;
    const char *config; /* pyproject.toml to read, NULL for ./pyproject.toml */
    const char *python; /* --python: "3.12", a path; NULL: the default */
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
                         package needs it: extraction.h) */
    const char *extract_origin; /* where those came from, for messages */
} build_options;

/* Reads the arguments of `kiln build` (argv[0] is "build") into o: -1 to
   go on and build, else the exit status (after --help, or an error). */
int options_parse(build_options *o, int argc, char **argv);
/* Merges [tool.kiln] of o->config (else ./pyproject.toml, when it exists),
   read by the compile server s, into the options that the command line
   left unset; relative paths are taken from the file's folder. owned keeps
   the strings made. -1 after an error message. */
int options_load_config(kserver *s, build_options *o, vec *owned);
/* Gives the options that are still unset their defaults. */
void options_defaults(build_options *o);
void options_free(build_options *o);

#endif
