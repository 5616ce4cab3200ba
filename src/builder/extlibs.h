/*
 * extlibs.h - the shared libraries that packed extension modules bring
 * along: finds each extension's bundled DT_NEEDED libraries, packs them as
 * files and records the extension's preload list.
 */
#ifndef KILN_EXTLIBS_H
#define KILN_EXTLIBS_H

#include "collect.h"

/* For every extension module in c that is not the stdlib's (whose images
   are in m->out.bytes), finds the libraries it needs, directly or through
   one another, that its package bundles: in the extension's own folder, in
   its DT_RUNPATH/DT_RPATH entries under $ORIGIN, and in the *.libs folders
   beside its top-level package. Adds them to c->files unless packed
   already, and sets m->out.preload to their packed paths, dependencies
   first, joined by '\n'. Libraries found nowhere in the package stay the
   host's. With verbose, prints each preload list. 0, or -1 after an
   error. */
int extlibs_bundle(collection *c, int verbose);

#endif
