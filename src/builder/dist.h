/*
 * dist.h - installed distributions: `kiln build --package NAME` and
 * `--site-packages DIR`. The target's compile server finds them and says
 * which files each one owns (src/builder/py/server_dists.py); dist.c adds
 * those files to the collection.
 */
#ifndef KILN_DIST_H
#define KILN_DIST_H

#include "collect.h"
#include "server.h"

/* packages: char*, NAME or NAME[extra,...]; site_dirs: char*, folders.
   Packs the distributions, what they require and everything in the
   folders. With verbose, prints each distribution and why it is packed.
   Returns 0, or -1 after printing what is wrong. */
int collect_dists(kserver *s, collection *c, const vec *packages,
                  const vec *site_dirs, int verbose);
/* The server's reply to a DISTS request of provides= or installed= lines
   (docs/format.md); a malloc'ed string, empty when the server cannot
   answer. */
char *dist_ask(kserver *s, const char *request);
/* Packs what a DISTS request of follow= lines (imports_follow) names, as
   collect_dists() does. */
int collect_followed(kserver *s, collection *c, const char *request,
                     int verbose);

#endif
