# A distribution's file names cannot add lines to the compile server's
# answer: a name with a control character (a newline, say) is not packed,
# with a warning that shows it escaped, and every line of the answer stays
# one line (a RECORD row that names a missing file is reported, escaped).
# kiln takes a site= line only for a folder the server searched or a
# --site-packages folder, never a relative one, so "site=.." followed by
# "tree=loot" could not pack the builder's files anyway.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/ws/proj" "$T/sp/evil-1.0.dist-info"
echo 'TOP SECRET builder notes' >"$T/ws/loot"
echo 'SECRET two' >"$T/ws/loot2"
chmod 600 "$T/ws/loot" "$T/ws/loot2"
echo 'import evil' >"$T/ws/proj/main.py"
echo 'X=1' >"$T/sp/evil.py"
printf 'Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n' \
    >"$T/sp/evil-1.0.dist-info/METADATA"
"$PY" - "$T/sp" <<'PY'
import csv, os, sys
sp = sys.argv[1]
there = 'x\nsite=..\ntree=loot'           # a file that exists
missing = 'y\nsite=..\ntree=loot2\nnote='  # reported as missing: a skip= line
open(os.path.join(sp, there), 'w').close()
with open(sp + '/evil-1.0.dist-info/RECORD', 'w', newline='') as f:
    csv.writer(f).writerows([[r, '', ''] for r in ['evil.py', there, missing]])
PY
cd "$T/ws/proj" || exit 1
run "$KILN" build -q -v main.py --site-packages "$T/sp" -o app
expect_eq "build: status" 0 "$RC"
expect_contains "build: the name is refused, escaped" \
    "kiln: warning: skipping $T/sp/x\\nsite=..\\ntree=loot: its name holds a control character (a newline, say), so it is not packed; rename it" "$ERR"
expect_contains "build: the missing row is one line" \
    "kiln: skipped $T/sp/y\\nsite=..\\ntree=loot2\\nnote=: listed by evil 1.0, but missing" "$ERR"
run "$KILN" inspect app
expect_contains "inspect: evil packed" " evil.py" "$OUT"
expect_not_contains "inspect: no loot" "loot" "$OUT"
grep -aq 'TOP SECRET' app && fail "the builder's file loot is in the executable"
grep -aq 'SECRET two' app && fail "the builder's file loot2 is in the executable"
run ./app
expect_eq "app runs" 0 "$RC"
finish
