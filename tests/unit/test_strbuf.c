/*
 * test_strbuf.c - unit tests of the builder's text helpers: the growable
 * string (src/builder/strbuf.c) and the reader of the compile server's
 * reply lines (src/builder/reply.c).
 *
 * Appends of every kind across many reallocations, detaching and
 * releasing, the line lookups that requests use; then replies with empty
 * lines, lines without '=', a last line without '\n', values with '=' and
 * tabs, and values cut in place. Build and run with `make unit-test`; the
 * last line of stdout is "N passed, N failed".
 */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "reply.h"

/* ---- strbuf ------------------------------------------------------------- */

static void test_empty(void)
{
    strbuf sb = STRBUF_INIT;
    char *s;

    CHECK_STR(sb.buf, "");
    CHECK_EQ(sb.len, 0);
    CHECK(!strbuf_has_line(&sb, "a"));
    strbuf_release(&sb);
    CHECK_STR(sb.buf, "");
    s = strbuf_detach(&sb);
    CHECK_STR(s, "");
    free(s);
    CHECK_STR(sb.buf, "");
}

static void test_appends(void)
{
    strbuf sb = STRBUF_INIT;

    strbuf_addstr(&sb, "key");
    strbuf_addch(&sb, '=');
    strbuf_add(&sb, "value\nrest", 6);
    strbuf_addf(&sb, "%s=%d\n", "n", 42);
    strbuf_addf(&sb, "%s", "");
    CHECK_STR(sb.buf, "key=value\nn=42\n");
    CHECK_EQ(sb.len, strlen(sb.buf));
    CHECK(sb.alloc > sb.len);
    strbuf_release(&sb);
    CHECK_EQ(sb.len, 0);
    CHECK_EQ(sb.alloc, 0);
}

/* Many appends: the contents stay right across reallocations, and the
   buffer grows geometrically (few reallocations). */
static void test_growth(void)
{
    strbuf sb = STRBUF_INIT;
    size_t grows = 0, alloc = 0;
    char *s;

    for (int i = 0; i < 100000; i++) {
        strbuf_addf(&sb, "%d,", i % 10);
        if (sb.alloc != alloc) {
            grows++;
            alloc = sb.alloc;
        }
    }
    CHECK_EQ(sb.len, 200000);
    CHECK_EQ(strlen(sb.buf), 200000);
    CHECK(strncmp(sb.buf, "0,1,2,3,", 8) == 0);
    CHECK(strcmp(sb.buf + sb.len - 4, "8,9,") == 0);
    CHECK_MSG(grows < 40, "%zu reallocations for 200000 bytes", grows);
    s = strbuf_detach(&sb);
    CHECK_EQ(strlen(s), 200000);
    CHECK_EQ(sb.len, 0);
    CHECK_STR(sb.buf, "");
    free(s);
}

static void test_big_addf(void)
{
    strbuf sb = STRBUF_INIT;
    char *big = malloc(10001);

    memset(big, 'x', 10000);
    big[10000] = '\0';
    strbuf_addstr(&sb, "<");
    strbuf_addf(&sb, "%s>", big);
    CHECK_EQ(sb.len, 10002);
    CHECK(sb.buf[0] == '<' && sb.buf[10001] == '>' && sb.buf[10002] == '\0');
    strbuf_release(&sb);
    free(big);
}

static void test_has_line(void)
{
    strbuf sb = STRBUF_INIT;

    strbuf_addstr(&sb, "provides=a\npacked=x.dist-info\nfollow=pkg\twhy\n");
    CHECK(strbuf_has_line(&sb, "provides=a\n"));
    CHECK(!strbuf_has_line(&sb, "provides=\n"));
    CHECK(!strbuf_has_line(&sb, "rovides=a\n")); /* not inside a line */
    CHECK(strbuf_has_line(&sb, "packed=x.dist-info\n"));
    CHECK(strbuf_has_line(&sb, "follow=pkg\t"));
    CHECK(!strbuf_has_line(&sb, "follow=pk\t"));
    CHECK(!strbuf_has_line(&sb, "follow=pkg\twhy\nmore"));
    strbuf_release(&sb);
    strbuf_addstr(&sb, "last=line");
    CHECK(strbuf_has_line(&sb, "last=line"));
    CHECK(!strbuf_has_line(&sb, "last=line\n"));
    strbuf_release(&sb);
}

/* ---- reply lines -------------------------------------------------------- */

static void test_reply_lines(void)
{
    const char *text = "\nversion=3.11.2\n\n\nno equals\n=empty key\n"
                       "k=v=w\tx\nlast=end";
    const char *at = text;
    reply_line l;
    char *v;

    CHECK(reply_next(&at, &l));
    CHECK(reply_is(&l, "version"));
    CHECK(!reply_is(&l, "versio"));
    CHECK(!reply_is(&l, "version="));
    v = reply_value(&l);
    CHECK_STR(v, "3.11.2");
    free(v);
    CHECK(reply_next(&at, &l)); /* empty lines are skipped */
    CHECK(l.value == NULL);
    CHECK_EQ(l.len, 9);
    CHECK(!reply_is(&l, "no equals"));
    v = reply_value(&l);
    CHECK_STR(v, "");
    free(v);
    CHECK(reply_next(&at, &l));
    CHECK_EQ(l.key_len, 0);
    CHECK(reply_is(&l, ""));
    CHECK_EQ(l.value_len, 9);
    CHECK(reply_next(&at, &l));
    CHECK(reply_is(&l, "k"));
    CHECK_EQ(l.value_len, 5); /* v=w\tx: only the first '=' splits */
    CHECK(reply_next(&at, &l));
    CHECK(reply_is(&l, "last"));
    CHECK_EQ(l.value_len, 3);
    CHECK(!reply_next(&at, &l));
    CHECK(!reply_next(&at, &l));
}

static void test_reply_empty(void)
{
    const char *at = NULL;
    reply_line l;

    CHECK(!reply_next(&at, &l));
    at = "";
    CHECK(!reply_next(&at, &l));
    at = "\n\n\n";
    CHECK(!reply_next(&at, &l));
}

static void test_reply_cut(void)
{
    char text[] = "site=/usr/lib\ntree=pkg\n";
    const char *at = text;
    char *site, *tree;
    reply_line l;

    CHECK(reply_next(&at, &l));
    site = reply_cut(text, &l);
    CHECK(reply_next(&at, &l)); /* the cut does not end the reply */
    tree = reply_cut(text, &l);
    CHECK_STR(site, "/usr/lib");
    CHECK_STR(tree, "pkg");
    CHECK(!reply_next(&at, &l));
}

static void test_reply_lookup(void)
{
    const char *known = "provider=yaml\tPyYAML\nmodule=six\t\n"
                        "provider=yaml.x\tother\nprovider=ya\tshort\n";
    char *v;

    v = reply_lookup(known, "provider", "yaml", 4);
    CHECK_STR(v, "PyYAML");
    free(v);
    v = reply_lookup(known, "provider", "yaml.x", 6);
    CHECK_STR(v, "other");
    free(v);
    v = reply_lookup(known, "provider", "yamlzzz", 2);
    CHECK_STR(v, "short");
    free(v);
    v = reply_lookup(known, "module", "six", 3);
    CHECK_STR(v, ""); /* an empty value is there */
    free(v);
    CHECK(reply_lookup(known, "module", "yaml", 4) == NULL);
    CHECK(reply_lookup(known, "provide", "yaml", 4) == NULL);
    CHECK(reply_lookup("", "provider", "yaml", 4) == NULL);
}

int main(void)
{
    run_test("empty", test_empty);
    run_test("appends", test_appends);
    run_test("growth", test_growth);
    run_test("big_addf", test_big_addf);
    run_test("has_line", test_has_line);
    run_test("reply_lines", test_reply_lines);
    run_test("reply_empty", test_reply_empty);
    run_test("reply_cut", test_reply_cut);
    run_test("reply_lookup", test_reply_lookup);
    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed ? 1 : 0;
}
