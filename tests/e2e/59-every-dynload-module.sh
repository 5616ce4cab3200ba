#!/bin/bash
# Every extension module of the target's lib-dynload that python imports,
# a packed app imports too, loaded from memory into the launcher: each
# needs only libpython's symbols, and the launcher links all of libpython
# (3.13's _interpreters needs a function that nothing else calls). Run
# for each installation by the version matrix. Test modules (_test*, xx*,
# _ctypes_test), which kiln never packs, are left out.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

"$PY" -I -S - >names.txt <<'EOF2'
import os, subprocess, sys, sysconfig
dynload = sysconfig.get_config_var('DESTSHARED')
suffix = sysconfig.get_config_var('EXT_SUFFIX')
names = sorted(f[:-len(suffix)] for f in os.listdir(dynload)
               if f.endswith(suffix) and not f.startswith(('_test', '_xx', 'xx', '_ctypes_test')))
for name in names:
    # Each in a child: some print, and a failed one must not stop the rest.
    if subprocess.run([sys.executable, '-I', '-S', '-c', 'import ' + name],
                      capture_output=True).returncode == 0:
        print(name)
EOF2
[ -s names.txt ] || { fail "python imports no lib-dynload module"; exit 1; }
{
    echo 'import importlib, sys, warnings'
    echo 'warnings.simplefilter("ignore")  # 3.12: audioop, nis... are deprecated'
    echo 'for name in sys.argv[1:]:'
    echo '    try:'
    echo '        importlib.import_module(name)'
    echo '    except Exception as e:'
    echo '        print("FAILED", name, e)'
    echo 'print("imported", len(sys.argv) - 1)'
    # What the app imports by name only must be packed: name them all.
    sed 's/^/import /; s/$/ as _/' names.txt | sed 's/^/if 0: /'
} >app.py
build app.py -o app || exit 1
run ./app $(cat names.txt)
expect_eq "every lib-dynload module python imports" \
    "imported $(wc -l <names.txt)" "$OUT$ERR"

exit $((FAILS > 0))
