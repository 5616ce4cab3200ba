"""conformance-report.py - compares two runs of CPython's test suite made by
tools/conformance-run.sh (python3.11 and a kiln interpreter), module by
module, and writes docs/conformance.md, or with --check only checks them.

    conformance-report.py [--check] [--out FILE] PY3_DIR KILN_DIR DIFFS

DIFFS (tests/conformance/differences.txt) explains differences, a line
each: "MODULE<TAB>KIND<TAB>REASON", KIND being "expected" (kiln differs
from python3 on purpose or by nature), "kiln-bug" (not fixed yet) or
"flaky" (differs from run to run under python3.11 too); and
"fixed" lines name the kiln bugs the suite found and that are fixed, with
the end-to-end test that catches each. A module that passes under python3
and not under kiln, with no "expected" line, fails the check.
"""
import argparse
import collections
import os
import re
import sys
import xml.etree.ElementTree as ET

# "0:01:02 load avg: 1.23 [ 12/431/2] test_x failed (2 errors) -- running: .."
PROGRESS = re.compile(r"^\d+:\d\d:\d\d (?:load avg: [\d.]+ )?"
                      r"\[\s*\d+/\d+(?:/\d+)?\] (test_\w+) (.*)$")
OUTCOMES = [  # regrtest's words -> ours, most specific first
    ("passed", "pass"),
    ("failed (env changed)", "env-changed"),
    ("failed", "fail"),
    ("skipped (resource denied)", "resource-denied"),
    ("skipped", "skip"),
    ("ran no tests", "no-tests"),
    ("crashed", "crash"),
    ("timed out", "timeout"),
    ("interrupted", "interrupted"),
]
ORDER = [o for _, o in OUTCOMES] + ["not-run"]
KINDS = ("expected", "kiln-bug", "flaky", "fixed")


def outcome_of(text):
    text = text.split(" -- running:")[0]
    for words, outcome in OUTCOMES:
        if text.startswith(words):
            return outcome
    return None


def read_run(folder):
    """Outcome per module, failing test cases per module, wall seconds."""
    log = os.path.join(folder, "regrtest.log")
    if not os.path.exists(log):
        sys.exit(f"conformance: {log} is missing: run "
                 f"tools/conformance-run.sh first")
    outcomes = {}
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = PROGRESS.match(line.rstrip("\n"))
            if m and outcome_of(m.group(2)):
                outcomes[m.group(1)] = outcome_of(m.group(2))
    cases = collections.defaultdict(list)
    junit = os.path.join(folder, "junit.xml")
    if os.path.exists(junit) and os.path.getsize(junit):
        try:
            root = ET.parse(junit).getroot()
        except ET.ParseError as e:
            print(f"conformance: {junit}: {e}; test case details left out",
                  file=sys.stderr)
            root = ET.Element("none")
        for case in root.iter("testcase"):
            bad = case.find("failure")
            if bad is None:
                bad = case.find("error")
            if bad is None:
                continue
            name = case.get("name", "")
            parts = name.split(".")
            module = parts[1] if len(parts) > 2 and parts[0] == "test" else parts[0]
            message = (bad.get("message") or bad.text or "").strip()
            message = message.splitlines()[-1] if message else bad.tag
            cases[module].append((".".join(parts[2:]) or name, message))
    wall = None
    try:
        with open(os.path.join(folder, "wall")) as f:
            wall = int(f.read().strip())
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(folder, "commit")) as f:
            commit = f.read().strip()
    except OSError:
        commit = ""
    sysinfo = ""
    try:
        with open(os.path.join(folder, "sys.txt"), encoding="utf-8") as f:
            sysinfo = f.read().strip()
    except OSError:
        pass
    return outcomes, cases, wall, sysinfo, commit


def read_diffs(path):
    diffs, fixed = {}, []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3 or parts[1] not in KINDS or not parts[2].strip():
                sys.exit(f"conformance: {path}:{number}: expected "
                         f"'MODULE<TAB>{'|'.join(KINDS)}<TAB>REASON', got "
                         f"{line!r}")
            if parts[1] == "fixed":
                fixed.append((parts[0], parts[2]))
            else:
                diffs[parts[0]] = (parts[1], parts[2])
    return diffs, fixed


def duration(seconds):
    if seconds is None:
        return "?"
    return f"{seconds // 60} min {seconds % 60:02d} s"


def md(text):
    return text.replace("|", "\\|").replace("\n", " ")


def read_ignored(path):
    """The (pattern, why) lines of tests/conformance/ignore.txt."""
    ignored = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                pattern, _, why = line.rstrip("\n").partition("\t")
                ignored.append((pattern, why))
    return ignored


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="only check: exit 1 on an unexplained difference")
    ap.add_argument("--out", default="docs/conformance.md")
    ap.add_argument("--ignored", help="tests/conformance/ignore.txt: test "
                    "cases left out of both runs, listed in the report")
    ap.add_argument("py3")
    ap.add_argument("kiln")
    ap.add_argument("diffs")
    args = ap.parse_args()

    py3, py3_cases, py3_wall, py3_sys, _ = read_run(args.py3)
    kiln, kiln_cases, kiln_wall, kiln_sys, commit = read_run(args.kiln)
    diffs, fixed = read_diffs(args.diffs)
    modules = sorted(set(py3) | set(kiln))
    if not modules:
        sys.exit("conformance: no test results in the logs")

    differing, unexplained = [], []
    for name in modules:
        a, b = py3.get(name, "not-run"), kiln.get(name, "not-run")
        if a == b:
            continue
        differing.append(name)
        if a == "pass" and diffs.get(name, ("",))[0] not in ("expected", "flaky"):
            unexplained.append(name)

    if args.check:
        for name in differing:
            kind, reason = diffs.get(name, ("unexplained", ""))
            print(f"  {name}: python3 {py3.get(name, 'not-run')}, kiln "
                  f"{kiln.get(name, 'not-run')} ({kind}{': ' if reason else ''}"
                  f"{reason})")
            for case, message in kiln_cases.get(name, [])[:5]:
                print(f"      {case}: {message[:200]}")
        passed = sum(1 for n in modules if kiln.get(n) == "pass")
        print(f"conformance: {len(modules)} modules, {passed} pass under "
              f"kiln, {len(differing)} differ from python3, "
              f"{len(unexplained)} unexplained")
        return 1 if unexplained else 0

    out = []
    w = out.append
    w("# Conformance: CPython's test suite in a kiln interpreter\n")
    w("Written by tools/conformance-report.py (`make conformance`) from the "
      "runs of tools/conformance-run.sh; do not edit by hand.\n")
    w("Every test module of Debian's `libpython3.11-testsuite` ran twice "
      "with `-m test -j2`:\n")
    w("- **python3**: `/usr/bin/python3.11 -I -S -m test`, the suite from "
      "its stdlib folder;")
    w("- **kiln**: `/path/to/python3.11 -I -S -m test`, a kiln interpreter "
      "(`kiln build --interpreter`) whose stdlib and extension modules come "
      "from memory. Only the suite is read from disk: its `lib/python3.11` "
      "folder, which a kiln interpreter searches after its packed stdlib "
      "(as python3 its stdlib folder, also under -I), holds nothing but "
      "symlinks to the suite's folders: `test`, and the test packages "
      "inside stdlib packages (`ctypes/test`, `unittest/test`, ...), which "
      "join their packed package's `__path__`.\n")
    w("Both in a clean environment, with regrtest's default resources "
      "(network, cpu, largefile and the like denied), `--timeout 1200`.\n")
    ignored = read_ignored(args.ignored) if args.ignored else []
    if ignored:
        w("Test cases left out of both runs (`--ignore`, from "
          "tests/conformance/ignore.txt), for what the machine decides:\n")
        for pattern, why in ignored:
            w(f"- `{pattern}`: {md(why)}")
        w("")
    if commit:
        w(f"The kiln interpreter was built from commit `{commit}`; fixes made "
          f"after it show as \"fixed after this run\" below.\n")
    w("Where things came from:\n")
    w("```\n# python3\n" + py3_sys + "\n# kiln\n" + kiln_sys + "\n```\n")
    w("## Totals\n")
    w("| outcome | python3 | kiln |")
    w("|---|---:|---:|")
    count_a = collections.Counter(py3.get(n, "not-run") for n in modules)
    count_b = collections.Counter(kiln.get(n, "not-run") for n in modules)
    for outcome in ORDER:
        if count_a[outcome] or count_b[outcome]:
            w(f"| {outcome} | {count_a[outcome]} | {count_b[outcome]} |")
    w(f"| **modules** | {len(modules)} | {len(modules)} |")
    w(f"| wall time (-j2) | {duration(py3_wall)} | {duration(kiln_wall)} |\n")
    w("Wall times include the modules that ran until regrtest's timeout "
      "(crash and timeout rows), which dominate when one hangs.\n")
    n_expected = sum(1 for n in differing if diffs.get(n, ("",))[0] == "expected")
    n_bug = sum(1 for n in differing if diffs.get(n, ("",))[0] == "kiln-bug")
    n_flaky = sum(1 for n in differing if diffs.get(n, ("",))[0] == "flaky")
    w(f"**{len(differing)} modules differ**: {n_expected} expected "
      f"differences, {n_bug} kiln bugs, {n_flaky} flaky, "
      f"{len(differing) - n_expected - n_bug - n_flaky} unexplained. "
      f"Modules that "
      f"pass under python3 but not under kiln without an expected "
      f"difference: {len(unexplained)}.\n")
    w("## Differences\n")
    w("| module | python3 | kiln | kind | reason |")
    w("|---|---|---|---|---|")
    for name in differing:
        kind, reason = diffs.get(name, ("unexplained", ""))
        if not reason:
            seen = {c for c, _ in py3_cases.get(name, [])}
            only = [(c, m) for c, m in kiln_cases.get(name, [])
                    if c not in seen]
            reason = "; ".join(f"{c}: {m[:120]}" for c, m in only[:3]) or \
                "(no failing test case recorded)"
        w(f"| {name} | {py3.get(name, 'not-run')} | "
          f"{kiln.get(name, 'not-run')} | {kind} | {md(reason)} |")
    stale = sorted(set(diffs) - set(differing))
    if stale:
        w("\nListed in tests/conformance/differences.txt but the same in "
          "this run (flaky, or fixed since): " + ", ".join(stale) + ".")
    w("\n## Kiln bugs the suite found, fixed\n")
    w("| found by | bug and fix |")
    w("|---|---|")
    for name, what in fixed:
        w(f"| {name} | {md(what)} |")
    w("\n## All modules\n")
    w("| module | python3 | kiln |")
    w("|---|---|---|")
    for name in modules:
        a, b = py3.get(name, "not-run"), kiln.get(name, "not-run")
        mark = "" if a == b else " **≠**"
        w(f"| {name} | {a} | {b}{mark} |")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"conformance: wrote {args.out}: {len(modules)} modules, "
          f"{len(differing)} differ ({n_expected} expected, {n_bug} kiln "
          f"bugs), {len(unexplained)} pass under python3 only, not expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
