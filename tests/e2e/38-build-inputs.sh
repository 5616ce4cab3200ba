# What kiln build reads and writes: it never overwrites an input (a packed
# file, or anything inside a packed folder, also through symlinks), and it
# never packs what lies outside the folders it is given (symlinks in --path
# packages, in site folders, or named by a RECORD).
. "$(dirname "$0")/lib.sh"

# refused WHAT EXPECTED-MESSAGE: the last run failed with that message and
# left no temporary file in the output's folder.
refused() {
    [ "$RC" -ne 0 ] || fail "$1: status 0"
    expect_contains "$1: message" "$2" "$ERR"
    ls -a "$3" | grep -q 'kiln-' && fail "$1: temporary file left in $3"
}

# ---- -o never overwrites an input ----------------------------------------
A=$T/a
mkdir -p "$A/src/pkg/data" "$A/s/sitemod_pkg"
echo 'import helper; print(helper.X)' >"$A/main.py"
echo 'X = "helper"' >"$A/helper.py"
echo 'V = "pkg"' >"$A/src/pkg/__init__.py"
echo 'table' >"$A/src/pkg/data/table.txt"
echo 'import pkg; print(pkg.V)' >"$A/usepkg.py"

# A module the script imports from its folder.
run "$KILN" build -q "$A/main.py" -o "$A/helper.py"
refused "-o an imported module" "the output $A/helper.py would overwrite $A/helper.py, a file that this build packs; nothing was written: choose another -o" "$A"
expect_eq "imported module intact" 'X = "helper"' "$(cat "$A/helper.py")"
# A package's __init__.py and data file, under --path.
run "$KILN" build -q "$A/usepkg.py" --path "$A/src" -o "$A/src/pkg/__init__.py"
refused "-o a package's __init__" "would overwrite $A/src/pkg/__init__.py" "$A/src/pkg"
expect_eq "__init__ intact" 'V = "pkg"' "$(cat "$A/src/pkg/__init__.py")"
run "$KILN" build -q "$A/usepkg.py" --path "$A/src" -o "$A/src/pkg/data/table.txt"
refused "-o a data file" "would overwrite $A/src/pkg/data/table.txt" "$A/src/pkg/data"
expect_eq "data file intact" "table" "$(cat "$A/src/pkg/data/table.txt")"
# A new file inside a packed folder: the next build would pack it.
run "$KILN" build -q "$A/usepkg.py" --path "$A/src" -o "$A/src/pkg/app"
refused "-o inside a package" "the output $A/src/pkg/app would be written inside $A/src/pkg, a folder that this build packs" "$A/src/pkg"
[ -e "$A/src/pkg/app" ] && fail "-o inside a package: written"
# The same through symlinks: a folder on the output's path, the output
# itself.
ln -s "$A/src/pkg" "$A/pkglink"
run "$KILN" build -q "$A/usepkg.py" --path "$A/src" -o "$A/pkglink/__init__.py"
refused "-o through a symlinked folder" "would overwrite $A/src/pkg/__init__.py" "$A/src/pkg"
run "$KILN" build -q "$A/usepkg.py" --path "$A/src" -o "$A/pkglink/data/new"
refused "-o into a symlinked package" "would be written inside $A/src/pkg," "$A/src/pkg/data"
ln -s helper.py "$A/helperlink"
run "$KILN" build -q "$A/main.py" -o "$A/helperlink"
refused "-o a symlink to an input" "would overwrite $A/helper.py" "$A"
expect_eq "symlinked input intact" 'X = "helper"' "$(cat "$A/helper.py")"

# Distributions: a module in --site-packages, a dist-info's METADATA.
S=$T/site
mkdir -p "$S/distx-1.0.dist-info"
echo 'Y = "site"' >"$S/sitemod.py"
echo 'Z = "distx"' >"$S/distx.py"
printf 'Metadata-Version: 2.1\nName: distx\nVersion: 1.0\n' >"$S/distx-1.0.dist-info/METADATA"
printf 'distx.py,,\ndistx-1.0.dist-info/METADATA,,\ndistx-1.0.dist-info/RECORD,,\n' \
    >"$S/distx-1.0.dist-info/RECORD"
echo 'import sitemod, distx; print(sitemod.Y, distx.Z)' >"$A/usesite.py"
run "$KILN" build -q "$A/usesite.py" --site-packages "$S" -o "$S/sitemod.py"
refused "-o a --site-packages module" "would overwrite $S/sitemod.py" "$S"
expect_eq "site module intact" 'Y = "site"' "$(cat "$S/sitemod.py")"
run env PYTHONPATH="$S" "$KILN" build -q "$A/usesite.py" --package distx \
    --package sitemod -o "$S/distx-1.0.dist-info/METADATA"
refused "-o a METADATA" "would overwrite $S/distx-1.0.dist-info/METADATA" "$S/distx-1.0.dist-info"
expect_contains "METADATA intact" "Name: distx" "$(cat "$S/distx-1.0.dist-info/METADATA")"

# The config file: output = "pyproject.toml", or --config FILE -o FILE.
mkdir -p "$T/cfg"
printf '[tool.kiln]\nscript = "main.py"\noutput = "pyproject.toml"\n' >"$T/cfg/pyproject.toml"
echo 'print("cfg")' >"$T/cfg/main.py"
cp "$T/cfg/pyproject.toml" "$T/cfg/expected"
run env -C "$T/cfg" "$KILN" build -q
refused "output = the config file" "the output ./pyproject.toml would overwrite ./pyproject.toml, the config file this build reads; nothing was written" "$T/cfg"
expect_eq "config intact" "$(cat "$T/cfg/expected")" "$(cat "$T/cfg/pyproject.toml")"
printf '[tool.kiln]\nscript = "main.py"\n' >"$T/cfg/kiln.toml"
run env -C "$T/cfg" "$KILN" build -q --config kiln.toml -o kiln.toml
refused "--config FILE -o FILE" "the output kiln.toml would overwrite kiln.toml, the config file this build reads" "$T/cfg"
expect_contains "--config FILE intact" "[tool.kiln]" "$(cat "$T/cfg/kiln.toml")"

# Still fine: the output beside the script, or in a --path root folder,
# built twice (the previous output is not an input), and run.
(cd "$A" && "$KILN" build -q main.py -o main && "$KILN" build -q main.py -o main) ||
    fail "-o beside the script failed"
run "$A/main"
expect_eq "-o beside the script" "helper" "$OUT$ERR"
build "$A/usepkg.py" --path "$A/src" -o "$A/src/app" &&
    build "$A/usepkg.py" --path "$A/src" -o "$A/src/app"
run "$A/src/app"
expect_eq "-o in a --path root" "pkg" "$OUT$ERR"
# A namespace package's folder (any folder named like an identifier, under
# --path .) holds no input that a new file could overwrite.
mkdir -p "$A/src/dist"
build "$A/usepkg.py" --path "$A/src" -o "$A/src/dist/app"
run "$A/src/dist/app"
expect_eq "-o in a namespace folder" "pkg" "$OUT$ERR"
run env PYTHONPATH="$S" "$KILN" build -q "$A/usesite.py" --package distx \
    --package sitemod -o "$S/app"
run "$S/app"
expect_eq "-o in a site folder" "site distx" "$OUT$ERR"

# ---- symlinks that leave the folder given --------------------------------
P=$T/p
O=$T/outside
mkdir -p "$P/pkg" "$P/common" "$P/assets" "$O"
RP=$(realpath "$P")
echo 'SECRET = "outside"' >"$O/kiln_secret.py"
echo 'outside data' >"$O/data.txt"
echo '' >"$P/pkg/__init__.py"
echo 'V = "shared"' >"$P/common/real.py"
echo 'inside data' >"$P/assets/table.txt"
ln -s /etc "$P/pkg/etclink"                 # a folder outside
ln -s /etc/passwd "$P/pkg/passwd"           # a file outside
# Into /usr, but made where others could: only the system's own links
# (root's, in folders only root changes) are followed.
ln -s /usr/lib/python3/dist-packages "$P/pkg/usrlink"
ln -s "$O" "$P/pkg/outdir"                  # a folder of modules outside
ln -s "$O/kiln_secret.py" "$P/leak.py"           # a top-level module outside
ln -s ../common/real.py "$P/pkg/alias.py"   # inside: packed
ln -s ../assets "$P/pkg/datalink"           # inside: packed
cat >"$T/symapp.py" <<'PY'
import importlib.resources as r
import pkg.alias
print(pkg.alias.V, r.files("pkg").joinpath("datalink/table.txt").read_text().strip())
for name in ("leak", "pkg.outdir.kiln_secret"):
    try:
        __import__(name)
        print("leaked", name)
    except ImportError:
        print("no", name)
PY
run "$KILN" build -q "$T/symapp.py" --path "$P" -o "$T/symapp"
expect_eq "symlinks outside: status" 0 "$RC"
expect_contains "warns: folder link" "warning: skipping $P/pkg/etclink: a symlink to /etc, outside $RP" "$ERR"
expect_contains "warns: link into /usr" "warning: skipping $P/pkg/usrlink: a symlink to /usr/lib/python3/dist-packages, outside $RP" "$ERR"
expect_contains "warns: file link" "warning: skipping $P/pkg/passwd: a symlink to /etc/passwd, outside $RP" "$ERR"
expect_contains "warns: module folder link" "warning: skipping $P/pkg/outdir: a symlink to $(realpath "$O"), outside $RP" "$ERR"
expect_contains "warns: module link" "warning: skipping $P/leak.py: a symlink to $(realpath "$O")/kiln_secret.py, outside $RP" "$ERR"
expect_not_contains "inside links: no warning" "alias.py" "$ERR"
run "$T/symapp"
expect_eq "symlinks outside: app" "shared inside data
no leak
no pkg.outdir.kiln_secret" "$OUT$ERR"
run "$KILN" inspect "$T/symapp"
for x in passwd etclink usrlink outdir kiln_secret leak "outside data"; do
    expect_not_contains "inspect: $x not packed" "$x" "$OUT"
done
expect_contains "inspect: inside link packed" "pkg/datalink/table.txt" "$OUT"

# A bundled library (auditwheel's pkg.libs) that is a symlink to a library
# outside the folder: not packed, the extension's need is the host's.
X=$T/x
mkdir -p "$X/xpkg" "$X/xpkg.libs" "$T/c"
touch "$X/xpkg/__init__.py"
echo 'int leak(void) { return 5; }' >"$T/c/leak.c"
gcc -shared -fPIC -o "$O/libleak.so.1" "$T/c/leak.c" -Wl,-soname,libleak.so.1 ||
    fail "cannot build the fixture libleak.so.1"
ln -s "$O/libleak.so.1" "$X/xpkg.libs/libleak.so.1"
cat >"$T/c/_ext.c" <<'C'
#include <Python.h>
int leak(void);
static PyObject *value(PyObject *m, PyObject *a) { return PyLong_FromLong(leak()); }
static PyMethodDef methods[] = {{"value", value, METH_NOARGS, NULL}, {NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "_ext", NULL, -1, methods};
PyMODINIT_FUNC PyInit__ext(void) { return PyModule_Create(&def); }
C
gcc -shared -fPIC -I/usr/include/python3.11 -o "$X/xpkg/_ext.cpython-311-x86_64-linux-gnu.so"     "$T/c/_ext.c" "$O/libleak.so.1" -Wl,-rpath,'$ORIGIN/../xpkg.libs' ||
    fail "cannot build the fixture _ext"
echo 'import xpkg' >"$T/extapp.py"
run "$KILN" build -q "$T/extapp.py" --path "$X" -o "$T/extapp"
expect_eq "bundled library link: status" 0 "$RC"
expect_contains "bundled library link: warns" "warning: skipping $X/xpkg.libs/libleak.so.1: a symlink to $(realpath "$O")/libleak.so.1, outside $(realpath "$X")" "$ERR"
run "$KILN" inspect "$T/extapp"
expect_not_contains "bundled library link: not packed" "xpkg.libs/libleak.so.1" "$OUT"

# A symlink in the script's own folder: the same rule, that folder is the
# root.
mkdir -p "$T/scriptdir"
echo 'import leak2; print(leak2.SECRET)' >"$T/scriptdir/app.py"
ln -s "$O/kiln_secret.py" "$T/scriptdir/leak2.py"
run "$KILN" build -q "$T/scriptdir/app.py" -o "$T/scriptapp"
expect_contains "script folder: warns" "warning: skipping $T/scriptdir/leak2.py: a symlink to $(realpath "$O")/kiln_secret.py" "$ERR"
run "$KILN" inspect "$T/scriptapp"
expect_not_contains "script folder: not packed" "leak2" "$OUT"

# Site folders: symlinks in a distribution's package, a symlinked folder
# that its RECORD names a file in, and RECORD rows with '..' or absolute
# paths that leave the folder; a symlink inside the folder is fine.
E=$T/evilsite
mkdir -p "$E/evil" "$E/evil-1.0.dist-info" "$E/good"
ERP=$(realpath "$E")
echo 'OK = "evil ok"' >"$E/evil/__init__.py"
echo 'real' >"$E/good/real.txt"
ln -s /etc/passwd "$E/evil/passwd"
ln -s ../good/real.txt "$E/evil/fine.txt"
ln -s /etc "$E/etclink"
printf 'Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n' >"$E/evil-1.0.dist-info/METADATA"
cat >"$E/evil-1.0.dist-info/RECORD" <<EOF
evil/__init__.py,,
evil/passwd,,
evil/fine.txt,,
etclink/passwd,,
etclink/hostname,,
../../../../../../../../etc/passwd,,
/etc/passwd,,
evil/../../../../../../../../etc/hostname,,
evil-1.0.dist-info/METADATA,,
evil-1.0.dist-info/RECORD,,
EOF
cat >"$T/evilapp.py" <<'PY'
import importlib.resources as r
import evil
print(evil.OK, r.files("evil").joinpath("fine.txt").read_text().strip())
PY
run env PYTHONPATH="$E" "$KILN" build -v "$T/evilapp.py" --package evil -o "$T/evilapp"
expect_eq "RECORD: status" 0 "$RC"
expect_contains "RECORD: warns: link in package" "warning: skipping $E/evil/passwd: a symlink to /etc/passwd, outside $ERP" "$ERR"
expect_contains "RECORD: warns: linked folder" "warning: skipping $E/etclink: a symlink to /etc, outside $ERP" "$ERR"
expect_eq "RECORD: one warning a link" 1 "$(grep -c "skipping $E/etclink" "$T/.err")"
expect_contains "RECORD: -v: '..' row" "skipped /etc/passwd: listed by evil 1.0, but outside $E" "$ERR"
expect_contains "RECORD: -v: row through a package" "skipped /etc/hostname: listed by evil 1.0, but outside $E" "$ERR"
run "$T/evilapp"
expect_eq "RECORD: app" "evil ok real" "$OUT$ERR"
run "$KILN" inspect "$T/evilapp"
for x in passwd etclink hostname; do
    expect_not_contains "RECORD: inspect: $x not packed" "$x" "$OUT"
done
expect_contains "RECORD: inside link packed" "evil/fine.txt" "$OUT"
run env -u PYTHONPATH "$KILN" build -q "$T/evilapp.py" --site-packages "$E" -o "$T/evilsiteapp"
expect_eq "--site-packages: status" 0 "$RC"
expect_contains "--site-packages: warns" "warning: skipping $E/etclink: a symlink to /etc, outside $ERP" "$ERR"
expect_eq "--site-packages: one warning a link" 1 "$(grep -c "skipping $E/etclink" "$T/.err")"
run "$KILN" inspect "$T/evilsiteapp"
for x in passwd etclink hostname; do
    expect_not_contains "--site-packages: inspect: $x not packed" "$x" "$OUT"
done
finish
