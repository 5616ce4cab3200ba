#!/bin/bash
# Real pure-Python Debian packages, with their dependencies, packed for the
# target CPython through PYTHONPATH=/usr/lib/python3/dist-packages, as the
# issue of every CPython asks (the version matrix runs this test with each
# installation). Their C speedups are built for Debian's 3.11: packed for
# 3.11, skipped with a warning naming the file for any other CPython, and
# the packages fall back to their pure-Python code, as under that python.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

DIST=/usr/lib/python3/dist-packages
for pkg in requests jinja2 yaml pygments attr; do
    [ -d "$DIST/$pkg" ] || { echo "  (skipped: no $DIST/$pkg; apt-get install python3-$pkg)" >&2; exit 0; }
done

cat >app.py <<'EOF'
import attr, jinja2, markupsafe, pygments, requests, yaml
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

@attr.s(frozen=True)
class Point:
    x = attr.ib()
    y = attr.ib(default=0)

print(requests.Request("GET", "http://example.invalid/p",
                       params={"q": "kiln é"}).prepare().url)
print(requests.utils.requote_uri("http://x/a b"), requests.__version__)
print(jinja2.Template("{{ n }}! {{ s|e }}").render(n=3, s="<b>"))
print(markupsafe.escape("<i>"), type(markupsafe.Markup("")).__module__)
print(yaml.safe_load("a: [1, 2, {b: c}]"), yaml.dump({"k": [1, 2]}).strip())
print(pygments.highlight("x = 1", PythonLexer(), HtmlFormatter()).count("span"))
print(Point(1), attr.asdict(Point(2, 3)))
EOF

export PYTHONPATH=$DIST
want=$(env PYTHONPATH=$DIST "$PY" -S app.py 2>&1) || fail "$PY app.py: $want"
if "$KILN" build -q app.py --package requests --package jinja2 --package pyyaml \
    --package pygments --package attrs -o app 2>build.err; then
    run ./app
    expect_eq "the app's output" "$want" "$OUT"
    expect_eq "the app's status" 0 "$RC"
else
    fail "kiln build: $(cat build.err)"
fi
# The speedups: the target's own, or skipped by name.
suffix=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
speedups=$(ls "$DIST"/markupsafe/_speedups.*.so 2>/dev/null | head -1)
if [ -n "$speedups" ]; then
    case "$speedups" in
    *"$suffix") expect_not_contains "no warning for the target's own .so" \
        "another CPython" "$(cat build.err)" ;;
    *) expect_contains "a .so of another CPython is skipped, by name" \
        "skipping $speedups: an extension module built for another CPython" \
        "$(cat build.err)" ;;
    esac
fi

exit $((FAILS > 0))
