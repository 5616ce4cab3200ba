/*
 * kiln.c - the kiln command line: `kiln build` and `kiln inspect`.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "inspect.h"
#include "util.h"

#ifndef KILN_VERSION
#define KILN_VERSION "0.1.0"
#endif
#define DEFAULT_PYTHON "3.11"

static const char usage[] =
    "usage: kiln build [options] [SCRIPT]\n"
    "       kiln inspect FILE\n"
    "       kiln --version\n"
    "\n"
    "kiln packs a Python app, its modules and the standard library into one\n"
    "executable that imports everything from memory.\n";

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
    "  --python VERSION   target CPython (default " DEFAULT_PYTHON ")\n"
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

static int cmd_build(int argc, char **argv)
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
    build_options o = {.python = DEFAULT_PYTHON, .source = -1,
                       .optimize = -1, .gc_freeze = -1,
                       .python_child = -1, .unbuffered = -1,
                       .stdlib_files = -1};
    int c, rc;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":m:o:Oquvh", longs, NULL)) != -1) {
        switch (c) {
        case 'm':
            o.module = optarg;
            break;
        case 'o':
            o.output = optarg;
            break;
        case 'O':
            o.optimize = o.optimize < 0 ? 1 : o.optimize + 1;
            if (o.optimize > 2) {
                error("kiln build: -O may be given at most twice");
                return 2;
            }
            break;
        case 'p':
            vec_push(&o.paths, optarg);
            break;
        case 'k':
            vec_push(&o.packages, optarg);
            break;
        case 's':
            vec_push(&o.site_dirs, optarg);
            break;
        case 'i':
            o.interpreter = 1;
            break;
        case 'n':
            o.source = 0;
            break;
        case 'y':
            o.python = optarg;
            break;
        case 'c':
            o.config = optarg;
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 'v':
            o.verbose = 1;
            break;
        case OPT_EXTRACT:
            vec_push(&o.extract, optarg);
            break;
        case OPT_STDLIB_FILES:
        case OPT_NO_STDLIB_FILES:
            o.stdlib_files = c == OPT_STDLIB_FILES;
            break;
        case OPT_NO_EXTRACT:
            vec_push(&o.no_extract, optarg);
            break;
        case OPT_NO_GC_FREEZE:
            o.gc_freeze = 0;
            break;
        case OPT_PYTHON_CHILD:
            o.python_child = 1;
            break;
        case 'u':
            o.unbuffered = 1;
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
        o.script = argv[optind++];
    if (optind < argc) {
        error("kiln build: one script only, but '%s' follows '%s'",
              argv[optind], o.script);
        return 2;
    }
    rc = kiln_build(&o);
    vec_free(&o.paths, NULL);
    vec_free(&o.packages, NULL);
    vec_free(&o.site_dirs, NULL);
    vec_free(&o.extract, NULL);
    vec_free(&o.no_extract, NULL);
    return rc;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("kiln %s\n", KILN_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "build") == 0)
        return cmd_build(argc - 1, argv + 1);
    if (strcmp(argv[1], "inspect") == 0) {
        if (argc != 3) {
            error("usage: kiln inspect FILE");
            return 2;
        }
        return kiln_inspect(argv[2]);
    }
    error("unknown command '%s'; the commands are build and inspect",
          argv[1]);
    return 2;
}
