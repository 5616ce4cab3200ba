/*
 * fdio.h - whole reads and writes on file descriptors, retried on EINTR.
 * Shared by the launcher's compile server and the kiln command.
 */
#ifndef KILN_FDIO_H
#define KILN_FDIO_H

#include <stddef.h>

/* 0 when all len bytes moved; -1 on error or end of file. */
int fd_read_full(int fd, void *buf, size_t len);
int fd_write_full(int fd, const void *buf, size_t len);

#endif
