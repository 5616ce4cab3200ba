/*
 * privdir.h - private per-user folders: kiln's caches live in folders that
 * only their owner can write, below folders that no other user can change,
 * and are used through a held descriptor, so nothing is resolved twice.
 * Shared by the kiln command and the launcher.
 */
#ifndef KILN_PRIVDIR_H
#define KILN_PRIVDIR_H

#include <stddef.h>

/* Missing folders are made, mode 0700. */
#define PRIVDIR_CREATE 1
/* The folder itself must be owned by this user and writable by no one
   else (without it, it is checked as the folders above it are). */
#define PRIVDIR_PRIVATE 2

/* Opens the folder path (absolute or relative): walked as given, down from
   "/" one component at a time (O_NOFOLLOW), each checked on its
   descriptor: every folder above must be owned by root or this user and
   not writable by group or others unless sticky (/tmp). A symlink on the
   way is followed only when it is owned by root or this user (the folder
   that holds it passed the checks), and its target is walked with the same
   checks; at most 40 of them. Returns a descriptor of the folder (O_RDONLY
   | O_DIRECTORY, close-on-exec) and, in *real, its path with no symlink in
   it (malloc'd); or -1 with the reason, naming the folder, in why. */
int privdir_open(const char *path, int flags, char **real, char *why,
                 size_t whylen);

/* The user's cache folder for sub: $XDG_CACHE_HOME/kiln/sub, else
   $HOME/.cache/kiln/sub, else the same in the user's home folder from the
   password database (not created). 0 and *path (malloc'd); -1 and why
   when there is none; 1 and why when that folder
   (XDG_CACHE_HOME, or HOME) exists but belongs to another user, as when
   root runs with a user's environment (sudo -E): kiln makes no cache in
   someone else's home, and nothing is wrong. */
int privdir_user_cache(const char *sub, char **path, char *why,
                       size_t whylen);

/* Removes name under the folder dirfd: a file, or a folder and everything
   under it (read-only folders are made writable first), never following
   symlinks. Async-signal-safe (openat, fchmod, getdents64, unlinkat; no
   malloc). 0, or -1 with errno. */
int privdir_remove_at(int dirfd, const char *name);

/* The inode of this process's pid namespace (0 if unknown): a pid recorded
   in a name means something only in the same namespace. */
unsigned long long privdir_pid_ns(void);

#endif
