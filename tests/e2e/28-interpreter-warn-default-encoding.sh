# -X warn_default_encoding reaches sys.flags and io in interpreter mode, as
# under python3 (CPython 3.11 drops it when the launcher has read the
# config before initializing).
. "$(dirname "$0")/lib.sh"
build --interpreter -o "$T/py"
code='import sys, io; print(sys.flags.warn_default_encoding); io.text_encoding(None)'
for args in "-X warn_default_encoding" "-X dev -X warn_default_encoding" ""; do
    run "$PY" $args -c "$code"
    want_out=$OUT want_err=$ERR
    run "$T/py" $args -c "$code"
    expect_eq "flag: $args" "$want_out" "$OUT"
    expect_eq "warning: $args" "$want_err" "$ERR"
done
finish
