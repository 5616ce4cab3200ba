/*
 * compile.c - compiles the collected sources through the target's compile
 * servers, one per core, each fed by its own thread from a shared queue;
 * the same servers scan imports (scan.h).
 */
#include "compile.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"
#include "server.h"
#include "util.h"

#define MAX_SERVERS 8

typedef struct {
    kserver server;
    vec *jobs;
    atomic_size_t *next, *done;
    int optimize;
    int broken;
} worker;

/* "TYPE\tLINE\tCOL\tMSG\tTEXT" from the server, or a plain message. */
static char *compile_error(const module_item *m, char *reply)
{
    char *f[5] = {0}, *save = NULL, *p = reply, *text;
    int n = 0;

    if (strchr(reply, '\t')) {
        for (; n < 5; n++) {
            f[n] = strtok_r(n ? NULL : p, "\t", &save);
            if (!f[n])
                break;
        }
    }
    if (n < 4)
        return xprintf("%s: %s", m->disk, reply);
    text = f[4] && strcmp(f[4], "None") ? f[4] : "";
    text[strcspn(text, "\n")] = '\0';
    while (*text == ' ' || *text == '\t')
        text++;
    return xprintf("%s:%s:%s: %s: %s%s%s", m->disk, f[1], f[2], f[0], f[3],
                   *text ? "\n    " : "", text);
}

static int compile_one(kserver *s, module_item *m, int optimize)
{
    uint32_t status;
    uint8_t *out;
    size_t len;

    if (server_call(s, KC_OP_COMPILE, (uint32_t)optimize, m->relpath,
                    m->out.bytes, m->out.bytes_len, &status, &out, &len))
        return -1;
    if (status == KC_OK) {
        m->out.code = out;
        m->out.code_len = len;
    } else {
        m->out.error = compile_error(m, (char *)out);
        free(out);
    }
    return 0;
}

static void *worker_main(void *arg)
{
    worker *w = arg;

    for (;;) {
        size_t i = atomic_fetch_add(w->next, 1);
        module_item *m;

        if (i >= w->jobs->n)
            break;
        m = w->jobs->v[i];
        if ((!m->out.code && w->optimize >= 0 &&
             compile_one(&w->server, m, w->optimize) != 0) ||
            (m->out.want_scan && scan_request(&w->server, m) != 0)) {
            w->broken = 1;
            break;
        }
        atomic_fetch_add(w->done, 1);
    }
    return NULL;
}

static void progress(double start, int quiet, const char *what, size_t done,
                     size_t total)
{
    static int shown;
    if (quiet || now_seconds() - start < 1.0)
        return;
    if (isatty(2)) {
        fprintf(stderr, "\rkiln: %s %zu/%zu", what, done, total);
        if (done == total)
            fputc('\n', stderr);
        shown = 1;
    } else if (!shown || done == total) {
        fprintf(stderr, "kiln: %s %zu/%zu\n", what, done, total);
        shown = done != total;
    }
}

int compile_all(const char *launcher, kserver *first, vec *jobs,
                       int optimize, double start, int quiet)
{
    worker w[MAX_SERVERS];
    pthread_t threads[MAX_SERVERS];
    atomic_size_t next = 0, done = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cores < 1 ? 1 : cores > MAX_SERVERS ? MAX_SERVERS : (int)cores;
    int started = 0, rc = 0;

    if ((size_t)n > jobs->n / 50 + 1)
        n = (int)(jobs->n / 50 + 1);
    for (int i = 0; i < n; i++) {
        w[i] = (worker){.jobs = jobs, .next = &next, .done = &done,
                        .optimize = optimize};
        if (i == 0)
            w[i].server = *first;
        else if (server_start(&w[i].server, launcher) != 0)
            break;
        if (pthread_create(&threads[i], NULL, worker_main, &w[i]) != 0) {
            if (i > 0)
                server_stop(&w[i].server);
            break;
        }
        started++;
    }
    if (started == 0)
        return error("cannot start a compile thread");
    while (atomic_load(&done) < jobs->n) {
        int alive = 0;
        for (int i = 0; i < started; i++)
            alive += !w[i].broken;
        if (!alive)
            break;
        progress(start, quiet, optimize < 0 ? "scanning" : "compiling",
                 atomic_load(&done), jobs->n);
        usleep(50000);
    }
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        if (w[i].broken)
            rc = -1;
        if (i > 0)
            server_stop(&w[i].server);
    }
    if (rc == 0)
        progress(start, quiet, optimize < 0 ? "scanning" : "compiling",
                 jobs->n, jobs->n);
    return rc;
}

