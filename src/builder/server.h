/*
 * server.h - talks to a launcher's compile server (src/launcher/compiler.c)
 * in the frames of protocol.h, and sends it kiln's Python (src/builder/py/).
 */
#ifndef KILN_SERVER_H
#define KILN_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol.h"

typedef struct {
    pid_t pid;
    int to, from;
    const char *launcher;
    int code_sent; /* src/builder/py/ sent (KC_OP_LOAD) */
    const char *dist_lines; /* lines every DISTS request starts with (a
                               venv's site folder), or NULL */
} kserver;

int server_start(kserver *s, const char *launcher);
/* Sends one request; before the first one that runs Python, that Python
   (src/builder/py/server_*.py). Returns -1 when the server is gone or
   refuses that Python (message printed); otherwise 0 with *status KC_OK
   or KC_ERROR and the reply in *out (NUL-terminated, caller frees). */
int server_call(kserver *s, uint32_t op, uint32_t arg, const char *name,
                const void *data, size_t len, uint32_t *status, uint8_t **out,
                size_t *out_len);
void server_stop(kserver *s);

#endif
