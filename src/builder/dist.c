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

/* Appends "key=value\n" to the request; a value with a newline cannot be
   sent. */
static int add_line(char **req, const char *key, const char *value)
{
    char *line;

    if (strchr(value, '\n'))
        return error("--%s value holds a newline: '%s'", key, value);
    line = xprintf("%s%s=%s\n", *req, key, value);
    free(*req);
    *req = line;
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

static int apply(collection *c, char *reply, int verbose, int searching)
{
    char *line, *save = NULL;
    const char *site = NULL;
    int rc = 0;

    for (line = strtok_r(reply, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        char *value = strchr(line, '=');
        int kind = -1;

        if (!value)
            return error("the compile server's answer about distributions "
                         "has a line without '=': '%s'", line);
        *value++ = '\0';
        if (strcmp(line, "site") == 0)
            site = value;
        else if (strcmp(line, "search") == 0 && verbose && searching)
            fprintf(stderr, "kiln: --package searches %s\n", value);
        else if (strcmp(line, "dist") == 0 && verbose)
            say_dist(value, site);
        else if (strcmp(line, "warning") == 0)
            warning("%s", value);
        else if (strcmp(line, "skip") == 0 && verbose)
            fprintf(stderr, "kiln: skipped %.*s: %s\n",
                    (int)strcspn(value, "\t"), value,
                    value + strcspn(value, "\t") + !!value[strcspn(value,
                                                                  "\t")]);
        else if (strcmp(line, "tree") == 0)
            kind = SITE_TREE;
        else if (strcmp(line, "namespace") == 0)
            kind = SITE_NAMESPACE;
        else if (strcmp(line, "init") == 0)
            kind = SITE_INIT;
        if (kind >= 0 && !site)
            return error("the compile server named '%s' before its site "
                         "folder", value);
        if (kind >= 0)
            rc = collect_site_entry(c, site, value, kind);
    }
    return rc;
}

int collect_dists(kserver *s, collection *c, const vec *packages,
                  const vec *site_dirs, int verbose)
{
    char *req = xstrdup("");
    uint8_t *out = NULL;
    size_t len;
    uint32_t status;
    int rc = -1;

    if (packages->n == 0 && site_dirs->n == 0) {
        free(req);
        return 0;
    }
    for (size_t i = 0; i < packages->n; i++)
        if (add_line(&req, "package", packages->v[i]) != 0)
            goto done;
    for (size_t i = 0; i < site_dirs->n; i++)
        if (add_line(&req, "site-packages", site_dirs->v[i]) != 0)
            goto done;
    if (server_call(s, KC_OP_DISTS, 0, "dists", req, strlen(req), &status,
                    &out, &len) != 0)
        goto done;
    if (status != KC_OK) {
        error("%s", (char *)out);
        goto done;
    }
    rc = apply(c, (char *)out, verbose, packages->n > 0);
done:
    free(req);
    free(out);
    return rc;
}

char *dist_providers(kserver *s, const char *names)
{
    char *req = xstrdup(""), *res = xstrdup(""), *copy = xstrdup(names);
    char *line, *save = NULL, *tmp;
    uint8_t *out = NULL;
    size_t len;
    uint32_t status;

    for (line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        if (add_line(&req, "provides", line) != 0)
            goto done;
    if (server_call(s, KC_OP_DISTS, 0, "dists", req, strlen(req), &status,
                    &out, &len) != 0 || status != KC_OK)
        goto done;
    save = NULL;
    for (line = strtok_r((char *)out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        if (strncmp(line, "provider=", 9) == 0) {
            tmp = xprintf("%s%s\n", res, line + 9);
            free(res);
            res = tmp;
        }
done:
    free(copy);
    free(req);
    free(out);
    return res;
}
