/*
 * privdir.h - private per-user folders: kiln's caches live in folders that
 * only their owner can write, and a folder another user can write is never
 * trusted. Shared by the kiln command and the launcher.
 */
#ifndef KILN_PRIVDIR_H
#define KILN_PRIVDIR_H

#include <stddef.h>

/* Creates path and its missing parents (mode 0700) and checks that it is a
   folder owned by this user that no one else can write. 0, or -1 with the
   reason in why. */
int privdir_make(const char *path, char *why, size_t whylen);
/* $XDG_CACHE_HOME/kiln/sub, else $HOME/.cache/kiln/sub (not created), in a
   malloc'd string; NULL when neither variable holds an absolute path. */
char *privdir_user_cache(const char *sub);
/* Removes path and everything under it; 0 or -1. */
int privdir_remove_tree(const char *path);

#endif
