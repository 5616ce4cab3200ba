# server_grammar.py - compile-server op GRAMMAR: lib2to3's grammars, pickled
# by the target Python. lib2to3 reads Grammar.txt from disk when it can,
# else the pickle beside it, which Debian does not ship. The server loads
# it once and calls grammars().
import os, tempfile, warnings


def grammars(folder):
    """One "NAME=HEX" line per grammar of the lib2to3 folder."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from lib2to3.pgen2 import driver, pgen
    lines = []
    for name in ('Grammar.txt', 'PatternGrammar.txt'):
        source = os.path.join(folder, name)
        if not os.path.isfile(source):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'grammar.pickle')
            pgen.generate_grammar(source).dump(path)
            with open(path, 'rb') as f:
                data = f.read()
        lines.append(driver._generate_pickle_name(name) + '=' + data.hex())
    return ''.join(line + '\n' for line in lines)
