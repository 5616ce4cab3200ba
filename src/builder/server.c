/*
 * server.c - starts a launcher with --kiln-compile-server and exchanges
 * request and reply frames with it over two pipes. kiln owns the Python
 * code that the server runs: it is built into kiln and sent to each server
 * before its first request that runs it.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "util.h"

/* The server's Python code, from src/builder/py/ (tools/embed.py). */
#include "server_dists.py.h"
#include "server_grammar.py.h"
#include "server_info.py.h"
#include "server_scan.py.h"
#include "server_toml.py.h"

static const struct {
    uint32_t op;
    const char *file, *source;
} server_code[] = {
    {KC_OP_INFO, "server_info.py", server_info_py},
    {KC_OP_TOML, "server_toml.py", server_toml_py},
    {KC_OP_SCAN, "server_scan.py", server_scan_py},
    {KC_OP_GRAMMAR, "server_grammar.py", server_grammar_py},
    {KC_OP_DISTS, "server_dists.py", server_dists_py},
};

extern char **environ;

int server_start(kserver *s, const char *launcher)
{
    int in[2], out[2];
    posix_spawn_file_actions_t fa;
    char *argv[] = {(char *)launcher, "--kiln-compile-server", NULL};
    int rc;

    s->launcher = launcher;
    s->pid = -1;
    s->code_sent = 0;
    s->dist_lines = NULL;
    if (pipe2(in, O_CLOEXEC) != 0)
        return error("cannot create a pipe: %s", strerror(errno));
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return error("cannot create a pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    rc = posix_spawn(&s->pid, launcher, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        return error("cannot start the launcher %s: %s", launcher,
                     strerror(rc));
    }
    s->to = in[1];
    s->from = out[0];
    return 0;
}

/* One request and its reply; `what` names the request in messages. */
static int exchange(kserver *s, uint32_t op, uint32_t arg, const char *name,
                    const void *data, size_t len, const char *what,
                    uint32_t *status, uint8_t **out, size_t *out_len)
{
    uint32_t head[4] = {op, arg, (uint32_t)strlen(name), (uint32_t)len};
    uint32_t reply[2];
    uint8_t *buf;

    if (fd_write_full(s->to, head, sizeof head) ||
        fd_write_full(s->to, name, head[2]) || fd_write_full(s->to, data, len) ||
        fd_read_full(s->from, reply, sizeof reply))
        return error("the compile server %s stopped unexpectedly (while "
                     "handling %s)", s->launcher, what);
    buf = xmalloc((size_t)reply[1] + 1);
    if (fd_read_full(s->from, buf, reply[1])) {
        free(buf);
        return error("the compile server %s stopped mid-reply (while "
                     "handling %s)", s->launcher, what);
    }
    buf[reply[1]] = '\0';
    *status = reply[0];
    *out = buf;
    *out_len = reply[1];
    return 0;
}

/* Sends the server the code of its Python ops (KC_OP_LOAD). */
static int send_code(kserver *s, const char *what)
{
    for (size_t i = 0; i < sizeof server_code / sizeof *server_code; i++) {
        uint32_t status;
        uint8_t *out;
        size_t len;

        if (exchange(s, KC_OP_LOAD, KC_LOAD_ARG(server_code[i].op),
                     server_code[i].file,
                     server_code[i].source, strlen(server_code[i].source),
                     what, &status, &out, &len))
            return -1;
        if (status != KC_OK) {
            error("the compile server %s refused kiln's %s: %s; use the "
                  "launcher that was built with this kiln", s->launcher,
                  server_code[i].file, (char *)out);
            free(out);
            return -1;
        }
        free(out);
    }
    s->code_sent = 1;
    return 0;
}

int server_call(kserver *s, uint32_t op, uint32_t arg, const char *name,
                const void *data, size_t len, uint32_t *status, uint8_t **out,
                size_t *out_len)
{
    if (op != KC_OP_COMPILE && op != KC_OP_BUILT && !s->code_sent &&
        send_code(s, name))
        return -1;
    return exchange(s, op, arg, name, data, len, name, status, out, out_len);
}

void server_stop(kserver *s)
{
    int st;
    if (s->pid <= 0)
        return;
    close(s->to);
    close(s->from);
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
        ;
    s->pid = -1;
}
