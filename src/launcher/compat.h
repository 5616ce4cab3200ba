/*
 * compat.h - every private CPython symbol the launcher uses, in one place,
 * behind PY_VERSION_HEX (3.10 to 3.13), each with why no public API serves.
 * The launcher links libpython statically, so symbols that CPython keeps
 * out of its public headers still resolve; they may change in any release.
 */
#ifndef KILN_COMPAT_H
#define KILN_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX < 0x030A0000 || PY_VERSION_HEX >= 0x030E0000
#error "kiln's launcher supports CPython 3.10 to 3.13"
#endif

/* The flag CPython sets when a KeyboardInterrupt ends the main program,
   so that Py_RunMain() exits by SIGINT; no public API reads or keeps it
   (any exec() of a string clears it). 3.10 and 3.11 export it as
   _Py_UnhandledKeyboardInterrupt; 3.12 moved it into _PyRuntime, which
   only Py_BUILD_CORE code reaches: pyinternal.c, the one such file. */
int *kiln_unhandled_sigint(void);

/* _Py_Offer_Suggestions: the ". Did you mean: 'x'?" of the C traceback
   printer (3.10, 3.11), which the traceback module lacks there and no
   public API offers; 3.12's traceback module makes them itself. Returns a
   new reference, or NULL, maybe with an exception to clear. */
#if PY_VERSION_HEX < 0x030C0000
extern PyObject *_Py_Offer_Suggestions(PyObject *exception);
#define kiln_offer_suggestions(exc) _Py_Offer_Suggestions(exc)
#else
#define kiln_offer_suggestions(exc) ((void)(exc), (PyObject *)NULL)
#endif

/* _PyInterpreterState_GetConfig: the running interpreter's PyConfig, for
   use_frozen_modules (3.11+) and to fix a field that
   Py_InitializeFromConfig() loses (main.c); there is no public reader
   before 3.14's PyConfig_Get(). 3.13 declares it only in an internal
   header. */
#if PY_VERSION_HEX >= 0x030D0000
extern const PyConfig *_PyInterpreterState_GetConfig(PyInterpreterState *);
#endif

/* PyConfig.stdlib_dir and safe_path (main.c), use_frozen_modules and
   sys._stdlib_dir: 3.11+. */
#define KILN_HAVE_STDLIB_DIR (PY_VERSION_HEX >= 0x030B0000)

/* Does this interpreter use its frozen stdlib modules (-X frozen_modules)?
   3.10 has no such setting, and freezes none of the stdlib. */
static inline int kiln_use_frozen_modules(void)
{
#if PY_VERSION_HEX >= 0x030B0000
    return _PyInterpreterState_GetConfig(PyInterpreterState_Get())
        ->use_frozen_modules;
#else
    return 0;
#endif
}

/* _PyType_GetModuleByDef: 3.10's name for PyType_GetModuleByDef(), public
   from 3.11, which finds the module of a method's class (PEP 630). */
#if PY_VERSION_HEX < 0x030B0000
#define PyType_GetModuleByDef _PyType_GetModuleByDef
#endif

/* Py_mod_multiple_interpreters (PEP 684, 3.12): the slot by which _kiln
   says that it may be loaded in an interpreter with a GIL of its own
   (kilnmod.c), public from 3.12; without it, 3.12 refuses such
   interpreters the module, and so their creation. 3.10 and 3.11 have
   neither the slot nor such interpreters. */
#if PY_VERSION_HEX >= 0x030C0000
#define KILN_PER_INTERPRETER_GIL_SLOT                                       \
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#else
#define KILN_PER_INTERPRETER_GIL_SLOT
#endif

/* PyConfig._init_main and _Py_InitializeMain() (main.c): the two-phase
   initialization of PEP 587, whose public form PEP 587 left provisional
   and only these names carry; the importer must be installed between the
   phases. Declared by <Python.h> (cpython/pylifecycle.h) in 3.10 to
   3.13. */

/* _PyCompilerFlags_INIT (compiler.c): the initializer of PyCompilerFlags,
   a public struct with no public initializer; a macro of <Python.h>
   (cpython/compile.h) in 3.10 to 3.13. */

#endif
