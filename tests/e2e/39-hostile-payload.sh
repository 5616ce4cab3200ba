# Hostile payloads, forged past the writer with a valid index checksum
# (tests/tools/repack --forge), are refused by the launcher and by kiln
# inspect before anything runs, with a message naming the entry and the
# problem: a script with nothing to run, a main module that is not packed,
# names that would lead extraction outside its cache. Never a crash, never
# a file written outside the cache, never a raw control byte in a message.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/src/hpkg"
echo 'import os; print("hpkg", os.path.isfile(__file__))' >"$T/src/hpkg/__init__.py"
echo 'data' >"$T/src/hpkg/data.txt"
echo 'import hpkg; print("intact")' >"$T/app.py"
build "$T/app.py" --path "$T/src" --extract hpkg -o "$T/app"
export XDG_CACHE_HOME=$T/cache
run "$T/app"
expect_eq "intact: status" 0 "$RC"
expect_eq "intact: extracted" "hpkg True
intact" "$OUT"

# forged NAME WHAT MESSAGE EDIT...: forges $T/NAME from the app; the
# launcher and kiln inspect both refuse it with MESSAGE, and nothing runs.
forged() {
    local name=$1 what=$2 msg=$3
    shift 3
    if ! "$BUILD/repack" "$T/app" "$T/$name" --forge "$@"; then
        fail "$what: repack --forge $*"
        return
    fi
    run "$T/$name"
    expect_eq "$what: status" 1 "$RC"
    expect_contains "$what: message" "$msg" "$ERR"
    expect_contains "$what: what to do" "rebuild or re-download" "$ERR"
    expect_not_contains "$what: never runs" "intact" "$OUT"
    expect_not_contains "$what: no crash" "Segmentation" "$ERR"
    run "$KILN" inspect "$T/$name"
    expect_eq "$what: inspect status" 1 "$RC"
    expect_contains "$what: inspect message" "$msg" "$ERR"
    expect_not_contains "$what: inspect lists nothing" "all checksums" "$OUT"
}

# The main module.
forged nocode "script without code" \
    "the script's main module '__main__' (module entry" \
    module-flags __main__ 0
forged nomain "main module not packed" \
    "the main module 'gone' is not among the" main gone
forged emptymain "no main module" "the main module name '' is empty" main ""
forged interp "interpreter naming a main module" \
    "an interpreter payload names a main module ('__main__')" run 3

# File paths: extracting hpkg writes <cache>/hpkg-<hash>/<path>.
forged escape "file path with .." \
    "the name 'hpkg/../../../../../escaped.txt' has a '..' part" \
    file-name hpkg/data.txt hpkg/../../../../../escaped.txt
forged absolute "absolute file path" "is absolute (starts with '/')" \
    file-name hpkg/data.txt "$T/absolute.txt"
forged emptypart "file path with //" "has an empty part" \
    file-name hpkg/data.txt hpkg//data.txt
forged dotpart "file path with ." "has a '.' part" \
    file-name hpkg/data.txt hpkg/./data.txt
forged added "added file with .." "has a '..' part" \
    add-file hpkg/../../../../../added.txt pwned

# Module names and paths.
forged modpath "module path with .." \
    "('hpkg'): its path '../hpkg/__init__.py' has a '..' part" \
    module-path hpkg ../hpkg/__init__.py
forged modabs "absolute module path" "is absolute" \
    module-path hpkg /hpkg/__init__.py
forged modslash "module name with /" "the name 'hpkg/x' holds a '/'" \
    module-name hpkg hpkg/x
forged moddots "module name with an empty part" "has an empty dotted part" \
    module-name hpkg .hpkg

# A name in a message is escaped: it cannot fake a line or reach the
# terminal.
forged quoted "escaped name" \
    "'hpkg/../x\\nall checksums verified\\033[2J' has a '..' part" \
    file-name hpkg/data.txt $'hpkg/../x\nall checksums verified\033[2J'
expect_not_contains "no raw escape in the message" $'\033' "$ERR"
expect_not_contains "no line faked in the message" $'\nall checksums' "$ERR"

[ -e "$T/escaped.txt" ] && fail "a file was written outside the cache"
[ -e "$T/added.txt" ] && fail "an added file was written outside the cache"
[ -e "$T/absolute.txt" ] && fail "a file was written at an absolute path"
outside=$(cd "$T" && find . -name '*.txt' -not -path './src/*' -not -path './cache/kiln/extract/*')
expect_eq "nothing written outside the cache" "" "$outside"
finish
