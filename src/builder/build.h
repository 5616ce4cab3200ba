/*
 * build.h - `kiln build`: collects, compiles through the target's launcher,
 * packs and writes the executable atomically.
 */
#ifndef KILN_BUILD_H
#define KILN_BUILD_H

#include "options.h"

/* Builds what o says; returns the process exit status. */
int kiln_build(build_options *o);

#endif
