/*
 * locks.h - the locks of the launcher's process-wide C state, which
 * interpreters with a GIL of their own (3.12+) reach at the same time:
 * the extract cache, the private temporary folder, the extract report and
 * the extension modules loaded from memory. A lock is held over C code
 * only, never over a call into Python (which may release a GIL another
 * thread waits for), and locks nest in the order of the enum.
 */
#ifndef KILN_LOCKS_H
#define KILN_LOCKS_H

typedef enum {
    KILN_LOCK_EXTRACT, /* extract.c: one extraction at a time */
    KILN_LOCK_TEMPDIR, /* tempdir.c: the folder, made once */
    KILN_LOCK_REPORT,  /* extract_report.c: the extractions used */
    KILN_LOCK_EXTLOAD, /* extload.c: memfds and libraries loaded */
    KILN_LOCKS
} kiln_lock_id;

void kiln_lock(kiln_lock_id id);
void kiln_unlock(kiln_lock_id id);

#endif
