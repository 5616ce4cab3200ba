/*
 * child.c - what a process running a kiln app's executable is for. It is
 * the app, with its argv as given, unless it proves that the app itself
 * started it (childproof.c: a descriptor named by --kiln-child-proof=FD
 * right after argv[0], which children.c passes to every child that the app
 * starts with its own executable). A proven child's argv, the proof
 * argument taken out, says what it runs:
 *   exe FLAGS... -c "from multiprocessing.M ..."   multiprocessing's child
 *   exe FLAGS... APP ARGS...                        the app again, as
 *   exe FLAGS... -m MAIN ARGS...                    [sys.executable] +
 *                                                   sys.argv runs it
 *   exe ANYTHING ELSE     with --python-child: a kiln interpreter of the
 *                         packed code; without: the app, with those args
 * FLAGS are interpreter flags, as subprocess._args_from_interpreter_flags()
 * writes them; APP is a path to this very file, MAIN the app's main module.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "child.h"
#include "childproof.h"
#include "diag.h"
#include "mpchild.h"

#define CODE_PREFIX "from multiprocessing."
/* The flags kiln_child_flags() takes, besides -W and -X. */
#define FLAGS "bBdEIOPqsSuv"

/* Appends an option value to a PyConfig list of wide strings. */
static PyStatus append_option(PyConfig *config, PyWideStringList *list,
                              const char *value)
{
    wchar_t *wide = NULL;
    PyStatus status = PyConfig_SetBytesString(config, &wide, value);

    if (!PyStatus_Exception(status))
        status = PyWideStringList_Append(list, wide);
    PyMem_RawFree(wide);
    return status;
}

int kiln_child_flags(int argc, char **argv, PyConfig *config,
                     PyStatus *status)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (arg[0] != '-' || !arg[1] || !strchr(FLAGS "WX", arg[1]))
            return i;
        for (const char *p = arg + 1; *p; p++) {
            if (*p == 'W' || *p == 'X') {
                const char *value = p[1] ? p + 1
                                    : i + 1 < argc ? argv[++i]
                                                   : "";
                if (!*value)
                    return -1;
                if (!config)
                    break;
                *status = append_option(config,
                                        *p == 'W' ? &config->warnoptions
                                                  : &config->xoptions,
                                        value);
                if (PyStatus_Exception(*status))
                    return -1;
                break;
            }
            if (!strchr(FLAGS, *p))
                return -1;
            if (!config)
                continue;
            config->optimization_level += *p == 'O';
            config->bytes_warning += *p == 'b';
            config->parser_debug += *p == 'd';
            config->verbose += *p == 'v';
            config->quiet |= *p == 'q';
            if (*p == 'u')
                config->buffered_stdio = 0;
        }
    }
    return argc;
}

/* Whether name runs the app's main module as python -m does: a module
   app's main, or the package whose __main__ it is (or the reverse). */
static int is_main_module(const kp_pack *pack, const char *name)
{
    static const char suffix[] = ".__main__";
    const char *main = pack->main_name;
    size_t n = strlen(name), m = strlen(main), s = strlen(suffix);

    if ((pack->flags & KP_RUN_MASK) != KP_RUN_MODULE || !n)
        return 0;
    return strcmp(name, main) == 0 ||
           (m == n + s && strncmp(main, name, n) == 0 &&
            strcmp(main + n, suffix) == 0) ||
           (n == m + s && strncmp(name, main, m) == 0 &&
            strcmp(name + m, suffix) == 0);
}

/* Whether path names the file self (by device and inode). */
static int names_file(const char *path, const struct stat *self)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           st.st_dev == self->st_dev && st.st_ino == self->st_ino;
}

/* python's command line, roughly: -c, -m, -, a .py script, its flags. */
static int python_like(int argc, char **argv)
{
    const char *a = argc > 1 ? argv[1] : "";
    size_t n = strlen(a);

    if (strcmp(a, "-") == 0 || strcmp(a, "--version") == 0 ||
        strcmp(a, "--help") == 0 || (n > 3 && strcmp(a + n - 3, ".py") == 0))
        return 1;
    if (a[0] != '-' || !a[1])
        return 0;
    if (a[1] == 'W' || a[1] == 'X')
        return 1;
    return strspn(a + 1, "bBcdEhiImOPqRsSuvVx") == n - 1;
}

void kiln_child_classify(const kp_pack *pack, const struct stat *self,
                         int argc, char **argv, kiln_child *out)
{
    int i = kiln_child_flags(argc, argv, NULL, NULL);

    out->role = KILN_CHILD_APP;
    out->at = 0;
    out->python_like = python_like(argc, argv);
    if (i > 0 && i + 1 < argc && strcmp(argv[i], "-c") == 0 &&
        strncmp(argv[i + 1], CODE_PREFIX, strlen(CODE_PREFIX)) == 0) {
        out->role = KILN_CHILD_MP;
        out->at = i + 1;
    } else if (i > 0 && i < argc &&
               ((argv[i][0] != '-' && names_file(argv[i], self)) ||
                (strcmp(argv[i], "-m") == 0 && i + 1 < argc &&
                 is_main_module(pack, argv[i + 1])))) {
        out->role = KILN_CHILD_RERUN;
        out->at = i;
    } else if (pack->flags & KP_PYTHON_CHILD) {
        out->role = KILN_CHILD_PYTHON;
    }
}

/* What the hint names, kept for the exit handler. */
static struct {
    pid_t pid;
    char exe[PATH_MAX];
    char arg[KP_SHOWN];
} hint;

/* on_exit() handler: the status is there, whichever way the process exits
   (SystemExit makes PyErr_Print() exit). Not in a forked child. */
static void print_hint(int status, void *unused)
{
    (void)unused;
    if (status != 0 && getpid() == hint.pid)
        fprintf(stderr, "kiln: hint: the app started %s as a Python (%s "
                "...), but it runs the app itself; build the app with "
                "--python-child to make such a child a Python interpreter "
                "of the packed code\n", hint.exe, hint.arg);
}

/* For an APP child with python-like argv: the hint at exit, when the
   status is not 0. */
static void hint_at_exit(const char *exe, const char *arg)
{
    snprintf(hint.exe, sizeof hint.exe, "%s", exe);
    kp_escape(arg, strlen(arg), hint.arg, sizeof hint.arg);
    hint.pid = getpid();
    on_exit(print_hint, NULL);
}

/* The descriptor number of a proof argument's value, or -1. */
static int proof_fd(const char *digits)
{
    long fd = 0;

    if (!*digits)
        return -1;
    for (const char *p = digits; *p; p++) {
        if (*p < '0' || *p > '9' || fd > (INT_MAX - 9) / 10)
            return -1;
        fd = fd * 10 + (*p - '0');
    }
    return (int)fd;
}

kiln_child kiln_child_argv(const kp_pack *pack, const char *exe, int *argc,
                           char ***argv)
{
    static const kiln_child none = {KILN_CHILD_NONE, 0, 0};
    const size_t len = strlen(KILN_CHILD_PROOF_ARG);
    char **v = *argv, why[512], shown[KP_SHOWN];
    const char *claim;
    kiln_child child;
    struct stat self;
    int fd;

    if ((pack->flags & KP_RUN_MASK) == KP_RUN_INTERPRETER || *argc < 2 ||
        strncmp(v[1], KILN_CHILD_PROOF_ARG, len) != 0)
        return none;
    if (stat("/proc/self/exe", &self) != 0 && stat(exe, &self) != 0)
        return none;
    /* What the child runs is read on argv without the proof argument. */
    kiln_child_classify(pack, &self, *argc - 1, v + 1, &child);
    fd = proof_fd(v[1] + len);
    if (fd < 0) {
        snprintf(why, sizeof why, "%s is not a descriptor number",
                 kp_escape(v[1], strlen(v[1]), shown, sizeof shown));
    } else if (kiln_child_proof_check(fd, why, sizeof why) == 0) {
        close(fd);
        v[1] = v[0];
        *argv = v + 1;
        *argc -= 1;
        if (child.role == KILN_CHILD_APP && child.python_like)
            hint_at_exit(exe, v[2]);
        return child;
    }
    /* A failed proof before argv that means the same either way (the
       app's own arguments) is the app's business: no warning. */
    claim = child.role == KILN_CHILD_MP
                ? "a multiprocessing child's command line"
            : child.role == KILN_CHILD_RERUN
                ? "the command line of a child that runs the app again"
            : child.role == KILN_CHILD_PYTHON
                ? "the command line of a python child (--python-child)"
                : NULL;
    if (claim)
        warning("%s has %s, but no proof that the app itself started it "
                "(%s); it runs as the app, with its arguments as given", exe,
                claim, why);
    return none;
}

/* The path this executable was started by, as the kernel was given it:
   python3 gives a script's sys.argv[0] the same. */
static const char *started_by(const char *argv0)
{
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    return execfn && *execfn ? execfn : argv0;
}

PyStatus kiln_child_config(PyConfig *config, const kiln_child *child,
                           int argc, char **argv)
{
    PyStatus status;
    char **args;
    int n, base = config->optimization_level;

    if (child->role == KILN_CHILD_MP)
        return kiln_mp_child_config(config, argc, argv, child->at);
    status = PyConfig_SetBytesArgv(config, argc, argv);
    for (Py_ssize_t i = 0;
         !PyStatus_Exception(status) && i < config->argv.length; i++)
        status = PyWideStringList_Append(&config->orig_argv,
                                         config->argv.items[i]);
    if (PyStatus_Exception(status) || argc < 1)
        return status;
    args = malloc((size_t)argc * sizeof *args);
    if (!args)
        return PyStatus_NoMemory();
    if (child->role == KILN_CHILD_RERUN && argv[child->at][0] != '-') {
        /* [sys.executable, FLAGS..., APP, ARGS...]: the parent's sys.argv
           is [APP, ARGS...] */
        n = argc - child->at;
        memcpy(args, argv + child->at, (size_t)n * sizeof *args);
    } else {
        /* -m MAIN ARGS... or ARGS...: after the path the app was started
           by, as for the app itself */
        int from = child->role == KILN_CHILD_RERUN ? child->at + 2 : 1;
        n = 1 + argc - from;
        args[0] = (char *)started_by(argv[0]);
        memcpy(args + 1, argv + from, (size_t)(n - 1) * sizeof *args);
    }
    status = PyConfig_SetBytesArgv(config, n, args);
    free(args);
    if (PyStatus_Exception(status) || child->role != KILN_CHILD_RERUN)
        return status;
    /* The level is the payload's, unless the flags ask for more. */
    config->optimization_level = 0;
    kiln_child_flags(child->at, argv, config, &status);
    if (config->optimization_level < base)
        config->optimization_level = base;
    return status;
}

kp_pack kiln_child_python_pack(const kp_pack *pack)
{
    kp_pack p = *pack;

    p.flags = (p.flags & ~(uint32_t)KP_RUN_MASK) | KP_RUN_INTERPRETER;
    p.main_name = "";
    return p;
}

