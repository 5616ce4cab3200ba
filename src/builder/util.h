/*
 * util.h - small helpers of the kiln command: memory, growable arrays
 * and files; messages come from diag.h.
 */
#ifndef KILN_UTIL_H
#define KILN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "diag.h" /* error(), warning(), error_errno() */

/* Allocation that ends the process with a message when memory runs out. */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* s[0:len) shown as `ls -b` does (kp_escape), malloc'd: for names read
   from a payload or an ELF image. */
char *xescaped(const char *s, size_t len);
char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable array of pointers. */
typedef struct {
    void **v;
    size_t n, cap;
} vec;
void vec_push(vec *a, void *item);
void vec_free(vec *a, void (*free_item)(void *));

/* Which file the build collected at a path: its device and inode, and
   whether the path named it with no symlink at its end (it is then opened
   with O_NOFOLLOW). known is 0 for a file recorded nowhere. */
typedef struct {
    dev_t dev;
    ino_t ino;
    int direct;
    int known;
} file_id;

/* The file_id of the file st, seen at a path that was a symlink (link) or
   not. */
file_id file_id_of(const struct stat *st, int link);
/* Opens the file path to read it (close-on-exec), with its stat in *st:
   never blocking (a FIFO is refused, not waited for), and, when id is
   known, not following a symlink where the walk saw none. -1, after an
   error naming path, when it is not a regular file or, with id, not the
   file that was collected ("changed since it was collected"). */
int open_collected(const char *path, const file_id *id, struct stat *st);
/* Reads a whole file; -1 with an error message naming the path. */
int read_file(const char *path, uint8_t **out, size_t *len);
/* read_file() of the file collected as id (see open_collected()). */
int read_collected(const char *path, const file_id *id, uint8_t **out,
                   size_t *len);
/* Is the real path real inside the real folder root (or root itself)? */
int is_inside(const char *real, const char *root);
/* 1, after a warning naming path and where it leads, when path resolves
   (through a symlink: it is one, or a folder on its path is) to a place
   outside the folder root; 0 when it stays inside, or does not resolve,
   or is a symlink the system installed (root's, into /usr, through
   folders only root can change). */
int leaves_root(const char *path, const char *root);
/* Directory part of a path ("." when it has none). */
char *dir_name(const char *path);
const char *base_name(const char *path);
int ends_with(const char *s, const char *suffix);
/* Is s a valid Python identifier (ASCII subset checked, other bytes
   accepted as the Unicode letters Python allows)? */
int is_identifier(const char *s, size_t len);
double now_seconds(void);

#endif
