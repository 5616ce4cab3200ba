/*
 * extraction.h - which top-level packages get real files on disk at run
 * time (KP_MOD_EXTRACT): those whose code uses __file__ in a path (the
 * scans say so), those --extract names, and the whole stdlib when a
 * packed package reads its files.
 */
#ifndef KILN_EXTRACTION_H
#define KILN_EXTRACTION_H

#include "collect.h"

/* Checks the names forced either way (--extract, --no-extract): each must
   be the top-level name of a packed module from outside the stdlib, and
   in one list only. -1 with a message otherwise; origin says where the
   names come from (NULL: the command line). */
int extract_check(const collection *c, const vec *force, const vec *never,
                  const char *origin);
/* Sets needs_files from the scans, and extract on every module of each
   top-level package from outside the stdlib that needs files or is
   forced, unless never names it. main as for imports_warn. verbose says
   which and why. */
void extract_plan(collection *c, const char *main, const vec *force,
                  const vec *never, int verbose);
/* Prints a note for each package from the app's own folders that
   extract_plan() extracted by itself: its extracted files are read-only,
   so what it writes beside __file__ fails at run time. */
void extract_note(const collection *c);
/* Whether the whole stdlib gets real files (KP_STDLIB_FILES), and sets
   extract on its modules then: mode 1 or 0 as given (--stdlib-files,
   --no-stdlib-files), -1 when a packed package reads the stdlib's files
   (jedi). verbose says why. */
int stdlib_files_plan(collection *c, int mode, int verbose);

#endif
