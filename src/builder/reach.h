/*
 * reach.h - what is packed, as a sorted index of module names (with the
 * target's built-in modules), and what the app reaches: the modules that
 * its imports run, from what it runs, through every import.
 */
#ifndef KILN_REACH_H
#define KILN_REACH_H

#include "collect.h"
#include "scan.h"

typedef struct {
    const char *name;
    const module_item *m; /* NULL: built into the target */
    int hooked; /* a package with an import hook: names below are its own */
    int reached; /* the app imports it, through some chain (reach()) */
} packed_name;

typedef struct {
    packed_name *v;
    size_t n;
    vec owned; /* names of built-in modules */
} name_index;

/* The index of c's modules and of importable (comma-separated names),
   reached nowhere yet. */
void index_build(name_index *ix, const collection *c, const char *importable);
void index_free(name_index *ix);
/* The packed name that equals the first len bytes of name, or NULL. */
packed_name *index_find(const name_index *ix, const char *name, size_t len);
int is_package(const packed_name *p);
/* How many bytes of e's name resolve to nothing packed: 0 when it
   resolves. */
size_t unresolved_length(const name_index *ix, const scan_entry *e);
/* An import of name[0:len), as unresolved_length() reads one. */
scan_entry import_of(const char *name, size_t len);
/* Sets `reached` on the modules the app imports (main: what -m runs, else
   NULL). */
void reach(name_index *ix, const collection *c, const char *main);
int is_reached(const name_index *ix, const module_item *m);

#endif
