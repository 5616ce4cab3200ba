/*
 * collect.h - finds what goes into an executable: the stdlib of the target
 * Python, its lib-dynload extensions, and the app's modules, packages,
 * namespace packages and data files.
 */
#ifndef KILN_COLLECT_H
#define KILN_COLLECT_H

#include "collection.h"

/* What collect_site_entry packs. */
enum { SITE_TREE, SITE_NAMESPACE, SITE_INIT };

/* Walks of the app's folders and of site folders trust no symlink: one
   that leads outside the folder given (--path DIR, the script's folder, the
   site folder) is skipped with a warning naming it and its target, and so
   are dangling and looping ones. The target's stdlib is trusted. */

/* Packs everything importable under dir (a --path): modules, packages,
   namespace packages, extensions and data files inside packages. */
int collect_app_path(collection *c, const char *dir);
/* Packs what `import top` finds in dir, as python's FileFinder would:
   1 when something was packed, 0 when dir has nothing by that name. */
int collect_app_entry(collection *c, const char *dir, const char *top);
/* Packs relpath under dir, a distribution's site folder (FROM_SITE):
   SITE_TREE a module, package, extension, or else a data file or folder,
   with all it holds; SITE_NAMESPACE the folder as a namespace package;
   SITE_INIT the folder as a package with only its __init__.py. Module names
   follow relpath: zope/interface is zope.interface. */
int collect_site_entry(collection *c, const char *dir, const char *relpath,
                       int kind);
/* Adds the script as module __main__; relpath is its base name. */
int collect_script(collection *c, const char *script);
/* The stdlib under dir, minus tests, idlelib, ensurepip (kept for an
   interpreter: python -m venv runs it), site-packages and, when tk is 0,
   tkinter and turtle. */
int collect_stdlib(collection *c, const char *dir, int tk, int interpreter);
/* Extension modules in lib-dynload; test-only ones only if with_tests. */
int collect_dynload(collection *c, const char *dir, int with_tests);
/* Adds a file to pack (a bundled shared library, say). */
void collection_add_file(collection *c, int from, const char *relpath,
                         const char *disk);
#endif
