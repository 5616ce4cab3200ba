/*
 * diag.h - messages to stderr, as "kiln: <message>": errors, warnings and
 * errors that end with the system's reason (errno), as git's usage.c has.
 * Used by kiln and by the launcher.
 */
#ifndef KILN_DIAG_H
#define KILN_DIAG_H

/* Hidden: the launcher exports its symbols to the extension modules it
   loads (--export-dynamic), where an error() of kiln's would stand in for
   glibc's error(3). */
#define KILN_DIAG __attribute__((visibility("hidden")))

/* Prints "kiln: <message>"; returns -1 for `return error(...)`. */
KILN_DIAG int error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* error() with ": <strerror(errno)>" appended; errno is read first. */
KILN_DIAG int error_errno(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Prints "kiln: warning: <message>". */
KILN_DIAG void warning(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* error(), then exit(1). */
KILN_DIAG void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
