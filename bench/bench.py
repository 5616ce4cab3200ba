"""bench.py BUILD [TARGET] - kiln against the target's python, side by
side, in one run. TARGET names a line of BUILD/targets.txt (3.12); the
default is its first line, Debian's python3.11.

Debian's /usr/bin/python3.11 is built with PGO and LTO; the static
libpython3.11.a that kiln embeds is not. pyenv's pythons are shared-library
builds without PGO. The "same libpython" rows run a plain python3 linked
against the very library the launcher embeds, so that the importer's
effect is measured on the same interpreter build.

Rows: `-c pass`, a hello app, importing (nearly) the whole stdlib, the build
itself, and the executable's size. For each: instruction counts from
callgrind (stable on a noisy machine) and wall-clock medians and minimums from hyperfine (in alternating rounds),
with kiln's ratio to `python -I -S`. Writes BUILD/bench/results-TARGET.md.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def target(build, name):
    """(name, python) of BUILD/targets.txt's line name, or its first."""
    with open(os.path.join(build, "targets.txt")) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    for row in rows:
        if name in (None, row[0]):
            return row[0], row[2]
    sys.exit(f"bench: no target {name} in {build}/targets.txt; there are: "
             + ", ".join(r[0] for r in rows))


def stdlib_imports(py, work):
    """import_stdlib.py was made with Debian's 3.11; another installation
    gets the same kind of list from its own sys.stdlib_module_names."""
    out = os.path.join(work, "import_stdlib.py")
    sh([py, "-I", "-S", os.path.join(HERE, "stdlib_list.py"), out])
    return out


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def instructions(cmd):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        res = subprocess.run(["valgrind", "--tool=callgrind",
                              f"--callgrind-out-file={out}"] + cmd,
                             capture_output=True, text=True)
        m = re.search(r"Collected : (\d+)", res.stderr)
        if res.returncode != 0 or not m:
            sys.exit(f"bench: callgrind failed for {cmd}:\n{res.stderr}")
        return int(m.group(1))


def wall_times(cmds, runs):
    """Wall times in ms, per command. hyperfine runs them in rounds of two
    runs each that alternate between the commands, so that a slow spell of
    a shared machine falls on all of them alike."""
    times = [[] for _ in cmds]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "h.json")
        for _ in range(max(1, runs // 2)):
            sh(["hyperfine", "-N", "--warmup", "1", "--runs", "2",
                "--export-json", out] + cmds)
            with open(out) as f:
                for acc, res in zip(times, json.load(f)["results"]):
                    acc.extend(t * 1000 for t in res["times"])
    return times


def medians(cmds, runs):
    return [statistics.median(t) for t in wall_times(cmds, runs)]


def row(name, kiln_cmd, baselines, runs):
    """baselines: [(label, cmd)]; the first is the ratio's reference."""
    cmds = [kiln_cmd] + [c for _, c in baselines]
    times = wall_times([" ".join(c) for c in cmds], runs)
    med = [statistics.median(t) for t in times]
    low = [min(t) for t in times]
    ir = [instructions(c) for c in cmds]
    lines = []
    for (label, _), m, lo, i in zip([("kiln", kiln_cmd)] + baselines, med,
                                    low, ir):
        lines.append(f"| {name} | {label} | {i / 1e6:,.1f} M | {i / ir[1]:.2f}x"
                     f" | {m:.1f} ms | {m / med[1]:.2f}x"
                     f" | {lo:.1f} ms | {lo / low[1]:.2f}x |")
    return lines


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    name, PY = target(build, sys.argv[2] if len(sys.argv) > 2 else None)
    label = os.path.basename(PY)
    kiln = os.path.join(build, "kiln")
    work = os.path.join(build, "bench", name)
    os.makedirs(work, exist_ok=True)
    hello_py = os.path.join(work, "hello.py")
    with open(hello_py, "w") as f:
        f.write('print("hello")\n')
    version = sh([PY, "-I", "-S", "-c", "import sys; print(sys.version)"]).stdout
    stdlib_py = os.path.join(HERE, "import_stdlib.py")
    if PY != "/usr/bin/python3.11":  # its list has Debian's modules
        stdlib_py = stdlib_imports(PY, work)
    hello, stdlib, py = (os.path.join(work, n) for n in ("hello", "stdlib", "py"))
    same = os.path.join(build, "python-static-" + name)
    kb = f"{kiln} build -q --python {name}"

    cold_ms, warm_ms = medians(
        [f"env KILN_CACHE_DIR= {kb} {hello_py} -o {hello}",
         f"{kb} {hello_py} -o {hello}"], 5)
    sh(kb.split() + [stdlib_py, "-o", stdlib])
    sh(kb.split() + ["--interpreter", "-o", py])

    table = ["| benchmark | runner | instructions | vs -I -S | wall median"
             " | vs -I -S | wall min | vs -I -S |",
             "|---|---|---|---|---|---|---|---|"]
    def baselines(*args):
        return [(f"{label} -I -S", [PY, "-I", "-S", *args]),
                (label, [PY, *args]),
                ("same libpython -I -S", [same, "-I", "-S", *args])]

    table += row("-c pass", [py, "-I", "-S", "-c", "pass"],
                 baselines("-c", "pass"), 100)
    table += row("hello app", [hello], baselines(hello_py), 100)
    table += row("import stdlib", [stdlib], baselines(stdlib_py), 30)
    # a real app: Debian's mercurial, for Debian's python3.11
    if os.path.exists("/usr/bin/hg") and PY == "/usr/bin/python3.11":
        hg = os.path.join(work, "hg")
        os.environ.update(HGRCPATH="", XDG_CACHE_HOME=os.path.join(work, "cache"))
        sh(kb.split() + ["/usr/bin/hg", "--package", "mercurial", "-o", hg])
        sh([hg, "version", "-q"])  # the first run fills the extract cache
        table += row("hg version", [hg, "version", "-q"],
                     [("Debian's hg (python3.11)", ["/usr/bin/hg", "version", "-q"])], 30)
    size = os.path.getsize(hello)
    payload = size - os.path.getsize(os.path.join(build, "kiln-launcher-" + name))
    text = "\n".join(table) + "\n\n" + "\n".join([
        f"- target {name}: {PY}, CPython {' '.join(version.split())}",
        f"- build of the hello app, median of 5: {cold_ms:.0f} ms compiling the"
        f" whole stdlib (cache off), {warm_ms:.0f} ms from the bytecode cache",
        f"- executable size: {size / 1e6:.1f} MB ({payload / 1e6:.1f} MB payload)",
        f"- machine: {os.cpu_count()} cores; ratios below 1 mean kiln is faster",
    ] + ([
        "- hg version: `kiln build /usr/bin/hg --package mercurial`; its ratios"
        " are against Debian's own /usr/bin/hg, with the extract cache warm",
    ] if any(r.startswith("| hg version") for r in table) else [])) + "\n"
    with open(os.path.join(build, "bench", f"results-{name}.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
