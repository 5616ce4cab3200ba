/*
 * extract.c - the extract-once cache (see extract.h).
 *
 * The folder for a package is named by a hash of its packed paths and
 * blob checks (and the layout's version: how files are written), so a new
 * build gets a new folder and an unchanged one reuses it. Files are written to a temporary folder with a stamp file last, and
 * the folder is renamed into place: a crash half-way leaves no folder that
 * passes for complete. Folders another user can write are never trusted.
 */
#include "extract.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Changes when extracted files are written differently (2: modes 0644
   and 0755, not 0600 and 0700), so that older folders are not reused. */
#define EXTRACT_LAYOUT "kiln-extract-2"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "fdio.h"
#include "privdir.h"

#define STAMP ".kiln-complete"

static char *temp_dir; /* the fallback folder, once made */

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *out;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!out)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

/* Calls fn for every packed file of top: the file `top` itself, or those
   under top/. Stops at the first non-zero result. */
static int each_file(const kp_pack *pack, const char *top,
                     int (*fn)(const kp_pack *, const kp_entry *, void *),
                     void *arg)
{
    size_t len = strlen(top);
    char *prefix = xasprintf("%s/", top);
    long single = kp_find_file(pack, top, len);
    kp_entry e;
    int rc = 0;

    if (!prefix)
        return -1;
    if (single >= 0) {
        kp_file_at(pack, (uint32_t)single, &e);
        rc = fn(pack, &e, arg);
    }
    for (uint32_t i = kp_files_lower_bound(pack, prefix, len + 1);
         rc == 0 && i < pack->file_count; i++) {
        kp_file_at(pack, i, &e);
        if (e.path_len <= len || memcmp(e.path, prefix, len + 1) != 0)
            break;
        rc = fn(pack, &e, arg);
    }
    free(prefix);
    return rc;
}

static int hash_file(const kp_pack *pack, const kp_entry *e, void *arg)
{
    uint32_t meta[2] = {e->a.size, e->a.check};
    (void)pack;
    XXH3_64bits_update(arg, e->path, e->path_len + 1);
    XXH3_64bits_update(arg, meta, sizeof meta);
    return 0;
}

typedef struct {
    const char *root;
    char *err;
    size_t errlen;
} writer;

static int make_parents(char *path)
{
    for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        int rc = mkdir(path, 0700);
        *s = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

static int write_file(const kp_pack *pack, const kp_entry *e, void *arg)
{
    writer *w = arg;
    const uint8_t *bytes = kp_blob_bytes(pack, &e->a);
    char *path = xasprintf("%s/%s", w->root, e->path);
    /* The modes of an installed package: code that copies a file keeps
       its mode (venv's activate scripts). The cache folder, 0700, keeps
       them private. */
    mode_t mode = 0644;
    int fd = -1, rc = -1;

    if (!path) {
        snprintf(w->err, w->errlen, "out of memory");
        return -1;
    }
    if (kp_blob_verify(pack, &e->a) != 0) {
        snprintf(w->err, w->errlen, "the packed file %s is damaged "
                 "(checksum mismatch); rebuild or re-download the "
                 "executable", e->path);
        goto done;
    }
    /* Programs and libraries keep a mode that lets them run. */
    if (e->a.size >= 4 && (memcmp(bytes, "\177ELF", 4) == 0 ||
                           memcmp(bytes, "#!", 2) == 0))
        mode = 0755;
    if (make_parents(path) != 0 ||
        (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0 ||
        fd_write_full(fd, bytes, e->a.size) != 0) {
        snprintf(w->err, w->errlen, "cannot write %s: %s", path,
                 strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0 && close(fd) != 0 && rc == 0) {
        snprintf(w->err, w->errlen, "cannot write %s: %s", path,
                 strerror(errno));
        rc = -1;
    }
    free(path);
    return rc;
}

static int is_complete(const char *dir)
{
    struct stat st;
    char *stamp = xasprintf("%s/" STAMP, dir);
    int ok = stamp && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
             st.st_uid == geteuid() && !(st.st_mode & 022) &&
             access(stamp, F_OK) == 0;
    free(stamp);
    return ok;
}

/* Extracts into base/name through a temporary folder: 0, or -1 with err. */
static int extract_into(const kp_pack *pack, const char *top,
                        const char *base, const char *name, char *err,
                        size_t errlen)
{
    char *final = xasprintf("%s/%s", base, name);
    char *tmp = xasprintf("%s/.%s.XXXXXX", base, name), *stamp = NULL;
    writer w = {tmp, err, errlen};
    int fd, rc = -1;

    if (!final || !tmp) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (is_complete(final)) {
        rc = 0;
        goto done;
    }
    if (!mkdtemp(tmp)) {
        snprintf(err, errlen, "cannot create a folder in %s: %s", base,
                 strerror(errno));
        goto done;
    }
    if (each_file(pack, top, write_file, &w) != 0)
        goto cleanup;
    stamp = xasprintf("%s/" STAMP, tmp);
    fd = stamp ? open(stamp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)
               : -1;
    if (fd < 0 || close(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", stamp ? stamp : tmp,
                 strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, final) != 0) {
        /* Another process won the race, or a folder without its stamp (a
           crash, or tampering) is in the way: it is replaced. */
        if (!is_complete(final) &&
            (privdir_remove_tree(final) != 0 || rename(tmp, final) != 0)) {
            snprintf(err, errlen, "cannot move %s to %s: %s", tmp, final,
                     strerror(errno));
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    if (access(tmp, F_OK) == 0)
        privdir_remove_tree(tmp);
done:
    free(final);
    free(tmp);
    free(stamp);
    return rc;
}

/* A private folder in $TMPDIR, removed at exit; NULL with err. */
static char *temp_root(char *err, size_t errlen)
{
    const char *tmpdir = getenv("TMPDIR");

    if (!temp_dir) {
        temp_dir = xasprintf("%s/kiln-extract-XXXXXX",
                             tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp");
        if (!temp_dir || !mkdtemp(temp_dir)) {
            snprintf(err, errlen, "cannot create a temporary folder: %s",
                     strerror(errno));
            free(temp_dir);
            temp_dir = NULL;
            return NULL;
        }
    }
    return xasprintf("%s", temp_dir);
}

char *kiln_extract(const kp_pack *pack, const char *top, char **warning,
                   char *err, size_t errlen)
{
    XXH3_state_t st;
    char name[300], why[600];
    char *base = privdir_user_cache("extract"), *dir = NULL;

    *warning = NULL;
    if (strlen(top) > 200 || strchr(top, '/')) {
        snprintf(err, errlen, "bad package name to extract: %s", top);
        free(base);
        return NULL;
    }
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, EXTRACT_LAYOUT, sizeof EXTRACT_LAYOUT);
    each_file(pack, top, hash_file, &st);
    snprintf(name, sizeof name, "%s-%016llx", top,
             (unsigned long long)XXH3_64bits_digest(&st));
    if (!base)
        snprintf(why, sizeof why, "neither XDG_CACHE_HOME nor HOME is set");
    else if (privdir_make(base, why, sizeof why) == 0 &&
             extract_into(pack, top, base, name, why, sizeof why) == 0)
        goto found;
    *warning = xasprintf("cannot use the extract cache (%s); using a "
                         "private temporary folder instead", why);
    free(base);
    base = temp_root(err, errlen);
    if (!base || extract_into(pack, top, base, name, err, errlen) != 0)
        goto done;
found:
    dir = xasprintf("%s/%s", base, name);
    if (!dir)
        snprintf(err, errlen, "out of memory");
done:
    free(base);
    return dir;
}

void kiln_extract_cleanup(void)
{
    if (temp_dir)
        privdir_remove_tree(temp_dir);
    free(temp_dir);
    temp_dir = NULL;
}
