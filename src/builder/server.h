/*
 * server.h - talks to a launcher's compile server (src/launcher/compiler.c).
 */
#ifndef KILN_SERVER_H
#define KILN_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "compiler.h"

typedef struct {
    pid_t pid;
    int to, from;
    const char *launcher;
} kserver;

int server_start(kserver *s, const char *launcher);
/* Sends one request. Returns -1 when the server is gone (message printed);
   otherwise 0 with *status KC_OK or KC_ERROR and the reply in *out
   (NUL-terminated, caller frees). */
int server_call(kserver *s, uint32_t op, uint32_t arg, const char *name,
                const void *data, size_t len, uint32_t *status, uint8_t **out,
                size_t *out_len);
void server_stop(kserver *s);

#endif
