# server_scan.py - compile-server op SCAN: what a module imports, and whether
# it reads files beside its __file__, from one ast pass over its source
# (arg_data). arg_name is the module's dotted name; bit 0 of arg_flags says
# it is a package, against which its relative imports resolve. Answer lines:
#   I <guarded> <line> <name>   `import name`, or the X of `from X import a`
#   A <guarded> <line> <name>   X.a of `from X import a`: a submodule or an
#                               attribute of X
#   F <guarded> <line>          the first use of __file__ or __path__ in path
#                               arithmetic (os.path.dirname(__file__), open(),
#                               pathlib.Path(__file__), __path__[0], ...)
#   H 0 <line>                  the first use of sys.meta_path: the module
#                               may install an import hook, whose names kiln
#                               cannot know (setuptools' `extern` packages)
# Names are absolute; a relative import that climbs above the top-level
# package keeps its dots (".x"), as python cannot import it either.
# <guarded> is 2 for code under `if __name__ == "__main__":`, which runs only
# when the module is what python runs (at most one F line has 0, one 2).
# It is 1 when the code expects the import to fail on some systems:
# - in the body of a `try` one of whose handlers catches ImportError,
#   ModuleNotFoundError, Exception or BaseException, or is bare; in such a
#   handler's own body (the fallback) and in the `else:` of that try (which
#   runs only when the optional import worked);
# - in the body of `with suppress(<one of those>)`;
# - in either branch of an `if`/`elif` whose test reads the platform or the
#   version: sys.platform, sys.version_info, sys.implementation, os.name,
#   platform.*, TYPE_CHECKING, or a flag named like PY2, PY3, WINDOWS,
#   IS_WIN, PYPY, MACOS; or a name that guarded code binds before
#   (`try: import simplejson; HAS_SJ = True ...`, then `if HAS_SJ:`).
# Imports inside functions count like the others: they run when called.
# Dynamic imports (importlib.import_module, __import__) are not seen. A
# source that does not parse gives nothing (compiling it reports the error).
# Snippets run in a fresh namespace with arg_name (str), arg_data (bytes)
# and arg_flags (int) and leave their answer, a str, in `result`.
import ast, gc, re

IMPORT_ERRORS = {'ImportError', 'ModuleNotFoundError', 'Exception',
                 'BaseException'}
FLAG_NAME = re.compile(r'_?(is_|on_|)(py\d+k?|pypy|jython|cpython|windows|'
                       r'win32|win|mswindows|macos|darwin|osx|linux|posix|'
                       r'cygwin|type_checking)$', re.I)
SYS_ATTRS = {'platform', 'version_info', 'implementation', 'hexversion',
             'maxsize', 'byteorder', 'version', 'getwindowsversion'}
# Calls whose result is a path (or a file) when given __file__.
PATH_CALLS = {'dirname', 'abspath', 'realpath', 'normpath', 'join', 'split',
              'splitext', 'relpath', 'commonpath', 'exists', 'lexists',
              'isfile', 'isdir', 'getsize', 'getmtime', 'listdir',
              'scandir', 'walk', 'glob', 'iglob', 'open', 'Path', 'PurePath',
              'PosixPath', 'stat', 'chdir', 'fspath', 'resource_filename'}
# String methods that cut a path out of __file__ ("x.py".rsplit("/", 1)).
PATH_METHODS = {'rsplit', 'rpartition', 'replace', 'rfind', 'rindex',
                'split', 'partition', 'rstrip'}
LOCATIONS = {'__file__', '__path__'}


def dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ''
    parts.append(node.id)
    return '.'.join(reversed(parts))


def catches_import_error(handler):
    if handler.type is None:
        return True
    types = (handler.type.elts if isinstance(handler.type, ast.Tuple)
             else [handler.type])
    return any(dotted(t).rpartition('.')[2] in IMPORT_ERRORS for t in types)


def suppresses_import_error(item):
    call = item.context_expr
    return (isinstance(call, ast.Call) and
            dotted(call.func).rpartition('.')[2] == 'suppress' and
            any(dotted(a).rpartition('.')[2] in IMPORT_ERRORS
                for a in call.args))


def guard_test(test, optional):
    for node in ast.walk(test):
        if isinstance(node, ast.Name):
            if (node.id in SYS_ATTRS or node.id in optional or
                    FLAG_NAME.match(node.id)):
                return True
        elif isinstance(node, ast.Attribute):
            base = dotted(node.value)
            if (FLAG_NAME.match(node.attr) or base == 'platform' or
                    (base == 'sys' and node.attr in SYS_ATTRS) or
                    (base == 'os' and node.attr in ('name', 'uname'))):
                return True
    return False


def is_location(node):
    return ((isinstance(node, ast.Name) and node.id in LOCATIONS) or
            (isinstance(node, ast.Attribute) and node.attr in LOCATIONS))


def uses_location(node):
    # basename(__file__) is a name, not a place: its subtree does not count.
    if isinstance(node, ast.Call) and (
            dotted(node.func).rpartition('.')[2] == 'basename'):
        return False
    if is_location(node):
        return True
    return any(uses_location(child) for child in ast.iter_child_nodes(node))


def path_use(node):
    if isinstance(node, ast.Call):
        name = dotted(node.func).rpartition('.')[2]
        if name == 'resource_filename':
            return True
        if name in PATH_CALLS:
            return any(uses_location(a) for a in node.args) or any(
                uses_location(k.value) for k in node.keywords)
        return (isinstance(node.func, ast.Attribute) and
                node.func.attr in PATH_METHODS and
                is_location(node.func.value))
    return (isinstance(node, ast.Subscript) and is_location(node.value) and
            isinstance(node.ctx, ast.Load))  # not `__path__[:] = ...`


def package_of(level):
    base = arg_name if arg_flags & 1 else arg_name.rpartition('.')[0]
    parts = base.split('.') if base else []
    if level > len(parts):
        return None
    return '.'.join(parts[:len(parts) - level + 1])


def main_test(test):
    """Is test `__name__ == '__main__'`?"""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and
            isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return (any(isinstance(s, ast.Name) and s.id == '__name__'
                for s in sides) and
            any(isinstance(s, ast.Constant) and s.value == '__main__'
                for s in sides))


def bind(node, optional):
    """Adds to optional the names that the statement node binds."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        optional.update((a.asname or a.name).partition('.')[0]
                        for a in node.names)
    elif isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [
            node.target]
        for target in targets:
            for n in ast.walk(target):
                if isinstance(n, ast.Name):
                    optional.add(n.id)


class Scan:
    """One module's scan: the answer lines, the bodies under
    `if __name__ == "__main__"`, and the names guarded code binds."""

    def __init__(self):
        self.out, self.main_only, self.optional = [], [], set()

    def add(self, kind, guarded, line, name):
        self.out.append('%s %d %d %s\n' % (kind, guarded, line, name))

    def imports_from(self, node, guarded):
        base = package_of(node.level) if node.level else node.module
        if base is None:  # above the top-level package
            dots = '.' * node.level
            for name in [node.module] if node.module else [
                    a.name for a in node.names]:
                self.add('I', guarded, node.lineno, dots + name)
            return
        if node.level and node.module:
            base = base + '.' + node.module if base else node.module
        if base:
            self.add('I', guarded, node.lineno, base)
        for alias in node.names:
            if alias.name != '*':
                self.add('A', guarded, node.lineno,
                         base + '.' + alias.name if base else alias.name)

    def visit(self, body, guarded):
        for node in body:
            kind = type(node)
            if guarded == 1:
                bind(node, self.optional)
            if kind is ast.Import:
                for alias in node.names:
                    self.add('I', guarded, node.lineno, alias.name)
            elif kind is ast.ImportFrom:
                self.imports_from(node, guarded)
            elif kind is ast.Try or kind is getattr(ast, 'TryStar', None):
                catching = [catches_import_error(h) for h in node.handlers]
                inner = 1 if any(catching) else guarded
                self.visit(node.body, inner)
                for handler, catches in zip(node.handlers, catching):
                    self.visit(handler.body, 1 if catches else guarded)
                self.visit(node.orelse, inner)
                self.visit(node.finalbody, guarded)
            elif kind is ast.If:
                inner = 1 if guard_test(node.test, self.optional) else guarded
                if main_test(node.test):
                    self.main_only.extend(node.body)
                    self.visit(node.body, inner or 2)
                else:
                    self.visit(node.body, inner)
                self.visit(node.orelse, inner)
            elif kind is ast.With or kind is ast.AsyncWith:
                self.visit(node.body, 1 if any(
                    suppresses_import_error(i) for i in node.items)
                    else guarded)
            elif kind is ast.Match:
                for case in node.cases:
                    self.visit(case.body, guarded)
            else:  # def, class, for, while: their bodies
                self.visit(getattr(node, 'body', ()), guarded)
                self.visit(getattr(node, 'orelse', ()), guarded)

    def path_uses(self, tree):
        in_main = {id(n) for part in self.main_only for n in ast.walk(part)}
        lines = {0: [], 2: []}
        for n in ast.walk(tree):
            if path_use(n):
                lines[2 if id(n) in in_main else 0].append(n.lineno)
        for guarded in (0, 2):
            if lines[guarded]:
                self.out.append('F %d %d\n' % (guarded,
                                                min(lines[guarded])))


def scan(source):
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ''
    s = Scan()
    s.visit(tree.body, 0)
    if (b'__file__' in source or b'__path__' in source or
            b'resource_filename' in source):
        s.path_uses(tree)
    if b'meta_path' in source:
        hooks = [n.lineno for n in ast.walk(tree)
                 if isinstance(n, ast.Attribute) and n.attr == 'meta_path'
                 and dotted(n.value) == 'sys']
        if hooks:
            s.out.append('H 0 %d\n' % min(hooks))
    return ''.join(s.out)


# The tree holds no cycles: the collector would only walk it again and again.
gc.disable()
try:
    result = scan(arg_data)
finally:
    gc.enable()
