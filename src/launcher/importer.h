/*
 * importer.h - kiln's C importer: serves modules, sources, data files and
 * extension modules from a mapped payload.
 */
#ifndef KILN_IMPORTER_H
#define KILN_IMPORTER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "kpack.h"

/* Before Py_InitializeFromConfig: registers the built-in module _kiln. */
int kiln_importer_register(void);
/* After core initialization: puts the importer on sys.meta_path (in
   interpreter mode after the built-in and frozen importers). exe is the
   executable's absolute path; disk_stdlib, in interpreter mode, the stdlib
   folder on disk whose package folders join packed packages' __path__. */
int kiln_importer_install(const kp_pack *pack, const char *exe,
                          const char *disk_stdlib);
/* After main initialization: puts kiln's path hook first on
   sys.path_hooks (it claims <exe> and the folders in it); in a hermetic
   app, keeps the filesystem finder after the importer, makes sys.path
   [<exe>, <exe>] and has importlib's "No module named" message say that a
   top-level module is not packed; in interpreter mode, moves the importer
   from sys.meta_path to the path hook; always installs the traceback hook
   that shows packed sources. */
int kiln_importer_finish(int hermetic);
/* For io.open_code(): what the virtual path <exe>/<packed path> holds. A
   new reference to the bytes of a packed file (a module's source, a data
   file), else to the code object of a module packed without its source;
   NULL without an exception when nothing is packed there. */
PyObject *kiln_importer_path_contents(PyObject *path);

#endif
