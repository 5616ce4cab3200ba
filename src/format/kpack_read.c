/*
 * kpack_read.c - the reader of the kiln packed-resources format, and the
 * trailer that finds a payload inside an executable.
 *
 * Reading follows Lua's lundump.c: every count, offset and length is checked
 * against the bytes that are really there before it is used, and all checks
 * happen once, in kp_open(), so that lookups afterwards need none. Names
 * are checked too: a packed path joined to a folder stays inside it, and
 * the module an app runs is there. Names quoted in messages are escaped.
 */
#include "kpack.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpack_layout.h"

/* The launcher checks every blob it uses: with AVX2 that takes a third of
   SSE2's instructions (SSE2: 1.5 % of a whole-stdlib import). */
uint64_t kp_xxh3(const void *buf, size_t len)
{
#if KP_HAVE_AVX2_BUILD
    if (__builtin_cpu_supports("avx2"))
        return kp_xxh3_avx2(buf, len);
#endif
    return XXH3_64bits(buf, len);
}

void kp_xxh3_update(XXH3_state_t *st, const void *buf, size_t len)
{
#if KP_HAVE_AVX2_BUILD
    if (__builtin_cpu_supports("avx2")) {
        kp_xxh3_update_avx2(st, buf, len);
        return;
    }
#endif
    XXH3_64bits_update(st, buf, len);
}

uint32_t kp_checksum32(const void *buf, size_t len)
{
    return (uint32_t)kp_xxh3(buf, len);
}

static void decode_entry(const kp_pack *p, const uint8_t *e, kp_entry *out)
{
    out->name = (const char *)p->strings + get32(e + E_NAME_OFF);
    out->name_len = get32(e + E_NAME_LEN);
    out->path = (const char *)p->strings + get32(e + E_PATH_OFF);
    out->path_len = get32(e + E_PATH_LEN);
    out->flags = get32(e + E_FLAGS);
    out->a.offset = get64(e + E_A_OFF);
    out->a.size = get32(e + E_A_SIZE);
    out->a.check = get32(e + E_A_CHECK);
    out->b.offset = get64(e + E_B_OFF);
    out->b.size = get32(e + E_B_SIZE);
    out->b.check = get32(e + E_B_CHECK);
}

/* A string reference must lie inside the string section, end with NUL and
   hold no NUL of its own. */
static int check_string(const kp_pack *p, uint32_t off, uint32_t len)
{
    if (!in_bounds(off, (uint64_t)len + 1, p->strings_size))
        return -1;
    if (p->strings[(size_t)off + len] != 0 || memchr(p->strings + off, 0, len))
        return -1;
    return 0;
}

/* ---- names ------------------------------------------------------------ */

/* Length of the UTF-8 sequence at s (at most n bytes) when it is a
   well-formed, printable character; 0 for a byte to escape: malformed or
   overlong UTF-8, surrogates, C1 controls (U+009B is a terminal's CSI),
   and what moves or hides text (bidirectional controls, U+2028/U+2029). */
static size_t printable_utf8(const uint8_t *s, size_t n)
{
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    uint32_t c;

    if (len == 0 || s[0] > 0xf4 || len > n)
        return 0;
    c = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
        (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0; /* overlong, out of range or a surrogate */
    if (c <= 0x9f || c == 0x200e || c == 0x200f ||
        (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
        return 0;
    return len;
}

/* The escape of the byte or character at s into piece (room for 5); the
   number of bytes of s it stands for. */
static size_t escape_one(const uint8_t *s, size_t n, char *piece,
                         size_t *piece_len)
{
    static const char letters[] = "abtnvfr"; /* \a (7) to \r (13) */
    size_t len;

    if (*s == '\\' || (*s >= '\a' && *s <= '\r')) {
        piece[0] = '\\';
        piece[1] = *s == '\\' ? '\\' : letters[*s - '\a'];
        *piece_len = 2;
        return 1;
    }
    if (*s >= 0x20 && *s < 0x7f) {
        piece[0] = (char)*s;
        *piece_len = 1;
        return 1;
    }
    len = *s >= 0x80 ? printable_utf8(s, n) : 0;
    if (len) {
        memcpy(piece, s, len);
        *piece_len = len;
        return len;
    }
    snprintf(piece, 5, "\\%03o", *s);
    *piece_len = 4;
    return 1;
}

char *kp_escape(const char *s, size_t len, char *out, size_t outlen)
{
    const uint8_t *u = (const uint8_t *)s;
    char piece[5];
    size_t total = 0, o = 0, n;

    if (outlen == 0)
        return out;
    /* Measured first: all of it fits, or it is cut before "...". */
    for (size_t i = 0; i < len;) {
        i += escape_one(u + i, len - i, piece, &n);
        total += n;
    }
    for (size_t i = 0; i < len;) {
        size_t used = escape_one(u + i, len - i, piece, &n);
        if (total >= outlen && o + n + 4 > outlen) {
            if (o + 4 <= outlen)
                memcpy(out + o, "...", 3), o += 3;
            break;
        }
        memcpy(out + o, piece, n);
        o += n;
        i += used;
    }
    out[o] = '\0';
    return out;
}

char *kp_escaped(const char *s, size_t len)
{
    size_t size = len * 4 + 1; /* each byte at most \ooo */
    char *out = len < SIZE_MAX / 4 ? malloc(size) : NULL;

    return out ? kp_escape(s, len, out, size) : NULL;
}

/* Is s[0:n) the path part "." or ".."? */
static int is_dot_part(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* The first part of s[0:len), split at sep, that bad() names a problem
   of (bad gets NULL for an empty part); NULL when none. */
static const char *part_problem(const char *s, size_t len, char sep,
                                const char *(*bad)(const char *, size_t))
{
    for (size_t start = 0; start <= len;) {
        const char *end = memchr(s + start, sep, len - start);
        size_t n = end ? (size_t)(end - s) - start : len - start;
        const char *problem = bad(n ? s + start : NULL, n);

        if (problem)
            return problem;
        start += n + 1;
    }
    return NULL;
}

static const char *path_part_problem(const char *part, size_t n)
{
    if (!part)
        return "has an empty part ('//' or a '/' at its end)";
    if (is_dot_part(part, n))
        return n == 1 ? "has a '.' part" : "has a '..' part";
    return NULL;
}

static const char *name_part_problem(const char *part, size_t n)
{
    (void)n;
    return part ? NULL : "has an empty dotted part";
}

const char *kp_path_problem(const char *path, size_t len)
{
    if (len == 0)
        return "is empty";
    if (path[0] == '/')
        return "is absolute (starts with '/')";
    return part_problem(path, len, '/', path_part_problem);
}

const char *kp_module_name_problem(const char *name, size_t len)
{
    if (len == 0)
        return "is empty";
    if (memchr(name, '/', len))
        return "holds a '/'";
    return part_problem(name, len, '.', name_part_problem);
}

/* ---- kp_open ------------------------------------------------------------ */

/* A name quoted in a message, escaped into buf only when there is one: the
   checks of a good payload escape nothing. */
#define SHOW(s, len, buf) kp_escape((s), (len), (buf), sizeof(buf))

static int compare_keys(const char *a, size_t alen, const char *b,
                        size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* A name must be one the launcher can use: a module name of dotted parts,
   and a path that stays inside the folder it is joined to (the extract
   cache writes <cache>/<top>-<hash>/<path>). A file's path is its name. */
static int check_names(const kp_entry *e, int is_file, const char *what,
                       uint32_t i, char *err, size_t errlen)
{
    int same = e->path_len == e->name_len &&
               memcmp(e->path, e->name, e->name_len) == 0;
    const char *name_problem = is_file
                                   ? kp_path_problem(e->name, e->name_len)
                                   : kp_module_name_problem(e->name,
                                                            e->name_len);
    const char *path_problem = is_file && same
                                   ? name_problem
                                   : kp_path_problem(e->path, e->path_len);
    char name[KP_SHOWN], path[KP_SHOWN];

    if (name_problem)
        return fail(err, errlen, "%s entry %u: the name '%s' %s: refused, "
                    "as the payload is damaged or forged", what, i,
                    SHOW(e->name, e->name_len, name), name_problem);
    if (path_problem)
        return fail(err, errlen, "%s entry %u ('%s'): its path '%s' %s: "
                    "refused, as it could lead outside the folder it is "
                    "joined to", what, i, SHOW(e->name, e->name_len, name),
                    SHOW(e->path, e->path_len, path), path_problem);
    if (is_file && !same)
        return fail(err, errlen, "%s entry %u ('%s'): its path '%s' is not "
                    "its name", what, i, SHOW(e->name, e->name_len, name),
                    SHOW(e->path, e->path_len, path));
    return 0;
}

static int check_table(const kp_pack *p, const uint8_t *table, uint32_t count,
                       const char *what, char *err, size_t errlen)
{
    kp_entry prev = {0}, e;
    char name[KP_SHOWN];

    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *raw = table + (size_t)i * KP_ENTRY_SIZE;
        uint32_t name_off = get32(raw + E_NAME_OFF);
        uint32_t path_off = get32(raw + E_PATH_OFF);

        if (check_string(p, name_off, get32(raw + E_NAME_LEN)) ||
            check_string(p, path_off, get32(raw + E_PATH_LEN)))
            return fail(err, errlen, "%s entry %u: name outside the string "
                        "section", what, i);
        if (get32(raw + E_RESERVED0) || get64(raw + E_RESERVED1))
            return fail(err, errlen, "%s entry %u: reserved field set", what,
                        i);
        decode_entry(p, raw, &e);
        if (e.flags & ~(uint32_t)KP_MOD_ALL)
            return fail(err, errlen, "%s entry %u (%s): unknown flags 0x%x",
                        what, i, SHOW(e.name, e.name_len, name), e.flags);
        if (flags_problem(e.flags, table == p->files))
            return fail(err, errlen, "%s entry %u (%s): flags 0x%x make %s: "
                        "refused, as the payload is damaged or forged", what,
                        i, SHOW(e.name, e.name_len, name), e.flags,
                        flags_problem(e.flags, table == p->files));
        if (!in_bounds(e.a.offset, e.a.size, p->data_size) ||
            !in_bounds(e.b.offset, e.b.size, p->data_size))
            return fail(err, errlen, "%s entry %u (%s): data outside the data "
                        "section", what, i, SHOW(e.name, e.name_len, name));
        if (e.name_len == 0)
            return fail(err, errlen, "%s entry %u: empty name", what, i);
        if (check_names(&e, table == p->files, what, i, err, errlen))
            return -1;
        if (i > 0 && compare_keys(prev.name, prev.name_len, e.name,
                                  e.name_len) >= 0)
            return fail(err, errlen, "%s entry %u (%s): index not sorted",
                        what, i, SHOW(e.name, e.name_len, name));
        prev = e;
    }
    return 0;
}

/* The module an app runs must be packed: a script (run as __main__ from
   its code object) needs bytecode or source, a module (run by runpy) its
   entry. An interpreter runs no main module, so it names none. */
static int check_main(const kp_pack *p, uint32_t main_len, char *err,
                      size_t errlen)
{
    uint32_t run = p->flags & KP_RUN_MASK;
    const char *problem;
    char name[KP_SHOWN];
    long i;
    kp_entry e;

    if (run == KP_RUN_INTERPRETER)
        return main_len == 0 ? 0 : fail(err, errlen, "an interpreter "
                                        "payload names a main module "
                                        "('%s')", SHOW(p->main_name,
                                                       main_len, name));
    problem = kp_module_name_problem(p->main_name, main_len);
    if (problem)
        return fail(err, errlen, "the main module name '%s' %s",
                    SHOW(p->main_name, main_len, name), problem);
    i = kp_find_module(p, p->main_name, main_len);
    if (i < 0)
        return fail(err, errlen, "the main module '%s' is not among the %u "
                    "packed modules", SHOW(p->main_name, main_len, name),
                    p->module_count);
    kp_module_at(p, (uint32_t)i, &e);
    if (run == KP_RUN_SCRIPT && !(e.flags & (KP_MOD_CODE | KP_MOD_SOURCE)))
        return fail(err, errlen, "the script's main module '%s' (module "
                    "entry %ld) has neither bytecode nor source to run",
                    SHOW(p->main_name, main_len, name), i);
    return 0;
}

int kp_open(kp_pack *p, const void *buf, size_t len, char *err, size_t errlen)
{
    const uint8_t *b = buf;
    uint64_t modules_off, files_off, strings_off, data_off, table_bytes;
    uint32_t version, main_off, main_len;

    memset(p, 0, sizeof *p);
    if (len < KP_HEADER_SIZE)
        return fail(err, errlen, "payload is %zu bytes, shorter than its "
                    "%d-byte header", len, KP_HEADER_SIZE);
    if (memcmp(b + H_MAGIC, KP_MAGIC, 8) != 0)
        return fail(err, errlen, "bad payload magic at offset 0");
    version = get32(b + H_VERSION);
    if (version != KP_FORMAT_VERSION)
        return fail(err, errlen, "payload format version %u, this kiln reads "
                    "version %d", version, KP_FORMAT_VERSION);
    if (get32(b + H_HEADER_SIZE) != KP_HEADER_SIZE)
        return fail(err, errlen, "header size %u, expected %d",
                    get32(b + H_HEADER_SIZE), KP_HEADER_SIZE);
    for (int i = H_RESERVED; i < KP_HEADER_SIZE; i++)
        if (b[i])
            return fail(err, errlen, "reserved header byte %d is set", i);

    p->base = b;
    p->size = len;
    p->launcher_check = get64(b + H_LAUNCHER_CHECK);
    p->py_magic = get32(b + H_PY_MAGIC);
    p->py_version = get32(b + H_PY_VERSION);
    p->flags = get32(b + H_FLAGS);
    p->optimize = get32(b + H_OPTIMIZE);
    p->module_count = get32(b + H_MODULE_COUNT);
    p->file_count = get32(b + H_FILE_COUNT);
    modules_off = get64(b + H_MODULES_OFF);
    files_off = get64(b + H_FILES_OFF);
    strings_off = get64(b + H_STRINGS_OFF);
    p->strings_size = get64(b + H_STRINGS_SIZE);
    data_off = get64(b + H_DATA_OFF);
    p->data_size = get64(b + H_DATA_SIZE);
    main_off = get32(b + H_MAIN_OFF);
    main_len = get32(b + H_MAIN_LEN);

    table_bytes = (uint64_t)p->module_count * KP_ENTRY_SIZE;
    if (modules_off < KP_HEADER_SIZE || !in_bounds(modules_off, table_bytes, len))
        return fail(err, errlen, "module table (offset %llu, %u entries) "
                    "lies outside the %zu-byte payload",
                    (unsigned long long)modules_off, p->module_count, len);
    table_bytes = (uint64_t)p->file_count * KP_ENTRY_SIZE;
    if (files_off < KP_HEADER_SIZE || !in_bounds(files_off, table_bytes, len))
        return fail(err, errlen, "file table (offset %llu, %u entries) lies "
                    "outside the %zu-byte payload",
                    (unsigned long long)files_off, p->file_count, len);
    if (strings_off < KP_HEADER_SIZE || p->strings_size == 0 ||
        !in_bounds(strings_off, p->strings_size, len))
        return fail(err, errlen, "string section (offset %llu, %llu bytes) "
                    "lies outside the %zu-byte payload",
                    (unsigned long long)strings_off,
                    (unsigned long long)p->strings_size, len);
    if (data_off < KP_HEADER_SIZE || data_off % KP_DATA_ALIGN ||
        !in_bounds(data_off, p->data_size, len))
        return fail(err, errlen, "data section (offset %llu, %llu bytes) lies "
                    "outside the %zu-byte payload or is misaligned",
                    (unsigned long long)data_off,
                    (unsigned long long)p->data_size, len);
    p->modules = b + modules_off;
    p->files = b + files_off;
    p->strings = b + strings_off;
    p->data = b + data_off;

    if (index_check(b, p, modules_off, files_off) != get64(b + H_INDEX_CHECK))
        return fail(err, errlen, "index checksum mismatch: the header or "
                    "index (offsets 0-%llu) is damaged",
                    (unsigned long long)(strings_off + p->strings_size));
    if (check_string(p, main_off, main_len))
        return fail(err, errlen, "main module name outside the string "
                    "section");
    p->main_name = (const char *)p->strings + main_off;
    if ((p->flags & ~(uint32_t)KP_HEADER_FLAGS_ALL) ||
        (p->flags & KP_RUN_MASK) < KP_RUN_SCRIPT ||
        (p->flags & KP_RUN_MASK) > KP_RUN_INTERPRETER || p->optimize > 2)
        return fail(err, errlen, "unknown run mode %u or optimization level "
                    "%u in the header", p->flags, p->optimize);
    if (check_table(p, p->modules, p->module_count, "module", err, errlen) ||
        check_table(p, p->files, p->file_count, "file", err, errlen) ||
        check_main(p, main_len, err, errlen))
        return -1;
    return 0;
}

static long find(const kp_pack *p, const uint8_t *table, uint32_t count,
                 const char *key, size_t len)
{
    uint32_t lo = 0, hi = count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = table + (size_t)mid * KP_ENTRY_SIZE;
        int c = compare_keys((const char *)p->strings + get32(e + E_NAME_OFF),
                             get32(e + E_NAME_LEN), key, len);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

long kp_find_module(const kp_pack *p, const char *name, size_t len)
{
    return find(p, p->modules, p->module_count, name, len);
}

long kp_find_file(const kp_pack *p, const char *path, size_t len)
{
    return find(p, p->files, p->file_count, path, len);
}

uint32_t kp_files_lower_bound(const kp_pack *p, const char *prefix,
                              size_t len)
{
    uint32_t lo = 0, hi = p->file_count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = p->files + (size_t)mid * KP_ENTRY_SIZE;
        if (compare_keys((const char *)p->strings + get32(e + E_NAME_OFF),
                         get32(e + E_NAME_LEN), prefix, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void kp_module_at(const kp_pack *p, uint32_t i, kp_entry *out)
{
    decode_entry(p, p->modules + (size_t)i * KP_ENTRY_SIZE, out);
}

void kp_file_at(const kp_pack *p, uint32_t i, kp_entry *out)
{
    decode_entry(p, p->files + (size_t)i * KP_ENTRY_SIZE, out);
}

const uint8_t *kp_blob_bytes(const kp_pack *p, const kp_blob *blob)
{
    return p->data + blob->offset;
}

int kp_blob_verify(const kp_pack *p, const kp_blob *blob)
{
    if (blob->size == 0)
        return 0; /* absent or empty: nothing to damage */
    return kp_checksum32(p->data + blob->offset, blob->size) == blob->check
               ? 0
               : -1;
}

/* ---- trailer ---------------------------------------------------------- */

void kp_trailer_write(uint8_t out[KP_TRAILER_SIZE], uint64_t payload_offset,
                      uint64_t payload_size)
{
    memcpy(out + T_MAGIC, KP_TRAILER_MAGIC, 8);
    put64(out + T_OFFSET, payload_offset);
    put64(out + T_SIZE, payload_size);
    put32(out + T_VERSION, KP_FORMAT_VERSION);
    put32(out + T_CHECK, kp_checksum32(out, T_CHECK));
}

int kp_trailer_read(const uint8_t in[KP_TRAILER_SIZE], uint64_t file_size,
                    uint64_t *payload_offset, uint64_t *payload_size,
                    char *err, size_t errlen)
{
    uint64_t off, size;

    if (memcmp(in + T_MAGIC, KP_TRAILER_MAGIC, 8) != 0)
        return fail(err, errlen, "no kiln trailer in the last %d bytes: not "
                    "a kiln executable, or truncated", KP_TRAILER_SIZE);
    if (file_size < KP_TRAILER_SIZE)
        return fail(err, errlen, "file of %llu bytes is too short for a "
                    "trailer", (unsigned long long)file_size);
    if (get32(in + T_CHECK) != kp_checksum32(in, T_CHECK))
        return fail(err, errlen, "trailer checksum mismatch at offset %llu",
                    (unsigned long long)(file_size - KP_TRAILER_SIZE));
    if (get32(in + T_VERSION) != KP_FORMAT_VERSION)
        return fail(err, errlen, "trailer format version %u, this kiln reads "
                    "version %d", get32(in + T_VERSION), KP_FORMAT_VERSION);
    off = get64(in + T_OFFSET);
    size = get64(in + T_SIZE);
    if (file_size < KP_TRAILER_SIZE ||
        !in_bounds(off, size, file_size - KP_TRAILER_SIZE) ||
        off + size != file_size - KP_TRAILER_SIZE)
        return fail(err, errlen, "trailer places the payload at offset %llu "
                    "(%llu bytes), but the file is %llu bytes: truncated or "
                    "damaged", (unsigned long long)off,
                    (unsigned long long)size, (unsigned long long)file_size);
    *payload_offset = off;
    *payload_size = size;
    return 0;
}

int kp_fd_has_trailer(int fd)
{
    struct stat st;
    char magic[8];
    return fstat(fd, &st) == 0 && st.st_size >= KP_TRAILER_SIZE &&
           pread(fd, magic, 8, st.st_size - KP_TRAILER_SIZE) == 8 &&
           memcmp(magic, KP_TRAILER_MAGIC, 8) == 0;
}

/* What a file that is not a regular one is, for messages. */
static const char *file_type(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISFIFO(mode) ? "a FIFO (named pipe)"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
                            : "of an unknown type";
}

int kp_map_file(int fd, const char *what, kp_pack *pack, void **map,
                size_t *map_len, char *err, size_t errlen)
{
    struct stat st;
    uint8_t tail[KP_TRAILER_SIZE];
    uint64_t off, size, start;
    char why[KP_ERRLEN];
    void *m;

    *map = NULL;
    if (fstat(fd, &st) != 0)
        return fail(err, errlen, "%s: %s", what, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(err, errlen, "%s is %s, not a regular file: give the "
                    "path of a kiln executable", what,
                    file_type(st.st_mode));
    if (st.st_size < KP_TRAILER_SIZE)
        return fail(err, errlen, "%s: not a kiln executable (%lld bytes, too "
                    "short for a trailer)", what, (long long)st.st_size);
    if (pread(fd, tail, sizeof tail, st.st_size - KP_TRAILER_SIZE) !=
        (ssize_t)sizeof tail)
        return fail(err, errlen, "%s: cannot read trailer: %s", what,
                    strerror(errno));
    if (kp_trailer_read(tail, (uint64_t)st.st_size, &off, &size, why,
                        sizeof why))
        return fail(err, errlen, "%s: %s", what, why);
    start = off & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);
    m = mmap(NULL, (size_t)(off - start + size), PROT_READ, MAP_PRIVATE, fd,
             (off_t)start);
    if (m == MAP_FAILED)
        return fail(err, errlen, "%s: cannot map payload: %s", what,
                    strerror(errno));
    if (kp_open(pack, (uint8_t *)m + (off - start), (size_t)size, why,
                sizeof why)) {
        munmap(m, (size_t)(off - start + size));
        return fail(err, errlen, "%s: payload at offset %llu: %s", what,
                    (unsigned long long)off, why);
    }
    pack->payload_offset = off;
    *map = m;
    *map_len = (size_t)(off - start + size);
    return 0;
}

int kp_launcher_hash(int fd, uint64_t len, uint64_t *out)
{
    XXH3_state_t *st = XXH3_createState();
    uint8_t *buf = malloc(1 << 20);
    uint64_t done = 0;
    int rc = -1;

    if (!st || !buf) {
        errno = ENOMEM;
        goto done;
    }
    XXH3_64bits_reset(st);
    while (done < len) {
        size_t want = len - done < (1 << 20) ? (size_t)(len - done) : 1 << 20;
        ssize_t n = pread(fd, buf, want, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            goto done;
        }
        kp_xxh3_update(st, buf, (size_t)n);
        done += (uint64_t)n;
    }
    *out = XXH3_64bits_digest(st);
    rc = 0;
done:
    free(buf);
    XXH3_freeState(st);
    return rc;
}

