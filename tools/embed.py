"""embed.py NAME FILE: prints FILE as a C string constant named NAME, so that
Python code kept in .py files is built into C: src/launcher/py/ into the
launcher, src/builder/py/ into kiln (which sends it to the compile server)."""
import sys

name, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    text = f.read()
out = [f"/* Generated from {path} by tools/embed.py; do not edit. */",
       f"static const char {name}[] ="]
for line in text.splitlines(keepends=True):
    escaped = (line.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("\t", "\\t"))
    out.append(f'    "{escaped}"')
if len(out) == 2:
    out.append('    ""')
out[-1] += ";"
print("\n".join(out))
