# server_scan.py - compile-server op SCAN: the top-level names that a source
# (arg_data) imports absolutely, one a line, found with ast; a source that
# does not parse imports nothing (compiling it reports the error).
# Snippets run in a fresh namespace with arg_name (str) and arg_data
# (bytes) and leave their answer, a str, in `result`.
import ast
names = set()
try:
    tree = ast.parse(arg_data)
except (SyntaxError, ValueError):
    tree = None
for node in ast.walk(tree) if tree else ():
    if isinstance(node, ast.Import):
        names.update(a.name.partition('.')[0] for a in node.names)
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
        names.add(node.module.partition('.')[0])
result = ''.join(n + '\n' for n in sorted(names))
