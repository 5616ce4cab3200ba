# pkg_resources (setuptools' old API, Debian's python3-pkg-resources) sees
# packed distributions and resources: get_distribution, entry points,
# load_entry_point, require, resource_string/_stream/_listdir/_isdir and
# resource_filename (a real file), and a script's __requires__, answered
# as python3.11 answers from the same tree on disk.
. "$(dirname "$0")/lib.sh"
site=$T/site
mkdir -p "$site/demo_pkg/data" "$site/demo_pkg-1.2.dist-info"
: >"$site/demo_pkg/__init__.py"
printf 'def main():\n    return "demo main ran"\n' >"$site/demo_pkg/cli.py"
# Merely named pkg_resources: left alone.
echo 'shim = "a shim"' >"$site/demo_pkg/pkg_resources.py"
echo hello-data >"$site/demo_pkg/data/hello.txt"
printf 'Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2\n' \
    >"$site/demo_pkg-1.2.dist-info/METADATA"
printf '[console_scripts]\ndemo = demo_pkg.cli:main\n' \
    >"$site/demo_pkg-1.2.dist-info/entry_points.txt"
printf 'demo_pkg/__init__.py,,\ndemo_pkg/cli.py,,\ndemo_pkg/pkg_resources.py,,\ndemo_pkg/data/hello.txt,,\n' \
    >"$site/demo_pkg-1.2.dist-info/RECORD"
cat >"$T/app.py" <<'PY'
__requires__ = "demo-pkg>=1.0"
import os, warnings
warnings.simplefilter("ignore")
import pkg_resources as pr
d = pr.get_distribution("demo-pkg")
print(d.project_name, d.version)
print(sorted(ep.name for ep in pr.iter_entry_points("console_scripts")
             if ep.dist.project_name == "demo-pkg"))
print(pr.load_entry_point("demo-pkg", "console_scripts", "demo")())
print(pr.require("demo-pkg")[0].version)
print(pr.resource_string("demo_pkg", "data/hello.txt"))
print(pr.resource_stream("demo_pkg", "data/hello.txt").read())
print(pr.resource_exists("demo_pkg", "data/hello.txt"),
      pr.resource_exists("demo_pkg", "data/nothing.txt"),
      pr.resource_isdir("demo_pkg", "data"),
      pr.resource_listdir("demo_pkg", "data"))
for name in ("data/hello.txt", "data"):
    path = pr.resource_filename("demo_pkg", name)
    print(os.path.isfile(path), os.path.isdir(path))
print(open(pr.resource_filename("demo_pkg", "data/hello.txt")).read().strip())
new = pr.resource_filename("demo_pkg", "data/new.db")
print(new.endswith("/demo_pkg/data/new.db"), os.path.isdir(os.path.dirname(new)))
import demo_pkg.pkg_resources
print(demo_pkg.pkg_resources.shim)
PY
run env PYTHONPATH="$site:/usr/lib/python3/dist-packages" "$PY" -S "$T/app.py"
want=$OUT
expect_eq "python3.11 runs it" "0" "$RC"
build "$T/app.py" --site-packages "$site" --package pkg_resources -o "$T/app"
run "$T/app"
expect_eq "pkg_resources answers as under python3.11" "$want" "$OUT$ERR"
sed -i '1s/.*/__requires__ = "demo-pkg>=2"/' "$T/app.py"
build "$T/app.py" --site-packages "$site" --package pkg_resources -o "$T/app"
run "$T/app"
expect_eq "an unmet __requires__ fails" "1" "$RC"
expect_contains "naming the requirement" "demo-pkg>=2" "$ERR"
finish
