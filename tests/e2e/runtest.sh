# runtest.sh - run_test, sourced by run.sh and ../matrix.sh: runs one
# numbered test, counts it in passed or failed, and prints its line.
passed=0 failed=0

# run_test LABEL SCRIPT [VAR=VALUE...]: runs SCRIPT with those variables
# set and prints "ok|FAILED LABEL NAME TIME".
run_test() {
    local label=$1 script=$2 start result
    shift 2
    start=$(date +%s%N)
    if env "$@" bash "$script"; then
        result=ok; passed=$((passed + 1))
    else
        result=FAILED; failed=$((failed + 1))
    fi
    printf '%-6s %-8s %-32s %6d ms\n' "$result" "$label" \
        "$(basename "$script" .sh)" $((($(date +%s%N) - start) / 1000000))
}
