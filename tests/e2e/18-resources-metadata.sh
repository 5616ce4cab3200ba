# importlib.resources, importlib.metadata and pkgutil over packed packages
# and distributions: the same answers as python3.11 reading them from disk,
# also for a file name that is not UTF-8 (names go through the filesystem
# encoding, as os.fsencode and os.fsdecode do).
. "$(dirname "$0")/lib.sh"
L=$T/lib
mkdir -p "$L/mypkg/data/sub" "$L/mypkg/sub" "$L/mypkg-1.2.dist-info" "$L/nsonly/part"
echo 'VERSION = "1.2"' >"$L/mypkg/__init__.py"
echo "hello data" >"$L/mypkg/data/hello.txt"
printf '\000\001\002' >"$L/mypkg/data/sub/blob.bin"
printf 'latin-1 name\n' >"$L/mypkg/data/$(printf 'caf\351.txt')"
printf 'utf-8 name\n' >"$L/mypkg/data/$(printf 'caf\303\251.txt')"
echo "x = 1" >"$L/mypkg/sub/__init__.py"
echo "y = 2" >"$L/mypkg/mod.py"
echo "z = 3" >"$L/nsonly/part/mod.py"
cat >"$L/mypkg-1.2.dist-info/METADATA" <<'TXT'
Metadata-Version: 2.1
Name: mypkg
Version: 1.2
Summary: A fixture
Requires-Dist: requests>=2
Requires-Dist: rich; extra == "fancy"
TXT
cat >"$L/mypkg-1.2.dist-info/entry_points.txt" <<'TXT'
[console_scripts]
mytool = mypkg:main
TXT
printf 'mypkg/__init__.py,,\nmypkg/data/hello.txt,,\nmypkg-1.2.dist-info/METADATA,,\n' \
    >"$L/mypkg-1.2.dist-info/RECORD"
printf 'Metadata-Version: 1.1\nName: Old-Style\nVersion: 0.9\n' >"$L/Old_Style-0.9.egg-info"
cat >"$T/app.py" <<'PY'
import sys, pkgutil, warnings
import importlib.resources as r, importlib.metadata as md
import mypkg
warnings.simplefilter("ignore", DeprecationWarning)
f = r.files(mypkg)
print("files", f.name, f.is_dir(), f.is_file())
print("iterdir", sorted(p.name for p in f.iterdir() if p.name != "__pycache__"))
print("sub", sorted(p.name for p in (f / "data").iterdir()), (f / "data").is_dir())
print("read", (f / "data" / "hello.txt").read_text().strip(),
      (f / "data/sub/blob.bin").read_bytes(), f.joinpath("data", "hello.txt").is_file())
with (f / "data" / "hello.txt").open("rb") as fh:
    print("open", fh.read())
with r.as_file(f / "data" / "hello.txt") as p:
    print("as_file", p.is_file(), p.read_text().strip())
print("legacy", r.read_text("mypkg", "mod.py").strip(), r.read_binary("mypkg", "mod.py"),
      r.is_resource("mypkg", "mod.py"), r.is_resource("mypkg", "data"),
      sorted(c for c in r.contents("mypkg") if c != "__pycache__"))
with r.open_binary("mypkg", "mod.py") as fh:
    print("open_binary", fh.read())
with r.path("mypkg", "mod.py") as p:
    print("path", p.read_text().strip())
try:
    (f / "missing.txt").read_bytes()
except FileNotFoundError as e:
    print("missing", type(e).__name__)
print("get_data", pkgutil.get_data("mypkg", "data/hello.txt"))
print("iter_modules", sorted((m.name, m.ispkg) for m in pkgutil.iter_modules(mypkg.__path__)))
print("walk", sorted(m.name for m in pkgutil.walk_packages(mypkg.__path__, "mypkg.")))
print("top", sorted(m.name for m in pkgutil.iter_modules() if m.name in ("mypkg", "nsonly")))
print("version", md.version("mypkg"), md.metadata("mypkg")["Summary"], md.requires("mypkg"))
print("old", md.version("old-style"), md.version("Old_Style"), md.metadata("old.style")["Name"])
print("eps", [(e.name, e.value) for e in md.entry_points(group="console_scripts")])
print("dist files", [str(p) for p in md.files("mypkg")], md.files("mypkg")[1].read_text().strip())
print("dists", sorted(d.metadata["Name"] for d in md.distributions()))
print("by path", [d.metadata["Name"] for d in md.distributions(path=["/nonexistent"])])
import os
latin = os.fsdecode(b"caf\xe9.txt")
d = f / "data"
print("not utf-8", ascii(sorted(p.name for p in d.iterdir())), (d / latin).exists(),
      (d / latin).is_file(), (d / latin).is_dir(), (d / latin).read_bytes(),
      (d / "caf\xe9.txt").read_text().strip(), ascii((d / latin).name))
with (d / latin).open("rb") as fh:
    print("not utf-8 open", fh.read())
with r.as_file(d / latin) as p:
    print("not utf-8 as_file", p.read_bytes())
print("not utf-8 get_data", pkgutil.get_data("mypkg", "data/" + latin))
try:
    (d / (latin + "x")).read_bytes()
except FileNotFoundError as e:
    print("not utf-8 missing", type(e).__name__, e.errno)
try:
    d.joinpath(b"caf\xe9.txt")
except TypeError as e:
    print("joinpath bytes", type(e).__name__)
try:
    md.version("nope")
except md.PackageNotFoundError as e:
    print("notfound", e)
PY
# python3.11 reads the same tree from disk.
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$L "$PY" -S "$T/app.py" >"$T/want" 2>&1
build "$T/app.py" --path "$L" -o "$T/app"
run "$T/app"
expect_eq "exit status" 0 "$RC"
expect_eq "same as python3.11 from disk" "$(cat "$T/want")" "$OUT"
expect_eq "no stderr" "" "$ERR"
expect_contains "sanity" "version 1.2 A fixture" "$OUT"
# Nothing is read from disk: the tree is gone.
mv "$L" "$L.gone"
run "$T/app"
expect_eq "without the tree on disk" "$(cat "$T/want")" "$OUT"
finish
