/*
 * entries.c - what the launcher makes of packed entries (see entries.h).
 * kp_open() has checked every name: paths are relative, their parts are
 * neither empty, "." nor "..", so what is joined here stays inside its root.
 */
#include "entries.h"

#include <string.h>

size_t ke_top_len(const char *path, size_t len)
{
    const char *slash = memchr(path, '/', len);
    return slash ? (size_t)(slash - path) : len;
}

size_t ke_folder_len(const char *path, size_t len)
{
    while (len > 0 && path[len - 1] != '/')
        len--;
    return len > 0 ? len - 1 : 0;
}

size_t ke_package_dir_len(const kp_entry *e)
{
    return e->flags & KP_MOD_NAMESPACE ? e->path_len
                                       : ke_folder_len(e->path, e->path_len);
}

size_t ke_location_len(const kp_entry *e)
{
    size_t own = e->flags & (KP_MOD_PACKAGE | KP_MOD_NAMESPACE)
                     ? ke_package_dir_len(e)
                     : e->path_len;
    return ke_folder_len(e->path, own);
}

int ke_in_top(const kp_entry *f, const char *top, size_t len)
{
    if (f->path_len < len || memcmp(f->path, top, len) != 0)
        return 0;
    return f->path_len == len || f->path[len] == '/';
}

int ke_join(char *out, size_t outlen, const char *root, const char *rel,
            size_t len)
{
    size_t rlen = strlen(root), need = rlen + (len ? len + 1 : 0) + 1;

    if (need > outlen)
        return -1;
    memcpy(out, root, rlen);
    if (len) {
        out[rlen] = '/';
        memcpy(out + rlen + 1, rel, len);
    }
    out[need - 1] = '\0';
    return 0;
}

const char *ke_preload_next(const char **pos, const char *end, size_t *len)
{
    const char *item = *pos, *nl;

    if (item >= end)
        return NULL;
    nl = memchr(item, '\n', (size_t)(end - item));
    *len = nl ? (size_t)(nl - item) : (size_t)(end - item);
    *pos = nl ? nl + 1 : end;
    return item;
}

int ke_main_entry(const kp_pack *p, kp_entry *e)
{
    long i;

    if ((p->flags & KP_RUN_MASK) == KP_RUN_INTERPRETER)
        return -1;
    i = kp_find_module(p, p->main_name, strlen(p->main_name));
    if (i < 0)
        return -1;
    kp_module_at(p, (uint32_t)i, e);
    return 0;
}
