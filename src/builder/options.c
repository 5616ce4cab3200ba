/*
 * options.c - the options of `kiln build` (options.h): the command line,
 * [tool.kiln] in pyproject.toml, the defaults.
 */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reply.h"

#include "default_target.h" /* KILN_DEFAULT_TARGET, from make */

static const char build_usage[] =
    "usage: kiln build [options] [SCRIPT]\n"
    "\n"
    "  SCRIPT             run this script as __main__\n"
    "  -m MODULE          run MODULE as python -m does\n"
    "  --interpreter      make a one-file python3 command line\n"
    "  --path DIR         pack what is importable in DIR (repeatable)\n"
    "  --package NAME     pack an installed distribution and what it\n"
    "                     requires, found where the target's python3 finds\n"
    "                     it (PYTHONPATH, site folders); NAME[extra,...]\n"
    "                     adds extras (repeatable)\n"
    "  --site-packages DIR\n"
    "                     pack every distribution and module in DIR\n"
    "                     (repeatable)\n"
    "  -o, --output FILE  the executable to write\n"
    "  --no-source        leave out sources (tracebacks show no lines)\n"
    "  -O, -OO            optimization level of the bytecode\n"
    "  --no-gc-freeze     an app runs without gc.freeze() of the objects made\n"
    "                     while starting (which saves collections; see\n"
    "                     README)\n"
    "  --python-child     a child the app starts with sys.executable and\n"
    "                     python's command line (-c, -m, a script) runs as\n"
    "                     a kiln interpreter of the packed code (see README)\n"
    "  -u, --unbuffered   the app's stdout and stderr are unbuffered, as\n"
    "                     under python3 -u\n"
    "  --python PYTHON    the target CPython: a version (3.12, 3.11.7) or\n"
    "                     the path of a python or a venv's python (default\n"
    "                     " KILN_DEFAULT_TARGET "; 'kiln targets' lists them)\n"
    "  --config FILE      read [tool.kiln] from FILE (default:\n"
    "                     ./pyproject.toml when it exists)\n"
    "  --extract PKG      give the top-level package PKG real files on disk\n"
    "                     at run time, for code that reads files beside\n"
    "                     __file__ (repeatable; kiln detects most cases)\n"
    "  --no-extract PKG   never extract PKG, even when it seems to need it\n"
    "  --stdlib-files     give the whole standard library real files (in\n"
    "                     read-only folders) at run time, for code that\n"
    "                     reads or stats the files\n"
    "                     of the modules it analyses (kiln does it by itself\n"
    "                     for jedi; --no-stdlib-files turns that off)\n"
    "  -q, --quiet        no progress or summary (warnings stay)\n"
    "  -v, --verbose      print the time each phase takes, the distributions\n"
    "                     packed, every import that resolves to nothing,\n"
    "                     and what is extracted and why\n";

enum {
    OPT_EXTRACT = 256, OPT_NO_EXTRACT, OPT_NO_GC_FREEZE, OPT_PYTHON_CHILD,
    OPT_STDLIB_FILES, OPT_NO_STDLIB_FILES
};

int options_parse(build_options *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"path", required_argument, NULL, 'p'},
        {"package", required_argument, NULL, 'k'},
        {"site-packages", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {"interpreter", no_argument, NULL, 'i'},
        {"no-source", no_argument, NULL, 'n'},
        {"python", required_argument, NULL, 'y'},
        {"config", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"extract", required_argument, NULL, OPT_EXTRACT},
        {"no-extract", required_argument, NULL, OPT_NO_EXTRACT},
        {"no-gc-freeze", no_argument, NULL, OPT_NO_GC_FREEZE},
        {"python-child", no_argument, NULL, OPT_PYTHON_CHILD},
        {"unbuffered", no_argument, NULL, 'u'},
        {"stdlib-files", no_argument, NULL, OPT_STDLIB_FILES},
        {"no-stdlib-files", no_argument, NULL, OPT_NO_STDLIB_FILES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;

    *o = (build_options){.source = -1,
                         .optimize = -1, .gc_freeze = -1,
                         .python_child = -1, .unbuffered = -1,
                         .stdlib_files = -1};

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":m:o:Oquvh", longs, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->module = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'O':
            o->optimize = o->optimize < 0 ? 1 : o->optimize + 1;
            if (o->optimize > 2) {
                error("kiln build: -O may be given at most twice");
                return 2;
            }
            break;
        case 'p':
            vec_push(&o->paths, optarg);
            break;
        case 'k':
            vec_push(&o->packages, optarg);
            break;
        case 's':
            vec_push(&o->site_dirs, optarg);
            break;
        case 'i':
            o->interpreter = 1;
            break;
        case 'n':
            o->source = 0;
            break;
        case 'y':
            o->python = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case OPT_EXTRACT:
            vec_push(&o->extract, optarg);
            break;
        case OPT_STDLIB_FILES:
        case OPT_NO_STDLIB_FILES:
            o->stdlib_files = c == OPT_STDLIB_FILES;
            break;
        case OPT_NO_EXTRACT:
            vec_push(&o->no_extract, optarg);
            break;
        case OPT_NO_GC_FREEZE:
            o->gc_freeze = 0;
            break;
        case OPT_PYTHON_CHILD:
            o->python_child = 1;
            break;
        case 'u':
            o->unbuffered = 1;
            break;
        case 'h':
            fputs(build_usage, stdout);
            return 0;
        case ':':
            error("kiln build: option '%s' needs a value; see 'kiln build "
                  "--help'", argv[optind - 1]);
            return 2;
        default:
            error("kiln build: unknown option '%s'; see 'kiln build --help'",
                  argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc)
        o->script = argv[optind++];
    if (optind < argc) {
        error("kiln build: one script only, but '%s' follows '%s'",
              argv[optind], o->script);
        return 2;
    }
    return -1;
}

/* ---- pyproject.toml ----------------------------------------------------- */

static const char *keep(vec *owned, char *s)
{
    vec_push(owned, s);
    return s;
}

/* A path from pyproject.toml, relative to the file's folder. */
static const char *config_path(vec *owned, const char *dir, const char *v)
{
    return keep(owned, v[0] == '/' ? xstrdup(v) : xprintf("%s/%s", dir, v));
}

int options_load_config(kserver *s, build_options *o, vec *owned)
{
    const char *path = o->config ? o->config : "pyproject.toml";
    int from_cli = o->script || o->module || o->interpreter;
    int cli_paths = o->paths.n > 0, cli_packages = o->packages.n > 0;
    int cli_sites = o->site_dirs.n > 0;
    int cli_extract = o->extract.n || o->no_extract.n;
    uint32_t status;
    uint8_t *out;
    size_t len;
    const char *at;
    reply_line l;
    char *dir;

    if (!o->config && access(path, F_OK) != 0)
        return 0;
    if (server_call(s, KC_OP_TOML, 0, path, "", 0, &status, &out, &len))
        return -1;
    if (status != KC_OK) {
        error("%s", (char *)out);
        free(out);
        return -1;
    }
    dir = dir_name(path);
    for (at = (char *)out; reply_next(&at, &l);) {
        const char *value;
        if (!l.value)
            continue;
        value = reply_cut((char *)out, &l);
        if (reply_is(&l, "script") && !from_cli)
            o->script = config_path(owned, dir, value);
        else if (reply_is(&l, "module") && !from_cli)
            o->module = keep(owned, xstrdup(value));
        else if (reply_is(&l, "interpreter") && !from_cli)
            o->interpreter = strcmp(value, "true") == 0;
        else if (reply_is(&l, "path") && !cli_paths)
            vec_push(&o->paths, (void *)config_path(owned, dir, value));
        else if (reply_is(&l, "packages") && !cli_packages)
            vec_push(&o->packages, (void *)keep(owned, xstrdup(value)));
        else if (reply_is(&l, "site-packages") && !cli_sites)
            vec_push(&o->site_dirs, (void *)config_path(owned, dir, value));
        else if ((reply_is(&l, "extract") ||
                  reply_is(&l, "no-extract")) && !cli_extract) {
            vec_push(reply_is(&l, "extract") ? &o->extract : &o->no_extract,
                     (void *)keep(owned, xstrdup(value)));
            o->extract_origin = keep(owned, xprintf("%s [tool.kiln]", path));
        }
        else if (reply_is(&l, "output") && !o->output)
            o->output = config_path(owned, dir, value);
        else if (reply_is(&l, "source") && o->source < 0)
            o->source = strcmp(value, "true") == 0;
        else if (reply_is(&l, "gc-freeze") && o->gc_freeze < 0)
            o->gc_freeze = strcmp(value, "true") == 0;
        else if (reply_is(&l, "python") && !o->python)
            o->python = strchr(value, '/') ? config_path(owned, dir, value)
                                           : keep(owned, xstrdup(value));
        else if (reply_is(&l, "python-child") && o->python_child < 0)
            o->python_child = strcmp(value, "true") == 0;
        else if (reply_is(&l, "unbuffered") && o->unbuffered < 0)
            o->unbuffered = strcmp(value, "true") == 0;
        else if (reply_is(&l, "stdlib-files") && o->stdlib_files < 0)
            o->stdlib_files = strcmp(value, "true") == 0;
        else if (reply_is(&l, "optimize") && o->optimize < 0) {
            o->optimize = atoi(value);
            if (o->optimize < 0 || o->optimize > 2) {
                free(dir);
                free(out);
                return error("%s: [tool.kiln] optimize must be 0, 1 or 2",
                             path);
            }
        }
    }
    free(dir);
    free(out);
    return 0;
}

void options_defaults(build_options *o)
{
    if (o->source < 0)
        o->source = 1;
    if (o->gc_freeze < 0)
        o->gc_freeze = 1;
    if (o->python_child < 0)
        o->python_child = 0;
    if (o->unbuffered < 0)
        o->unbuffered = 0;
    if (o->optimize < 0)
        o->optimize = 0;
}

void options_free(build_options *o)
{
    vec_free(&o->paths, NULL);
    vec_free(&o->packages, NULL);
    vec_free(&o->site_dirs, NULL);
    vec_free(&o->extract, NULL);
    vec_free(&o->no_extract, NULL);
}
