/*
 * childproof.c - the proof that a child of a kiln app, a process running
 * the app's own executable, was started by the app itself. The parent
 * (children.c, where the app starts programs) makes a socketpair, queues a
 * fixed message on one end, closes the other and passes the first to the
 * child, whose argv names it. The kernel fixed the socket's peer
 * credentials (pid, euid, egid) when the parent made it: neither argv nor
 * the environment can forge them. The message tells a proof from any other
 * socket a process may hold.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "childproof.h"

static const char message[] = KILN_CHILD_PROOF_MESSAGE;
#define MESSAGE_LEN (sizeof message - 1)

int kiln_child_proof_make(void)
{
    int sv[2], fd, err;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    /* Queued for sv[0] before sv[1] closes: the child reads it, then EOF. */
    if (write(sv[1], message, MESSAGE_LEN) != (ssize_t)MESSAGE_LEN) {
        err = errno ? errno : EIO;
        close(sv[0]);
        close(sv[1]);
        errno = err;
        return -1;
    }
    close(sv[1]);
    fd = sv[0];
    /* Never 0, 1 or 2, which a child's standard streams replace. */
    if (fd < 3) {
        fd = fcntl(sv[0], F_DUPFD_CLOEXEC, 3);
        err = errno;
        close(sv[0]);
        errno = err;
    }
    return fd;
}

PyObject *kiln_child_proof_new(PyObject *module, PyObject *unused)
{
    int fd;

    (void)module;
    (void)unused;
    fd = kiln_child_proof_make();
    if (fd < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    return PyLong_FromLong(fd);
}

static int refuse(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Reads the proof's message: 0 when it is kiln's, whole. */
static int read_message(int fd)
{
    char buf[sizeof message];
    size_t got = 0;
    ssize_t n;

    while (got < sizeof buf) {
        n = recv(fd, buf + got, sizeof buf - got, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got == MESSAGE_LEN && memcmp(buf, message, MESSAGE_LEN) == 0
               ? 0
               : -1;
}

int kiln_child_proof_check(int fd, char *why, size_t len)
{
    struct stat st, parent, self;
    struct ucred cred;
    socklen_t n = sizeof cred;
    int domain = 0, type = 0, in_place;
    socklen_t dn = sizeof domain, tn = sizeof type;
    pid_t ppid = getppid();
    char path[64];

    /* Privileges gained at exec with our ids unchanged (file capabilities,
       a security module's transition) are not in the peer credentials: a
       process could make the socket before it executes the app. */
    if (getauxval(AT_SECURE) && geteuid() == getuid() &&
        getegid() == getgid())
        return refuse(why, len, "this process runs with privileges that "
                      "its user and group ids do not show (file "
                      "capabilities?), which the proof cannot vouch for");
    if (fstat(fd, &st) != 0)
        return refuse(why, len, "descriptor %d: %s", fd, strerror(errno));
    if (!S_ISSOCK(st.st_mode) ||
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dn) != 0 ||
        domain != AF_UNIX)
        return refuse(why, len, "descriptor %d is not a Unix socket", fd);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tn) != 0 ||
        type != SOCK_STREAM)
        return refuse(why, len, "descriptor %d is a Unix socket, but not a "
                      "stream socket", fd);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) != 0)
        return refuse(why, len, "descriptor %d has no peer credentials: %s",
                      fd, strerror(errno));
    /* Made by the parent (fork and exec), or by this very process before
       it executed the app again (os.execv). */
    in_place = cred.pid == getpid();
    if (!in_place && cred.pid != ppid)
        return refuse(why, len, "descriptor %d was made by process %d, not "
                      "by the parent process %d nor by this process", fd,
                      (int)cred.pid, (int)ppid);
    if (cred.uid != geteuid() || cred.gid != getegid())
        return refuse(why, len, "descriptor %d was made with uid %u gid %u, "
                      "not this process's effective uid %u gid %u", fd,
                      (unsigned)cred.uid, (unsigned)cred.gid,
                      (unsigned)geteuid(), (unsigned)getegid());
    if (!in_place) {
        snprintf(path, sizeof path, "/proc/%d/exe", (int)ppid);
        if (stat(path, &parent) != 0)
            return refuse(why, len, "%s: %s", path, strerror(errno));
        if (stat("/proc/self/exe", &self) != 0)
            return refuse(why, len, "/proc/self/exe: %s", strerror(errno));
        if (parent.st_dev != self.st_dev || parent.st_ino != self.st_ino)
            return refuse(why, len, "the parent process %d runs another "
                          "executable", (int)ppid);
    }
    /* A socket that a program made for its own ends (a listening socket
       that it hands on, say) is no proof: only kiln queues this message. */
    if (read_message(fd) != 0)
        return refuse(why, len, "descriptor %d holds no proof that kiln "
                      "made", fd);
    /* The parent was still ours when its exe was read, not a process that
       took its pid after it died. */
    if (!in_place && getppid() != ppid)
        return refuse(why, len, "the parent process %d exited", (int)ppid);
    return 0;
}
