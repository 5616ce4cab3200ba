/*
 * pyinternal.c - the one launcher file built with Py_BUILD_CORE: it reads
 * CPython state that has no public API and moves between versions (the
 * flag that makes Py_RunMain() exit by SIGINT), and links in libpython's
 * parts that only extension modules call (see compat.h).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#if PY_VERSION_HEX >= 0x030C0000
#include "internal/pycore_runtime.h" /* _PyRuntime.signals */
#endif

#include "compat.h"

int *kiln_unhandled_sigint(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return &_PyRuntime.signals.unhandled_keyboard_interrupt;
#else
    extern int _Py_UnhandledKeyboardInterrupt;
    return &_Py_UnhandledKeyboardInterrupt;
#endif
}
