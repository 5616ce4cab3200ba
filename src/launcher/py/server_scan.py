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
# Names are absolute; a relative import that climbs above the top-level
# package keeps its dots (".x"), as python cannot import it either.
# <guarded> is 2 for code under `if __name__ == "__main__":`, which runs only
# when the module is what python runs (at most one F line has 0, one 2).
# It is 1 when the code expects the import to fail on some systems:
# - in the body of a `try` one of whose handlers catches ImportError,
#   ModuleNotFoundError, Exception or BaseException, or is bare; and in such
#   a handler's own body (the fallback);
# - in the body of `with suppress(<one of those>)`;
# - in either branch of an `if`/`elif` whose test reads the platform or the
#   version: sys.platform, sys.version_info, sys.implementation, os.name,
#   platform.*, TYPE_CHECKING, or a flag named like PY2, PY3, WINDOWS,
#   IS_WIN, PYPY, MACOS.
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


def platform_test(test):
    for node in ast.walk(test):
        if isinstance(node, ast.Name):
            if node.id in SYS_ATTRS or FLAG_NAME.match(node.id):
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
    return isinstance(node, ast.Subscript) and is_location(node.value)


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


def visit(body, guarded, out, main_only):
    for node in body:
        kind = type(node)
        if kind is ast.Import:
            for alias in node.names:
                out.append('I %d %d %s\n' % (guarded, node.lineno,
                                             alias.name))
        elif kind is ast.ImportFrom:
            base = package_of(node.level) if node.level else node.module
            if base is None:  # above the top-level package
                dots = '.' * node.level
                for alias in ([] if node.module else node.names):
                    out.append('I %d %d %s%s\n' % (guarded, node.lineno,
                                                   dots, alias.name))
                if node.module:
                    out.append('I %d %d %s%s\n' % (guarded, node.lineno,
                                                   dots, node.module))
                continue
            if node.level and node.module:
                base = base + '.' + node.module if base else node.module
            if base:
                out.append('I %d %d %s\n' % (guarded, node.lineno, base))
            for alias in node.names:
                if alias.name != '*':
                    out.append('A %d %d %s%s\n' % (
                        guarded, node.lineno, base + '.' if base else '',
                        alias.name))
        elif kind is ast.Try or kind is getattr(ast, 'TryStar', None):
            catching = [catches_import_error(h) for h in node.handlers]
            visit(node.body, 1 if any(catching) else guarded, out, main_only)
            for handler, catches in zip(node.handlers, catching):
                visit(handler.body, 1 if catches else guarded, out,
                      main_only)
            visit(node.orelse, guarded, out, main_only)
            visit(node.finalbody, guarded, out, main_only)
        elif kind is ast.If:
            inner = 1 if platform_test(node.test) else guarded
            if main_test(node.test):
                main_only.extend(node.body)
                visit(node.body, inner or 2, out, main_only)
            else:
                visit(node.body, inner, out, main_only)
            visit(node.orelse, inner, out, main_only)
        elif kind is ast.With or kind is ast.AsyncWith:
            visit(node.body, 1 if any(suppresses_import_error(i)
                                      for i in node.items) else guarded,
                  out, main_only)
        elif kind is ast.Match:
            for case in node.cases:
                visit(case.body, guarded, out, main_only)
        else:  # def, class, for, while: their bodies
            visit(getattr(node, 'body', ()), guarded, out, main_only)
            visit(getattr(node, 'orelse', ()), guarded, out, main_only)


def scan(source):
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ''
    out, main_only = [], []
    visit(tree.body, 0, out, main_only)
    if (b'__file__' in source or b'__path__' in source or
            b'resource_filename' in source):
        in_main = {id(n) for part in main_only for n in ast.walk(part)}
        lines = {0: [], 2: []}
        for n in ast.walk(tree):
            if path_use(n):
                lines[2 if id(n) in in_main else 0].append(n.lineno)
        for guarded in (0, 2):
            if lines[guarded]:
                out.append('F %d %d\n' % (guarded, min(lines[guarded])))
    return ''.join(out)


# The tree holds no cycles: the collector would only walk it again and again.
gc.disable()
try:
    result = scan(arg_data)
finally:
    gc.enable()
