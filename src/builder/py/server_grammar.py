# server_grammar.py - compile-server op GRAMMAR: lib2to3's grammars, pickled
# by the target Python, for the lib2to3 folder arg_name. lib2to3 reads
# Grammar.txt from disk when it can, else the pickle beside it, which
# Debian does not ship. One "NAME=HEX" line per grammar.
# Snippets run in a fresh namespace with arg_name (str), arg_data (bytes)
# and arg_flags (int) and leave their answer, a str, in `result`.
import os, tempfile, warnings
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from lib2to3.pgen2 import driver, pgen
lines = []
for name in ('Grammar.txt', 'PatternGrammar.txt'):
    source = os.path.join(arg_name, name)
    if not os.path.isfile(source):
        continue
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'grammar.pickle')
        pgen.generate_grammar(source).dump(path)
        with open(path, 'rb') as f:
            data = f.read()
    lines.append(driver._generate_pickle_name(name) + '=' + data.hex())
result = ''.join(line + '\n' for line in lines)
