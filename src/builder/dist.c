/*
 * dist.c - packs installed distributions. One DISTS request to the compile
 * server resolves the --package names (Requires-Dist, extras, markers) and
 * the --site-packages folders; its reply lists, per site folder, what to
 * pack (docs/format.md, "The compile server"), and collect_site_entry()
 * walks each entry as --path would.
 */
#include "dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reply.h"
#include "strbuf.h"

/* Appends "key=value\n" to the request; a value with a newline cannot be
   sent. */
static int add_line(strbuf *req, const char *key, const char *value)
{
    if (strchr(value, '\n'))
        return error("--%s value holds a newline: '%s'", key, value);
    strbuf_addf(req, "%s=%s\n", key, value);
    return 0;
}

static void say_dist(char *value, const char *site)
{
    char *version = strchr(value, '\t'), *why = NULL;

    if (version) {
        *version++ = '\0';
        why = strchr(version, '\t');
    }
    if (why)
        *why++ = '\0';
    fprintf(stderr, "kiln: packing %s %s (%s) from %s\n", value,
            version ? version : "?", why ? why : "?", site ? site : "?");
}

/* Is dir a folder that a site= line may name: absolute, and one the
   server announced with a search= line (in searched) or a --site-packages
   folder (the same folder: the server names it by its absolute path)? */
static int known_site(const char *dir, const vec *searched,
                      const vec *site_dirs)
{
    struct stat st, mine;

    if (dir[0] != '/')
        return 0;
    for (size_t i = 0; i < searched->n; i++)
        if (strcmp(searched->v[i], dir) == 0)
            return 1;
    for (size_t i = 0; site_dirs && i < site_dirs->n; i++)
        if (stat(site_dirs->v[i], &mine) == 0 && stat(dir, &st) == 0 &&
            S_ISDIR(st.st_mode) && st.st_dev == mine.st_dev &&
            st.st_ino == mine.st_ino)
            return 1;
    return 0;
}

/* The site= line's folder, checked by known_site(); NULL after an error
   naming it. */
static const char *take_site(const char *dir, const vec *searched,
                             const vec *site_dirs)
{
    char *shown;

    if (known_site(dir, searched, site_dirs))
        return dir;
    shown = xescaped(dir, strlen(dir));
    error("the compile server's answer about distributions names the site "
          "folder '%s', which is neither a folder it searched nor a "
          "--site-packages folder; nothing was written: a file name in a "
          "distribution's RECORD may have forged that line", shown);
    free(shown);
    return NULL;
}

static int apply(collection *c, char *reply, const vec *site_dirs,
                 int verbose, int searching)
{
    const char *at = reply, *site = NULL;
    vec searched = {0}; /* the search= folders, not owned */
    reply_line l;
    int rc = 0;

    while (rc == 0 && reply_next(&at, &l)) {
        char *value;
        int kind = -1;

        if (!l.value) {
            rc = error("the compile server's answer about distributions "
                       "has a line without '=': '%.*s'", (int)l.len, l.line);
            break;
        }
        value = reply_cut(reply, &l);
        if (reply_is(&l, "site") &&
            !(site = take_site(value, &searched, site_dirs)))
            rc = -1;
        else if (reply_is(&l, "search"))
            vec_push(&searched, value);
        if (reply_is(&l, "search") && verbose && searching)
            fprintf(stderr, "kiln: --package searches %s\n", value);
        else if (reply_is(&l, "dist") && verbose)
            say_dist(value, site);
        else if (reply_is(&l, "warning"))
            warning("%s", value);
        else if (reply_is(&l, "note") && verbose)
            fprintf(stderr, "kiln: %s\n", value);
        else if (reply_is(&l, "skip") && verbose)
            fprintf(stderr, "kiln: skipped %.*s: %s\n",
                    (int)strcspn(value, "\t"), value,
                    value + strcspn(value, "\t") + !!value[strcspn(value,
                                                                  "\t")]);
        else if (reply_is(&l, "tree"))
            kind = SITE_TREE;
        else if (reply_is(&l, "namespace"))
            kind = SITE_NAMESPACE;
        else if (reply_is(&l, "init"))
            kind = SITE_INIT;
        if (kind >= 0 && !site)
            rc = error("the compile server named '%s' before its site "
                       "folder", value);
        else if (kind >= 0)
            rc = collect_site_entry(c, site, value, kind);
    }
    vec_free(&searched, NULL);
    return rc;
}

/* One DISTS request, after the lines every one carries (a venv's). */
static int dists_call(kserver *s, const char *request, uint32_t *status,
                      uint8_t **out, size_t *len)
{
    strbuf req = STRBUF_INIT;
    int rc;

    strbuf_addstr(&req, s->dist_lines ? s->dist_lines : "");
    strbuf_addstr(&req, request);
    rc = server_call(s, KC_OP_DISTS, 0, "dists", req.buf, req.len, status,
                     out, len);
    strbuf_release(&req);
    return rc;
}

int collect_dists(kserver *s, collection *c, const vec *packages,
                  const vec *site_dirs, int verbose)
{
    strbuf req = STRBUF_INIT;
    uint8_t *out = NULL;
    size_t len;
    uint32_t status;
    int rc = -1;

    if (packages->n == 0 && site_dirs->n == 0)
        return 0;
    for (size_t i = 0; i < packages->n; i++)
        if (add_line(&req, "package", packages->v[i]) != 0)
            goto done;
    for (size_t i = 0; i < site_dirs->n; i++)
        if (add_line(&req, "site-packages", site_dirs->v[i]) != 0)
            goto done;
    if (dists_call(s, req.buf, &status, &out, &len) != 0)
        goto done;
    if (status != KC_OK) {
        error("%s", (char *)out);
        goto done;
    }
    rc = apply(c, (char *)out, site_dirs, verbose, packages->n > 0);
done:
    strbuf_release(&req);
    free(out);
    return rc;
}

char *dist_ask(kserver *s, const char *request)
{
    uint8_t *out = NULL;
    size_t len;
    uint32_t status;

    if (dists_call(s, request, &status, &out, &len) != 0 || status != KC_OK ||
        strlen((char *)out) != len) {
        free(out);
        return xstrdup("");
    }
    return (char *)out;
}

int collect_followed(kserver *s, collection *c, const char *request,
                     int verbose)
{
    uint8_t *out = NULL;
    size_t len;
    uint32_t status;
    int rc = -1;

    if (dists_call(s, request, &status, &out, &len) != 0)
        return -1;
    if (status != KC_OK)
        error("%s", (char *)out);
    else
        rc = apply(c, (char *)out, NULL, verbose, 0);
    free(out);
    return rc;
}
