/*
 * sweep.c - the names of kiln's temporary folders (TAG: the writer's pid,
 * pid namespace and a random number), and the sweep that removes those
 * whose writer is gone.
 */
#include "sweep.h"

#include <dirent.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "privdir.h"

/* TAG: pid-pidns-random, for the names of temporary folders. */
void kiln_make_tag(char *out, size_t size)
{
    static atomic_ullong counter; /* any thread */
    unsigned long long r;

    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (unsigned long long)time(NULL) ^ ((unsigned long long)clock()
                                              << 20) ^ ++counter;
    snprintf(out, size, "%ld-%llu-%016llx", (long)getpid(), privdir_pid_ns(),
             r);
}

/* A decimal number of 1 to 19 digits at s, in *out; what follows it, or
   NULL. */
static const char *tag_number(const char *s, unsigned long long *out)
{
    int n = 0;

    for (*out = 0; *s >= '0' && *s <= '9' && n < 19; s++, n++)
        *out = *out * 10 + (unsigned long long)(*s - '0');
    return n > 0 && !(*s >= '0' && *s <= '9') ? s : NULL;
}

/* Are the len bytes at s 16 lowercase hex digits, as %016llx writes? */
static int is_hex16(const char *s, size_t len)
{
    if (len != 16)
        return 0;
    for (size_t i = 0; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Is tag exactly what kiln_make_tag() writes, PID-NS-RANDOM? Its pid and pid
   namespace in *pid and *ns. */
static int parse_tag(const char *tag, long *pid, unsigned long long *ns)
{
    unsigned long long p;
    const char *s = tag_number(tag, &p);

    if (!s || *s != '-' || !(s = tag_number(s + 1, ns)) || *s != '-' ||
        !is_hex16(s + 1, strlen(s + 1)) || p == 0 || p > 0x7fffffff)
        return 0;
    *pid = (long)p;
    return 1;
}

/* The TAG of a writer's temporary folder, named .LABEL-HASH.TAG by
   extract_into() (HASH: 16 hex digits), or NULL for any other name: the
   cache holds nothing else with a dot first, but nothing else is ever
   removed. */
static const char *writer_tag(const char *name)
{
    const char *dot = strrchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : 0;

    if (name[0] != '.' || len < 19 || name[len - 17] != '-' ||
        !is_hex16(name + len - 16, 16))
        return NULL;
    return dot + 1;
}

/* Does the temporary folder named ...TAG, last changed at mtime, belong to
   no live process? Only a tag that kiln_make_tag() wrote says: its pid, in
   this pid namespace, is gone (or is ours: a process that had our pid
   before); with max_age, such a folder older than that is stale too. A pid
   from another namespace (a container sharing the folder) says nothing. */
static int is_stale(const char *tag, time_t mtime, long max_age)
{
    unsigned long long ns;
    long pid;

    if (!parse_tag(tag, &pid, &ns))
        return 0;
    if (max_age > 0 && time(NULL) - mtime > max_age)
        return 1;
    if (ns == 0 || ns != privdir_pid_ns())
        return 0;
    if (pid == (long)getpid())
        return 1;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Removes each folder in dir of this user whose name is prefix + TAG
   (prefix NULL: a writer's .LABEL-HASH.TAG) and that is_stale() says is
   stale; never a symlink, nor anything a symlink points to. */
void kiln_sweep(int dir, const char *prefix, long max_age)
{
    int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    struct stat st;
    const char *tag;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((de = readdir(d))) {
        if (prefix)
            tag = strncmp(de->d_name, prefix, strlen(prefix)) == 0
                      ? de->d_name + strlen(prefix) : NULL;
        else
            tag = writer_tag(de->d_name);
        if (!tag ||
            fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            continue;
        if (is_stale(tag, st.st_mtime, max_age))
            privdir_remove_at(dir, de->d_name);
    }
    closedir(d);
}
