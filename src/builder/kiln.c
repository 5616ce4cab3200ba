/*
 * kiln.c - the kiln command line: `kiln build`, `kiln inspect` and
 * `kiln targets`.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "inspect.h"
#include "launchers.h"
#include "options.h"
#include "util.h"

#ifndef KILN_VERSION
#define KILN_VERSION "0.1.0"
#endif

static const char usage[] =
    "usage: kiln build [options] [SCRIPT]\n"
    "       kiln inspect FILE\n"
    "       kiln targets\n"
    "       kiln --version\n"
    "\n"
    "kiln packs a Python app, its modules and the standard library into one\n"
    "executable that imports everything from memory.\n";

static int cmd_build(int argc, char **argv)
{
    build_options o;
    int rc = options_parse(&o, argc, argv);

    if (rc < 0)
        rc = kiln_build(&o);
    options_free(&o);
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
    if (strcmp(argv[1], "targets") == 0) {
        if (argc != 2) {
            error("usage: kiln targets");
            return 2;
        }
        return launchers_print();
    }
    if (strcmp(argv[1], "inspect") == 0) {
        if (argc != 3) {
            error("usage: kiln inspect FILE");
            return 2;
        }
        return kiln_inspect(argv[2]);
    }
    error("unknown command '%s'; the commands are build, inspect and "
          "targets",
          argv[1]);
    return 2;
}
