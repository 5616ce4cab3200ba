/*
 * opencode.h - the io.open_code() hook that serves packed paths.
 */
#ifndef KILN_OPENCODE_H
#define KILN_OPENCODE_H

/* Before Py_InitializeFromConfig: installs the hook (once per process).
   0, or -1 when a hook is already installed. */
int kiln_opencode_install(void);

#endif
