"""conformance-report.py - compares two runs of CPython's test suite made by
tools/conformance-run.sh (a target python and a kiln interpreter of it),
module by module, and writes the target's section of docs/conformance.md,
or with --check only checks them.

    conformance-report.py [--check] [--out FILE] [--version X.Y] [--name NAME]
                          [--python PATH] PY3_DIR KILN_DIR DIFFS

DIFFS (tests/conformance/differences.txt) explains differences, a line
each: "MODULE[@VERSIONS]<TAB>KIND<TAB>REASON", VERSIONS limiting the line
to some versions (3.12, 3.12+, 3.11-, comma-separated), KIND being
"expected" (kiln differs from python on purpose or by nature), "kiln-bug"
(not fixed yet) or "flaky" (differs from run to run under python too);
and "fixed" lines name the kiln bugs the suite found and that are fixed,
with the end-to-end test that catches each. A module that passes under
python and not under kiln, with no line for the target's version, fails
the check; a known kiln bug is listed by the check, and does not fail it.
"""
import argparse
import collections
import os
import re
import sys
import xml.etree.ElementTree as ET

# "0:01:02 load avg: 1.23 [ 12/431/2] test_x failed (2 errors) -- running: ..",
# "... [ 15/469] test.test_asyncio.test_server passed" (3.12+ splits packages)
PROGRESS = re.compile(r"^\d+:\d\d:\d\d (?:load avg: [\d.]+ )?"
                      r"\[\s*\d+/\d+(?:/\d+)?\] (?:test\.)?(test_[\w.]+) (.*)$")
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
            if len(parts) > 2 and parts[0] == "test":
                parts = parts[1:]
            # 3.12+ splits big packages: test_asyncio.test_tasks is a module
            module = parts[0]
            while len(parts) > 2 and f"{module}.{parts[1]}" in outcomes:
                module = f"{module}.{parts[1]}"
                parts = [module] + parts[2:]
            parts = ["test"] + parts
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


def version_key(text):
    return tuple(int(x) for x in text.split("."))


def applies(spec, version):
    """Whether a differences.txt qualifier covers version X.Y: "" (every
    version), or a comma-separated list of X.Y, X.Y+ (and later), X.Y-
    (and earlier)."""
    if not spec:
        return True
    here = version_key(version)
    for item in spec.split(","):
        item = item.strip()
        if item.endswith("+") and here >= version_key(item[:-1]):
            return True
        if item.endswith("-") and here <= version_key(item[:-1]):
            return True
        if item[-1:].isdigit() and here == version_key(item):
            return True
    return False


def read_diffs(path, version=None):
    """The differences that apply to version X.Y (all of them when None):
    {module: (kind, reason)}, and the fixed bugs [(module, what)]."""
    diffs, fixed = {}, []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            module, _, spec = parts[0].partition("@")
            if len(parts) != 3 or parts[1] not in KINDS or \
                    not parts[2].strip() or \
                    not re.fullmatch(r"(\d+\.\d+[+-]?)?(,\d+\.\d+[+-]?)*", spec):
                sys.exit(f"conformance: {path}:{number}: expected "
                         f"'MODULE[@X.Y[+|-],...]<TAB>{'|'.join(KINDS)}"
                         f"<TAB>REASON', got {line!r}")
            if version and not applies(spec, version):
                continue
            if parts[1] == "fixed":
                fixed.append((module, parts[2]))
            elif module in diffs:  # several lines: all reasons, and a
                kind, reason = diffs[module]  # kiln-bug is a kiln-bug
                if parts[1] == "kiln-bug":
                    kind = parts[1]
                diffs[module] = (kind, f"{reason}; {parts[2]}")
            else:
                diffs[module] = (parts[1], parts[2])
    return diffs, fixed


def lookup(diffs, module):
    """A module's line in differences.txt: its own, or its package's
    (test_inspect for 3.12's test_inspect.test_inspect)."""
    return diffs.get(module) or diffs.get(module.split(".")[0])


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


MARK = "<!-- conformance: {} -->"
MARK_RE = re.compile(r"^<!-- conformance: (\S+) -->$", re.M)


def sysinfo_value(sysinfo, key):
    for line in sysinfo.splitlines():
        if line.startswith(key + " "):
            return line[len(key) + 1:]
    return ""


def head(diffs_path, ignored):
    """The part of docs/conformance.md before the sections: how the runs
    are made, and what the suite found, fixed (from the files in
    tests/conformance, the same for every target)."""
    _, fixed = read_diffs(diffs_path)
    out = []
    w = out.append
    w("# Conformance: CPython's test suite in a kiln interpreter\n")
    w("Written by tools/conformance-report.py (`make conformance PY=NAME`) "
      "from the runs of tools/conformance-run.sh; do not edit by hand. "
      "Each section below is the last full run for one target python; "
      "a run rewrites its own section only.\n")
    w("Every test module of the target's test suite (Debian's "
      "`libpython3.11-testsuite` for /usr/bin/python3.11; the `test` "
      "folder and the test packages of the stdlib folder for pyenv's "
      "installations) ran twice with `-m test -j2`:\n")
    w("- **python3**: `PYTHON -I -S -m test`, the target python, with the "
      "suite from its stdlib folder;")
    w("- **kiln**: `/path/to/pythonX.Y -I -S -m test`, a kiln interpreter "
      "of the same python (`kiln build --interpreter --python NAME`) whose "
      "stdlib and extension modules come from memory. Only the suite is "
      "read from disk: its `lib/pythonX.Y` folder, which a kiln "
      "interpreter searches after its packed stdlib (as python its stdlib "
      "folder, also under -I), holds nothing but symlinks to the suite's "
      "folders: `test`, and the test packages inside stdlib packages "
      "(`ctypes/test`, `unittest/test`, ... up to 3.11), which join their "
      "packed package's `__path__`.\n")
    w("Both in a clean environment, with regrtest's default resources "
      "(network, cpu, largefile and the like denied), `--timeout 1200`.\n")
    if ignored:
        w("Test cases left out of both runs (`--ignore`, from "
          "tests/conformance/ignore.txt), for what the machine decides:\n")
        for pattern, why in ignored:
            w(f"- `{pattern}`: {md(why)}")
        w("")
    w("Expected differences are in tests/conformance/differences.txt, a "
      "line each, `MODULE[@VERSIONS]`, kind and reason; `@3.12+`, "
      "`@3.10`, `@3.11-` limit a line to those versions.\n")
    w("## Kiln bugs the suite found, fixed\n")
    w("| found by | bug and fix |")
    w("|---|---|")
    for name, what in fixed:
        w(f"| {name} | {md(what)} |")
    w("")
    return "\n".join(out) + "\n"


def merge(path, top, name, section):
    """docs/conformance.md with `top` as its head and `section` in place
    of NAME's old one; the sections sorted by version."""
    sections = {}
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        text = ""
    marks = list(MARK_RE.finditer(text))
    for i, m in enumerate(marks):
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        sections[m.group(1)] = text[m.start():stop].rstrip("\n") + "\n"
    sections[name] = section

    def order(key):
        first = sections[key].splitlines()[1] if "\n" in sections[key] else ""
        m = re.search(r"CPython (\d+\.\d+)", first)
        return (version_key(m.group(1)) if m else (99,), key)
    return top.rstrip("\n") + "\n\n" + "\n".join(
        sections[k] for k in sorted(sections, key=order))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="only check: exit 1 on an unexplained difference")
    ap.add_argument("--out", default="docs/conformance.md")
    ap.add_argument("--ignored", help="tests/conformance/ignore.txt: test "
                    "cases left out of both runs, listed in the report")
    ap.add_argument("--version", default="3.11",
                    help="the target's X.Y: which differences apply")
    ap.add_argument("--name", default="3.11",
                    help="the target's NAME (BUILD/targets.txt): its "
                    "section of the report")
    ap.add_argument("--python", default="/usr/bin/python3.11",
                    help="the target python's path, for the report")
    ap.add_argument("--note", help="a line on how this run differs from "
                    "`make conformance`, for the report")
    ap.add_argument("py3")
    ap.add_argument("kiln")
    ap.add_argument("diffs")
    args = ap.parse_args()

    py3, py3_cases, py3_wall, py3_sys, _ = read_run(args.py3)
    kiln, kiln_cases, kiln_wall, kiln_sys, commit = read_run(args.kiln)
    diffs, _ = read_diffs(args.diffs, args.version)
    modules = sorted(set(py3) | set(kiln))
    if not modules:
        sys.exit("conformance: no test results in the logs")

    differing, unexplained = [], []
    for name in modules:
        a, b = py3.get(name, "not-run"), kiln.get(name, "not-run")
        if a == b:
            continue
        differing.append(name)
        if a == "pass" and not lookup(diffs, name):
            unexplained.append(name)

    if args.check:
        for name in differing:
            kind, reason = lookup(diffs, name) or ("unexplained", "")
            print(f"  {name}: python3 {py3.get(name, 'not-run')}, kiln "
                  f"{kiln.get(name, 'not-run')} ({kind}{': ' if reason else ''}"
                  f"{reason})")
            for case, message in kiln_cases.get(name, [])[:5]:
                print(f"      {case}: {message[:200]}")
        passed = sum(1 for n in modules if kiln.get(n) == "pass")
        print(f"conformance: CPython {args.name}: {len(modules)} modules, "
              f"{passed} pass under kiln, {len(differing)} differ from "
              f"python3, {len(unexplained)} unexplained")
        return 1 if unexplained else 0

    out = []
    w = out.append
    full = sysinfo_value(py3_sys, "sys.version") or args.version
    w(MARK.format(args.name))
    w(f"## CPython {args.version}: {full}, `{args.python}`\n")
    if commit:
        w(f"The kiln interpreter was built from commit `{commit}`.\n")
    if args.note:
        w(f"Note: {md(args.note)}\n")
    w("Where things came from:\n")
    w("```\n# python3\n" + py3_sys + "\n# kiln\n" + kiln_sys + "\n```\n")
    w("### Totals\n")
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
    n_expected = sum(1 for n in differing if (lookup(diffs, n) or ("",))[0] == "expected")
    n_bug = sum(1 for n in differing if (lookup(diffs, n) or ("",))[0] == "kiln-bug")
    n_flaky = sum(1 for n in differing if (lookup(diffs, n) or ("",))[0] == "flaky")
    w(f"**{len(differing)} modules differ**: {n_expected} expected "
      f"differences, {n_bug} kiln bugs, {n_flaky} flaky, "
      f"{len(differing) - n_expected - n_bug - n_flaky} unexplained. "
      f"Modules that "
      f"pass under python3 but not under kiln without a line in "
      f"tests/conformance/differences.txt: {len(unexplained)}.\n")
    w("### Differences\n")
    w("| module | python3 | kiln | kind | reason |")
    w("|---|---|---|---|---|")
    for name in differing:
        kind, reason = lookup(diffs, name) or ("unexplained", "")
        if not reason:
            seen = {c for c, _ in py3_cases.get(name, [])}
            only = [(c, m) for c, m in kiln_cases.get(name, [])
                    if c not in seen]
            reason = "; ".join(f"{c}: {m[:120]}" for c, m in only[:3]) or \
                "(no failing test case recorded)"
        w(f"| {name} | {py3.get(name, 'not-run')} | "
          f"{kiln.get(name, 'not-run')} | {kind} | {md(reason)} |")
    ran = set(modules) | {n.split(".")[0] for n in modules}
    stale = sorted(set(diffs) & ran - set(differing) -
                   {n.split(".")[0] for n in differing})
    if stale:
        w(f"\nListed for {args.version} in tests/conformance/differences.txt "
          f"but the same in this run (flaky, or fixed since): "
          + ", ".join(stale) + ".")
    w("\n### All modules\n")
    w("| module | python3 | kiln |")
    w("|---|---|---|")
    for name in modules:
        a, b = py3.get(name, "not-run"), kiln.get(name, "not-run")
        mark = "" if a == b else " **≠**"
        w(f"| {name} | {a} | {b}{mark} |")
    section = "\n".join(out) + "\n"
    ignored = read_ignored(args.ignored) if args.ignored else []
    text = merge(args.out, head(args.diffs, ignored), args.name, section)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"conformance: wrote CPython {args.name}'s section of {args.out}: "
          f"{len(modules)} modules, {len(differing)} differ ({n_expected} "
          f"expected, {n_bug} kiln bugs), {len(unexplained)} pass under "
          f"python3 only, not expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
