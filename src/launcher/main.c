/*
 * main.c - the kiln launcher. It finds the payload appended to its own
 * executable, maps it, checks it, and starts CPython hermetically with the
 * C importer in place before any module is imported. A launcher without a
 * payload serves `kiln build` as its CPython's compiler (compiler.c).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "children.h"
#include "compat.h"
#include "compiler.h"
#include "diag.h"
#include "importer.h"
#include "kpack.h"
#include "mpchild.h"
#include "opencode.h"
#include "paths.h"
#include "runapp.h"
#include "target.h" /* KILN_PY_MAGIC, generated at build time */

#define PY_MAJOR(hex) (((hex) >> 24) & 0xff)
#define PY_MINOR(hex) (((hex) >> 16) & 0xff)

/* Bytes of the ELF image as its section headers describe it: a longer file
   carries appended data. 0 when the file is not a 64-bit ELF. */
static uint64_t elf_image_size(int fd)
{
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64)
        return 0;
    return eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
}

static int bare_launcher(int fd, const char *exe, int argc, char **argv)
{
    struct stat st;
    uint64_t image = elf_image_size(fd);

    if (fstat(fd, &st) == 0 && image && (uint64_t)st.st_size > image)
        die("%s: the kiln payload trailer is missing: the file has "
            "%llu bytes after the launcher image, so it was "
            "truncated or damaged; rebuild or re-download it", exe,
            (unsigned long long)((uint64_t)st.st_size - image));
    if (image && (uint64_t)st.st_size < image)
        die("%s is truncated: %llu bytes, but its launcher image "
            "alone is %llu; rebuild or re-download it", exe,
            (unsigned long long)st.st_size,
            (unsigned long long)image);
    if (argc >= 2 && strcmp(argv[1], "--kiln-compile-server") == 0)
        return kiln_compile_server(exe);
    error("%s is kiln's launcher for CPython %d.%d and carries no app.\n"
          "Build one with: kiln build app.py -o app", exe,
          PY_MAJOR(PY_VERSION_HEX), PY_MINOR(PY_VERSION_HEX));
    return 2;
}

static void check_target(const kp_pack *pack, const char *exe)
{
    if (pack->py_magic == KILN_PY_MAGIC)
        return;
    die("%s was packed for CPython %u.%u (bytecode magic %u), but "
        "its launcher embeds CPython %d.%d (magic %u); rebuild it "
        "with a kiln that targets one Python",
        exe, PY_MAJOR(pack->py_version), PY_MINOR(pack->py_version),
        pack->py_magic & 0xffff, PY_MAJOR(PY_VERSION_HEX),
        PY_MINOR(PY_VERSION_HEX), KILN_PY_MAGIC & 0xffff);
}

/* sys.prefix and friends: the prefix kiln_prefix() gives, for the stdlib
   lives "inside" the executable, so frozen modules get __file__ under it
   too. */
static PyStatus set_paths(PyConfig *config, const char *exe,
                          const char *prefix, const char *base_executable)
{
    PyStatus status;
    struct {
        wchar_t **field;
        const char *value;
    } paths[] = {
        {&config->executable, exe},
        {&config->base_executable, base_executable},
#if KILN_HAVE_STDLIB_DIR
        {&config->stdlib_dir, exe},
#endif
        {&config->prefix, prefix},
        {&config->base_prefix, prefix},
        {&config->exec_prefix, prefix},
        {&config->base_exec_prefix, prefix},
    };

    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        status = PyConfig_SetBytesString(config, paths[i].field,
                                         paths[i].value);
        if (PyStatus_Exception(status))
            return status;
    }
    config->module_search_paths_set = 1;
    return PyStatus_Ok();
}

/* PYTHONPATH entries, honoured in interpreter mode as python3 does. */
static PyStatus add_pythonpath(PyConfig *config)
{
    wchar_t *env = config->pythonpath_env, *copy, *item, *save = NULL;
    PyStatus status = PyStatus_Ok();

    if (!env || !*env)
        return status;
    copy = wcsdup(env);
    if (!copy)
        return PyStatus_NoMemory();
    for (item = wcstok(copy, L":", &save); item; item = wcstok(NULL, L":", &save)) {
        status = PyWideStringList_Append(&config->module_search_paths, item);
        if (PyStatus_Exception(status))
            break;
    }
    free(copy);
    return status;
}

static PyStatus append_search_path(PyConfig *config, const char *path)
{
    wchar_t *path_w = NULL;
    PyStatus status = PyConfig_SetBytesString(config, &path_w, path);

    if (!PyStatus_Exception(status))
        status = PyWideStringList_Append(&config->module_search_paths,
                                         path_w);
    PyMem_RawFree(path_w);
    return status;
}

static int exit_by_sigint(void)
{
    signal(SIGINT, SIG_DFL);
    kill(getpid(), SIGINT);
    return 130;
}

static int run(const kp_pack *pack, const char *exe, int argc, char **argv)
{
    int interpreter = (pack->flags & KP_RUN_MASK) == KP_RUN_INTERPRETER;
    /* A child that the app started with its own executable, which proves
       it (child.c); the proof argument leaves argv. */
    kiln_child child = kiln_child_argv(pack, exe, &argc, &argv);
    kp_pack as_python;
    PyConfig config;
    PyStatus status;
    char *invoked, prefix[PATH_MAX], base_executable[PATH_MAX];
    char disk_stdlib[PATH_MAX] = "";
    int rc, interrupted, warn_default_encoding;

    kiln_children_init(pack, exe);
    if (child.role == KILN_CHILD_PYTHON) {
        /* --python-child: a kiln interpreter of the packed code. */
        as_python = kiln_child_python_pack(pack);
        pack = &as_python;
        interpreter = 1;
    }
    if (kiln_importer_register() != 0)
        die("cannot register the _kiln module");
    if (kiln_opencode_install() != 0)
        die("cannot install the io.open_code() hook");
    PyConfig_InitPythonConfig(&config);
    config._init_main = 0;
    config.pathconfig_warnings = 0;
    if (interpreter) {
        config.parse_argv = 1;
        /* An app running with more privileges than its user (setuid,
           file capabilities) ignores PYTHON* variables: its python
           children do too, as under -I. */
        config.isolated = child.role == KILN_CHILD_PYTHON &&
                          getauxval(AT_SECURE) != 0;
    } else {
        config.parse_argv = 0;
        config.isolated = 1;
        config.use_environment = 0;
        config.user_site_directory = 0;
        config.site_import = 0;
#if KILN_HAVE_STDLIB_DIR
        config.safe_path = 1; /* 3.10: isolated leaves out the script's folder */
#endif
        config.write_bytecode = 0;
        config.optimization_level = (int)pack->optimize;
        /* PYTHONUNBUFFERED is ignored, as every PYTHON* variable: -u is
           the builder's choice. */
        config.buffered_stdio = !(pack->flags & KP_UNBUFFERED);
    }
    status = interpreter ? PyConfig_SetBytesArgv(&config, argc, argv)
                         : kiln_child_config(&config, &child, argc, argv);
    if (PyStatus_Exception(status))
        goto fail;
    invoked = interpreter ? kiln_invoked_path(argc > 0 ? argv[0] : NULL)
                          : NULL;
    if (kiln_prefix(exe, interpreter ? (invoked ? invoked : exe) : NULL,
                    prefix, base_executable) != 0) {
        free(invoked);
        die("%s: the path of its folder is too long", exe);
    }
    status = set_paths(&config, exe, prefix, base_executable);
    if (!PyStatus_Exception(status) && interpreter) {
        status = PyConfig_Read(&config);
        if (!PyStatus_Exception(status))
            status = add_pythonpath(&config);
        if (!PyStatus_Exception(status) && invoked)
            status = PyConfig_SetBytesString(&config, &config.executable,
                                             invoked);
    }
    free(invoked);
    /* The packed modules' place on sys.path, as /usr/lib/python3.X's (an
       app imports through the meta-path importer; the entry serves pkgutil
       and importlib.metadata). */
    if (!PyStatus_Exception(status))
        status = append_search_path(&config, exe);
    /* After the packed stdlib, interpreter mode searches <prefix>/lib/
       python3.X, sysconfig's stdlib folder, for what kiln does not pack:
       CPython's test suite, say. As python3's stdlib folder, it stays on
       sys.path under -I and -E, so that child processes started with them
       import the same. */
    if (interpreter && kiln_disk_stdlib(prefix, disk_stdlib,
                                        sizeof disk_stdlib) != 0)
        disk_stdlib[0] = '\0'; /* a path too long to exist */
    if (!PyStatus_Exception(status) && disk_stdlib[0])
        status = append_search_path(&config, disk_stdlib);
    if (PyStatus_Exception(status))
        goto fail;
    warn_default_encoding = config.warn_default_encoding;
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status))
        goto fail;
    PyConfig_Clear(&config);
    /* CPython 3.11 reads the config again in Py_InitializeFromConfig(), and
       after PyConfig_Read() has parsed argv, that drops -X
       warn_default_encoding: set it back before sys.flags is made. */
    if (warn_default_encoding)
        ((PyConfig *)_PyInterpreterState_GetConfig(PyInterpreterState_Get()))
            ->warn_default_encoding = 1;

    if (kiln_importer_install(pack, exe,
                              disk_stdlib[0] ? disk_stdlib : NULL) < 0) {
        PyErr_Print();
        die("%s: cannot install the importer", exe);
    }
    status = _Py_InitializeMain();
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
    if (kiln_importer_finish(!interpreter) < 0) {
        PyErr_Print();
        die("%s: cannot finish the importer set-up", exe);
    }
    /* What site imported, in a python child (children.c). */
    if (kiln_children_wrap_loaded() < 0) {
        PyErr_Print();
        die("%s: cannot wrap the functions that start children", exe);
    }
    if (interpreter)
        return Py_RunMain();
    /* As Py_RunMain(): 120 when finalizing fails (a flush of stdout, say),
       and death by SIGINT after an unhandled KeyboardInterrupt. */
    rc = child.role == KILN_CHILD_MP ? kiln_mp_child_run(argv[child.at], exe)
                                     : kiln_run_app(pack);
    interrupted = rc < 0;
    if (Py_FinalizeEx() < 0)
        rc = 120;
    return interrupted ? exit_by_sigint() : rc;

fail:
    PyConfig_Clear(&config);
    if (PyStatus_IsExit(status))
        return status.exitcode;
    Py_ExitStatusException(status);
}

/* The executable's absolute path: /proc/self/exe, or without /proc the
   path the kernel was given (AT_EXECFN), made absolute. */
static int find_self(char exe[PATH_MAX])
{
    ssize_t n = readlink("/proc/self/exe", exe, PATH_MAX - 1);
    const char *execfn;

    if (n > 0) {
        exe[n] = '\0';
        return 0;
    }
    execfn = (const char *)getauxval(AT_EXECFN);
    if (execfn && realpath(execfn, exe))
        return 0;
    return -1;
}

int main(int argc, char **argv)
{
    char exe[PATH_MAX], err[KP_ERRLEN + PATH_MAX];
    kp_pack pack;
    void *map;
    size_t map_len;
    int fd;

    if (find_self(exe) != 0)
        die("cannot find this executable's path (/proc/self/exe: "
            "%s)", strerror(errno));
    /* /proc/self/exe is the running file even if its path was replaced
       since (by a rebuild, say); the path is only the fallback. */
    fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fd = open(exe, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_errno("cannot open %s", exe);
        return 1;
    }
    if (!kp_fd_has_trailer(fd)) {
        int rc = bare_launcher(fd, exe, argc, argv);
        close(fd);
        return rc;
    }
    if (kp_map_file(fd, exe, &pack, &map, &map_len, err, sizeof err) != 0)
        die("%s; rebuild or re-download the executable", err);
    close(fd);
    check_target(&pack, exe);
    return run(&pack, exe, argc, argv);
}
