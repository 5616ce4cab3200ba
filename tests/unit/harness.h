/*
 * harness.h - a tiny test harness shared by kiln's unit tests: CHECK macros
 * that print file:line and go on, and run_test(), which runs each case in a
 * child process so that a crash or a sanitizer report fails that case and
 * the others still run. Each test program includes it once.
 */
#ifndef KILN_HARNESS_H
#define KILN_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REPORTS 10 /* failed checks printed per test case */

static int tests_passed, tests_failed;
static int case_failures; /* failed checks in the running case */

static inline int check_at(int ok, const char *file, int line,
                           const char *fmt, ...)
{
    va_list ap;

    if (ok)
        return 1;
    if (case_failures < MAX_REPORTS) {
        fprintf(stderr, "%s:%d: check failed: ", file, line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    } else if (case_failures == MAX_REPORTS) {
        fprintf(stderr, "%s:%d: (further failures not shown)\n", file, line);
    }
    case_failures++;
    return 0;
}

static inline int check_eq(unsigned long long a, unsigned long long b,
                           const char *as, const char *bs,
                           const char *file, int line)
{
    return check_at(a == b, file, line, "%s == %s (0x%llx != 0x%llx)", as,
                    bs, a, b);
}

static inline int check_ieq(long long a, long long b, const char *as,
                            const char *bs, const char *file, int line)
{
    return check_at(a == b, file, line, "%s == %s (%lld != %lld)", as, bs, a,
                    b);
}

static inline int check_str(const char *a, const char *b, const char *as,
                            const char *bs, const char *file, int line)
{
    int ok = a && b && strcmp(a, b) == 0;
    return check_at(ok, file, line, "%s == %s (\"%s\" != \"%s\")", as, bs,
                    a ? a : "(null)", b ? b : "(null)");
}

#define CHECK(c) check_at((c) != 0, __FILE__, __LINE__, "%s", #c)
#define CHECK_MSG(c, ...) check_at((c) != 0, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ(a, b)                                                       \
    check_eq((unsigned long long)(a), (unsigned long long)(b), #a, #b,       \
             __FILE__, __LINE__)
#define CHECK_IEQ(a, b)                                                      \
    check_ieq((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) check_str((a), (b), #a, #b, __FILE__, __LINE__)
/* err holds a message containing needle. */
#define CHECK_ERR(err, needle)                                               \
    check_at(strstr((err), (needle)) != NULL, __FILE__, __LINE__,            \
             "error \"%s\" should mention \"%s\"", (err), (needle))

/* Runs a test case in a child process, so that a crash or a sanitizer
   report fails that case and the others still run. */
#define CHECKS_FAILED 3 /* exit status of a case with failed checks */

static inline void run_test(const char *name, void (*fn)(void))
{
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        case_failures = 0;
        fn();
        exit(case_failures ? CHECKS_FAILED : 0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        perror(name);
        tests_failed++;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        tests_passed++;
    } else {
        if (WIFSIGNALED(status))
            fprintf(stderr, "FAIL %s (killed by signal %d)\n", name,
                    WTERMSIG(status));
        else if (WEXITSTATUS(status) == CHECKS_FAILED)
            fprintf(stderr, "FAIL %s\n", name);
        else
            fprintf(stderr, "FAIL %s (crashed: exit status %d)\n", name,
                    WEXITSTATUS(status));
        tests_failed++;
    }
}

#endif
