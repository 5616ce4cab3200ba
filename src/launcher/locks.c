/*
 * locks.c - the launcher's process-wide locks (locks.h). fork() takes
 * them all first, so that a child never starts with one that a thread it
 * does not have was holding, nor with the state it guards half-changed.
 */
#include "locks.h"

#include <pthread.h>

static pthread_mutex_t locks[KILN_LOCKS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* All of them, in order, before fork(); released after it, on both
   sides. */
static void lock_all(void)
{
    for (int i = 0; i < KILN_LOCKS; i++)
        pthread_mutex_lock(&locks[i]);
}

static void unlock_all(void)
{
    for (int i = KILN_LOCKS - 1; i >= 0; i--)
        pthread_mutex_unlock(&locks[i]);
}

static void init_locks(void)
{
    for (int i = 0; i < KILN_LOCKS; i++)
        pthread_mutex_init(&locks[i], NULL);
    pthread_atfork(lock_all, unlock_all, unlock_all);
}

void kiln_lock(kiln_lock_id id)
{
    pthread_once(&once, init_locks);
    pthread_mutex_lock(&locks[id]);
}

void kiln_unlock(kiln_lock_id id)
{
    pthread_mutex_unlock(&locks[id]);
}
