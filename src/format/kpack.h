/*
 * kpack.h - the kiln packed-resources format: one reader, one writer.
 *
 * A payload holds a header, two sorted tables (modules and files), a string
 * section and a data section. The layout is documented in docs/format.md.
 * The reader trusts nothing: kp_open() bounds-checks every offset, length
 * and count and verifies the index checksum before any lookup is possible.
 */
#ifndef KILN_KPACK_H
#define KILN_KPACK_H

#include <stddef.h>
#include <stdint.h>

#define KP_MAGIC "KILNPACK"
#define KP_TRAILER_MAGIC "KILNTRLR"
#define KP_FORMAT_VERSION 1
#define KP_HEADER_SIZE 128
#define KP_ENTRY_SIZE 64
#define KP_TRAILER_SIZE 32
#define KP_DATA_ALIGN 16
#define KP_ERRLEN 256

/* Entry flags. */
enum {
    KP_MOD_CODE = 1 << 0,      /* blob a is marshalled bytecode */
    KP_MOD_EXTENSION = 1 << 1, /* blob a is a shared-library extension */
    KP_MOD_SOURCE = 1 << 2,    /* blob b is the source file */
    KP_MOD_PACKAGE = 1 << 3,
    KP_MOD_NAMESPACE = 1 << 4, /* namespace package: no code, no source */
    KP_MOD_EXTRACT = 1 << 5,   /* its top-level package is extracted to disk
                                  at first import; __file__ points there */
    KP_MOD_STDLIB = 1 << 6,    /* from the standard library: extracted, it
                                  shares the stdlib's one folder */
    KP_MOD_ALL = (1 << 7) - 1
};

/* Header flags: what the executable runs. */
enum {
    KP_RUN_SCRIPT = 1,      /* main names the module holding the script */
    KP_RUN_MODULE = 2,      /* main names a module, as python -m */
    KP_RUN_INTERPRETER = 3, /* behave as the python3 command line */
    KP_RUN_MASK = 0xff,
    KP_GC_FREEZE = 1 << 8, /* an app runs after gc.freeze(): the objects made
                              while starting are left out of collections */
    KP_PYTHON_CHILD = 1 << 9, /* a child the app starts with sys.executable
                                 and python's command line is a kiln
                                 interpreter of the packed code */
    KP_UNBUFFERED = 1 << 10,  /* an app's stdout and stderr are unbuffered,
                                 as under python3 -u */
    KP_STDLIB_FILES = 1 << 11, /* the whole stdlib is extracted (its modules
                                  are flagged KP_MOD_EXTRACT): sys._stdlib_dir
                                  is its folder */
    KP_HEADER_FLAGS_ALL = KP_RUN_MASK | KP_GC_FREEZE | KP_PYTHON_CHILD |
                          KP_UNBUFFERED | KP_STDLIB_FILES
};

typedef struct {
    uint64_t offset; /* relative to the data section */
    uint32_t size;
    uint32_t check; /* low 32 bits of XXH3-64 of the bytes */
} kp_blob;

typedef struct {
    const char *name; /* NUL-terminated, inside the payload */
    uint32_t name_len;
    const char *path; /* module: its file's relative path; file: == name */
    uint32_t path_len;
    uint32_t flags;
    kp_blob a, b;
} kp_entry;

typedef struct {
    const uint8_t *base;
    size_t size;
    uint32_t py_magic;   /* bytecode magic, 4 raw bytes read little-endian */
    uint32_t py_version; /* PY_VERSION_HEX of the target */
    uint32_t flags;
    uint32_t optimize;
    uint32_t module_count, file_count;
    const uint8_t *modules, *files, *strings, *data;
    uint64_t strings_size, data_size;
    const char *main_name; /* "" when absent */
    /* XXH3-64 of the file's bytes before the payload (the launcher and
       its padding); 0: not recorded. Not verified by kp_open(): hashing
       the launcher at every start would cost too much; kiln inspect
       does (kp_launcher_hash()). */
    uint64_t launcher_check;
    uint64_t payload_offset; /* in the file; set by kp_map_file() */
} kp_pack;

/* Reader. Returns 0, or -1 with a message in err (names in it escaped,
   kp_escape). Refuses what the launcher could not use safely: names that
   kp_*_problem() refuses, and a main module that is missing. */
int kp_open(kp_pack *pack, const void *buf, size_t len, char *err,
            size_t errlen);
long kp_find_module(const kp_pack *pack, const char *name, size_t len);
long kp_find_file(const kp_pack *pack, const char *path, size_t len);
/* First file index whose path starts with prefix (for directory walks). */
uint32_t kp_files_lower_bound(const kp_pack *pack, const char *prefix,
                              size_t len);
void kp_module_at(const kp_pack *pack, uint32_t i, kp_entry *out);
void kp_file_at(const kp_pack *pack, uint32_t i, kp_entry *out);
const uint8_t *kp_blob_bytes(const kp_pack *pack, const kp_blob *blob);
/* 0 when the blob's bytes match its checksum. */
int kp_blob_verify(const kp_pack *pack, const kp_blob *blob);
uint32_t kp_checksum32(const void *buf, size_t len);

/* Names that kp_open() accepts, and kp_writer_add_*() should: NULL when
   the name is fine, else what is wrong with it ("has a '..' part"). A
   packed path is relative, its parts joined by single '/', none of them
   empty, "." or "..", so that joined to a folder it stays inside it. A
   module name is dotted parts, none of them empty, without '/'. */
const char *kp_path_problem(const char *path, size_t len);
const char *kp_module_name_problem(const char *name, size_t len);
/* s[0:len) as `ls -b` shows a name, for messages and listings: C escapes
   (\n, \033, \\) for control bytes, backslash, bytes that are not UTF-8,
   and the Unicode controls that move or hide text (C1, bidirectional,
   line separators). Cut with "..." when it does not fit in outlen bytes;
   always NUL-terminated. Returns out. */
char *kp_escape(const char *s, size_t len, char *out, size_t outlen);
#define KP_SHOWN 96 /* buffer size for a name quoted in a message */
/* The same, whole, in a malloc'd string; NULL when memory runs out. */
char *kp_escaped(const char *s, size_t len);

/* XXH3-64 of the first len bytes of fd (an executable's launcher and its
   padding: len is the payload's offset), read with pread(). 0, or -1 with
   errno (EIO for a file shorter than len). */
int kp_launcher_hash(int fd, uint64_t len, uint64_t *out);

/* Trailer at the very end of an executable. */
void kp_trailer_write(uint8_t out[KP_TRAILER_SIZE], uint64_t payload_offset,
                      uint64_t payload_size);
int kp_trailer_read(const uint8_t in[KP_TRAILER_SIZE], uint64_t file_size,
                    uint64_t *payload_offset, uint64_t *payload_size,
                    char *err, size_t errlen);
/* 1 when the file ends with a trailer's magic: a kiln executable with a
   payload (the payload itself is not checked). */
int kp_fd_has_trailer(int fd);
/* Finds and maps the payload of an executable (a regular file: open a
   path that may be a FIFO with O_NONBLOCK); 0 or -1 with err. what names
   the file in messages, as it should be shown (escaped). */
int kp_map_file(int fd, const char *what, kp_pack *pack, void **map,
                size_t *map_len, char *err, size_t errlen);

/* Writer. Blobs go to the data section as they are added; entries and
   names wait in memory for kp_writer_finish*(). kp_writer_new() keeps the
   payload in memory (header, tables, strings, data); kp_writer_new_fd()
   writes it to fd from file offset `at` as blobs come (header, data,
   tables, strings), so that memory holds the index, not the data. */
typedef struct kp_writer kp_writer;
kp_writer *kp_writer_new(void);
kp_writer *kp_writer_new_fd(int fd, uint64_t at);
void kp_writer_free(kp_writer *w);
/* Why the last call that returned -1 failed: out of memory, a write
   error, a blob over KP_BLOB_MAX bytes. A failed writer stays failed. */
const char *kp_writer_error(const kp_writer *w);
#define KP_BLOB_MAX UINT32_MAX /* a blob's size is 32-bit */
/* Appends bytes to the data section as one blob; 0 or -1. */
int kp_writer_add_data(kp_writer *w, const void *buf, size_t len,
                       kp_blob *out);
/* One blob in pieces (a file read in chunks): begin, append any number of
   times, end. No other blob may be begun in between. 0 or -1. */
int kp_writer_blob_begin(kp_writer *w);
int kp_writer_blob_append(kp_writer *w, const void *buf, size_t len);
int kp_writer_blob_end(kp_writer *w, kp_blob *out);
int kp_writer_add_module(kp_writer *w, const char *name, const char *path,
                         uint32_t flags, kp_blob a, kp_blob b);
int kp_writer_add_file(kp_writer *w, const char *path, kp_blob data);
void kp_writer_set_target(kp_writer *w, uint32_t py_magic,
                          uint32_t py_version);
int kp_writer_set_run(kp_writer *w, uint32_t run, const char *main_name,
                      uint32_t optimize);
/* Sorts, checks for duplicates, lays out the payload; caller frees *out.
   For a writer from kp_writer_new(). */
int kp_writer_finish(kp_writer *w, uint8_t **out, size_t *out_len, char *err,
                     size_t errlen);
/* For a writer from kp_writer_new_fd(): writes the tables and strings after
   the data, then the header, whose launcher check it computes from the
   file's bytes before the payload (fd must be readable); *size is the
   payload's size in the file. */
int kp_writer_finish_fd(kp_writer *w, uint64_t *size, char *err,
                        size_t errlen);

#endif
