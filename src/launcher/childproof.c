/*
 * childproof.c - the proof that a multiprocessing child of a kiln app was
 * started by the app itself. The parent (py/kiln_support.py, wrapping
 * multiprocessing.util.spawnv_passfds) makes a socketpair, closes one end
 * and passes the other to the child, whose argv names it. The kernel fixed
 * the socket's peer credentials (pid, euid, egid) when the parent made it:
 * neither argv nor the environment can forge them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "childproof.h"

PyObject *kiln_child_proof_new(PyObject *module, PyObject *unused)
{
    int sv[2];

    (void)module;
    (void)unused;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    close(sv[1]);
    return PyLong_FromLong(sv[0]);
}

static int refuse(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

int kiln_child_proof_check(int fd, char *why, size_t len)
{
    struct stat st, parent, self;
    struct ucred cred;
    socklen_t n = sizeof cred;
    int domain = 0;
    socklen_t dn = sizeof domain;
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
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) != 0)
        return refuse(why, len, "descriptor %d has no peer credentials: %s",
                      fd, strerror(errno));
    if (cred.pid != ppid)
        return refuse(why, len, "descriptor %d was made by process %d, not "
                      "by the parent process %d", fd, (int)cred.pid,
                      (int)ppid);
    if (cred.uid != geteuid() || cred.gid != getegid())
        return refuse(why, len, "descriptor %d was made with uid %u gid %u, "
                      "not this process's effective uid %u gid %u", fd,
                      (unsigned)cred.uid, (unsigned)cred.gid,
                      (unsigned)geteuid(), (unsigned)getegid());
    snprintf(path, sizeof path, "/proc/%d/exe", (int)ppid);
    if (stat(path, &parent) != 0)
        return refuse(why, len, "%s: %s", path, strerror(errno));
    if (stat("/proc/self/exe", &self) != 0)
        return refuse(why, len, "/proc/self/exe: %s", strerror(errno));
    if (parent.st_dev != self.st_dev || parent.st_ino != self.st_ino)
        return refuse(why, len, "the parent process %d runs another "
                      "executable", (int)ppid);
    /* The parent was still ours when its exe was read, not a process that
       took its pid after it died. */
    if (getppid() != ppid)
        return refuse(why, len, "the parent process %d exited", (int)ppid);
    return 0;
}
