/*
 * diag.h - messages to stderr, as "kiln: <message>": errors, warnings and
 * errors that end with the system's reason (errno), as git's usage.c has.
 */
#ifndef KILN_DIAG_H
#define KILN_DIAG_H

/* Prints "kiln: <message>"; returns -1 for `return error(...)`. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* error() with ": <strerror(errno)>" appended; errno is read first. */
int error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "kiln: warning: <message>". */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
