# server_scan.py - compile-server op SCAN: what a module imports, and whether
# it reads files beside its __file__, from one ast pass over its source.
# The server loads it once and calls scan(name, source, is_package): name
# is the module's dotted name, against which (with is_package) its relative
# imports resolve. Answer lines:
#   I <guarded> <line> <name>   `import name`, or the X of `from X import a`
#   A <guarded> <line> <name>   X.a of `from X import a`: a submodule or an
#                               attribute of X
#   X <guarded> <line> <a,b|c,d>  a `try` whose handler catches ImportError
#                               and imports again: a, b are imported in its
#                               body, c, d in its handlers (the fallback)
#   R 0 <line> <name>           a string constant that names a module of the
#                               module's own top-level package ('pkg.sub',
#                               'pkg.sub.Class'): code that imports by name
#                               from a table (docutils' parsers)
#   F <guarded> <line>          the first use of __file__ or __path__ in path
#                               arithmetic (os.path.dirname(__file__), open(),
#                               pathlib.Path(__file__), __path__[0], ...)
#   H 0 <line>                  the first use of sys.meta_path, a write to
#                               sys.modules, an apipkg initpkg() call or a
#                               change of __path__: the module may make or
#                               find modules below it that kiln cannot know
#                               (setuptools' `extern` packages, py's
#                               `py.builtin`, a plugin folder)
# Names are absolute; a relative import that climbs above the top-level
# package keeps its dots (".x"), as python cannot import it either.
# <guarded> is 2 for code under `if __name__ == "__main__":`, which runs only
# when the module is what python runs (at most one F line has 0, one 2).
# It is 1 when the code expects the import to fail on some systems:
# - in the body of a `try` one of whose handlers catches ImportError,
#   ModuleNotFoundError, Exception or BaseException, or is bare (unless
#   every such handler only raises again: then the import is required); in
#   such a handler's own body (the fallback) and in the `else:` of that try
#   (which runs only when the optional import worked);
# - in the body of `with suppress(<one of those>)`;
# - in either branch of an `if`/`elif` whose test reads the platform or the
#   version: sys.platform, sys.version_info, sys.implementation, os.name,
#   platform.*, TYPE_CHECKING, or a flag named like PY2, PY3, WINDOWS,
#   IS_WIN, PYPY, MACOS; or a name that guarded code binds before
#   (`try: import simplejson; HAS_SJ = True ...`, then `if HAS_SJ:`).
# It is 3 for code that runs on some platforms or versions only (an `if`
# on them that cannot be evaluated here: a flag named like PY2, say; or
# the handler of NameError or AttributeError, which runs where a built-in
# name or an attribute is missing: `try: set` / `except NameError: from
# sets import Set`), or under an `if` on what only run time knows inside
# optional code (`try: if not ssl.HAS_SNI: import pyopenssl`). An `if`
# that this target's Python can evaluate (sys.version_info >= (3, 8),
# sys.platform == "win32", TYPE_CHECKING, a name bound to such a test)
# keeps only the branch that runs here.
# 4 is added for code inside a function (def), which runs when called; 8
# for code in a handler that catches ImportError, which runs only when
# what its try imports is missing (the fallback).
# Dynamic imports (importlib.import_module, __import__) are seen when they
# name a module with a string constant, or with the variable of a `for`
# over constants (`for p in ("urllib3", "idna"): __import__(p)`); not
# otherwise. A source that does not parse gives nothing (compiling it
# reports the error).
import ast, gc, re

OPTIONAL, MAIN_ONLY, CONDITIONAL = 1, 2, 3
IMPORT_ERRORS = {'ImportError', 'ModuleNotFoundError', 'Exception',
                 'BaseException'}
MISSING_NAME_ERRORS = {'NameError', 'AttributeError'}
IN_FUNCTION, FALLBACK = 4, 8


def with_guard(guarded, guard):
    """guarded with its guard (the low bits) set to guard."""
    return (guarded & ~3) | guard
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


def catches(handler, errors):
    if handler.type is None:
        return errors is IMPORT_ERRORS
    types = (handler.type.elts if isinstance(handler.type, ast.Tuple)
             else [handler.type])
    return any(dotted(t).rpartition('.')[2] in errors for t in types)


def only_raises(handler):
    """Does the handler end by raising, with no import to fall back on?
    Then what its try imports is required, not optional."""
    return (handler.body and isinstance(handler.body[-1], ast.Raise) and
            not any(isinstance(n, (ast.Import, ast.ImportFrom))
                    for s in handler.body for n in ast.walk(s)))


def hooks_imports(node):
    """sys.meta_path, a store into sys.modules, sys.modules.update() or
    setdefault(), apipkg's initpkg(): names below may be made at run time."""
    if isinstance(node, ast.Attribute):
        return node.attr == 'meta_path' and dotted(node.value) == 'sys'
    if isinstance(node, ast.Subscript):
        return (isinstance(node.ctx, ast.Store) and
                dotted(node.value) == 'sys.modules')
    if isinstance(node, ast.Call):
        name = dotted(node.func)
        return (name.rpartition('.')[2] == 'initpkg' or
                name in ('sys.modules.update', 'sys.modules.setdefault'))
    return False


def suppresses_import_error(item):
    call = item.context_expr
    return (isinstance(call, ast.Call) and
            dotted(call.func).rpartition('.')[2] == 'suppress' and
            any(dotted(a).rpartition('.')[2] in IMPORT_ERRORS
                for a in call.args))


def guard_test(test, optional):
    """The guard of an `if` that cannot be evaluated: CONDITIONAL when it
    reads the platform, the version or a flag (or a name bound under such
    a test), OPTIONAL when it reads a name that optional code binds, else
    0."""
    found = 0
    for node in ast.walk(test):
        if isinstance(node, ast.Name):
            if node.id in SYS_ATTRS or FLAG_NAME.match(node.id):
                return CONDITIONAL
            found = max(found, optional.get(node.id, 0))
        elif isinstance(node, ast.Attribute):
            base = dotted(node.value)
            if (FLAG_NAME.match(node.attr) or base == 'platform' or
                    (base == 'sys' and node.attr in SYS_ATTRS) or
                    (base == 'os' and node.attr in ('name', 'uname'))):
                return CONDITIONAL
    return found


class Unknown(Exception):
    pass


TARGET = {}


def target_values():
    """What a test of the platform or the version reads, on this target:
    the compile server is the target's Python, on the build's machine."""
    import os, platform, sys
    if TARGET:
        return TARGET
    TARGET.update({'sys.version_info': sys.version_info, 'version_info':
            sys.version_info, 'sys.platform': sys.platform,
            'os.name': os.name, 'sys.hexversion': sys.hexversion,
            'sys.maxsize': sys.maxsize, 'sys.byteorder': sys.byteorder,
            'sys.implementation.name': sys.implementation.name,
            'TYPE_CHECKING': False, 'typing.TYPE_CHECKING': False,
            'six.PY2': False, 'six.PY3': True,
            'platform.system()': platform.system(),
            'platform.machine()': platform.machine(),
            'platform.python_implementation()':
                platform.python_implementation()})
    return TARGET


COMPARE = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
           ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
           ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
           ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b}
STR_METHODS = {'startswith', 'endswith', 'lower'}


def value_of(node, known):
    """The value of a test made of the platform, the version, constants
    and names bound to such values (known); Unknown otherwise."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(value_of(e, known) for e in node.elts)
    name = dotted(node.func) + '()' if isinstance(node, ast.Call) and \
        not node.args and not node.keywords else dotted(node)
    if isinstance(node, ast.Name) and name in known:
        return known[name]
    values = target_values()
    if name in values:
        return values[name]
    if isinstance(node, ast.Attribute) and node.attr in ('major', 'minor'):
        return getattr(value_of(node.value, known), node.attr)
    if isinstance(node, ast.Subscript):
        s = node.slice
        key = (slice(*(value_of(x, known) if x else None
                       for x in (s.lower, s.upper, s.step)))
               if isinstance(s, ast.Slice) else value_of(s, known))
        return value_of(node.value, known)[key]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in STR_METHODS and not node.keywords:
        base = value_of(node.func.value, known)
        if isinstance(base, str):
            return getattr(base, node.func.attr)(
                *[value_of(a, known) for a in node.args])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not value_of(node.operand, known)
    if isinstance(node, ast.BoolOp):
        values = [value_of(v, known) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Pow,
                                                            ast.LShift)):
        a, b = value_of(node.left, known), value_of(node.right, known)
        if isinstance(a, int) and isinstance(b, int) and 0 <= b <= 64:
            return a ** b if isinstance(node.op, ast.Pow) else a << b
    if isinstance(node, ast.Compare):
        left = value_of(node.left, known)
        for op, right in zip(node.ops, node.comparators):
            right = value_of(right, known)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    raise Unknown


def evaluate(test, known):
    """True or False when the test reads only what value_of() knows, so
    that only one branch runs on this target; else None."""
    try:
        return bool(value_of(test, known))
    except (Unknown, TypeError, ValueError, IndexError, AttributeError):
        return None


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


def package_of(name, is_package, level):
    base = name if is_package else name.rpartition('.')[0]
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


DYNAMIC = {'__import__', 'import_module'}


def loop_constants(node):
    """{name: strings} for `for name in ("a", "b"):`, else {}."""
    it = node.iter
    if isinstance(node.target, ast.Name) and \
            isinstance(it, (ast.Tuple, ast.List)) and it.elts and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str)
                for e in it.elts):
        return {node.target.id: [e.value for e in it.elts]}
    return {}


def bound(node):
    """The names that the statement node binds."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).partition('.')[0] for a in node.names]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [
            node.target]
        return [n.id for t in targets for n in ast.walk(t)
                if isinstance(n, ast.Name)]
    return []


class Scan:
    """One module's scan: the answer lines, the bodies under
    `if __name__ == "__main__"`, and the names guarded code binds."""

    def __init__(self, name, is_package):
        self.name, self.is_package = name, is_package
        self.out, self.main_only = [], []
        self.optional = {}  # name: the guard of the code that binds it
        self.known = {}  # name: its value, bound to a test value_of() knows
        self.dynamic = False  # the source names __import__ or import_module
        self.loops = {}  # name: the constants a `for` gives it

    def add(self, kind, guarded, line, name):
        self.out.append('%s %d %d %s\n' % (kind, guarded, line, name))

    def base_of(self, node):
        """The absolute X of `from X import ...`, or None above the
        top-level package."""
        base = (package_of(self.name, self.is_package, node.level)
                if node.level else node.module)
        if base is not None and node.level and node.module:
            base = base + '.' + node.module if base else node.module
        return base

    def imports_from(self, node, guarded):
        base = self.base_of(node)
        if base is None:  # above the top-level package
            dots = '.' * node.level
            for name in [node.module] if node.module else [
                    a.name for a in node.names]:
                self.add('I', guarded, node.lineno, dots + name)
            return
        if base:
            self.add('I', guarded, node.lineno, base)
        for alias in node.names:
            if alias.name != '*':
                self.add('A', guarded, node.lineno,
                         base + '.' + alias.name if base else alias.name)

    def names(self, body):
        """The modules that statements import when they run here: not in
        functions, in a branch that never runs on this target, nor in a
        nested try that catches ImportError (optional there)."""
        found = []
        for node in body:
            if isinstance(node, ast.Import):
                found += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = self.base_of(node)
                if base:
                    found.append(base)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                   ast.ClassDef)):
                continue
            elif isinstance(node, ast.Try) and any(
                    catches(h, IMPORT_ERRORS) for h in node.handlers):
                found += self.names(node.finalbody)
            elif isinstance(node, ast.If) and \
                    evaluate(node.test, self.known) is not None:
                found += self.names(node.body if evaluate(
                    node.test, self.known) else node.orelse)
            else:
                for field in ('body', 'orelse', 'finalbody', 'handlers',
                              'cases'):
                    found += self.names(getattr(node, field, ()))
        return found

    def alternatives(self, node, handlers, guarded):
        """An X line for a try whose ImportError handlers import again,
        not inside a try of their own: when both fail, ImportError
        propagates."""
        fallback = [n for h in handlers for n in self.names(h.body)]
        tried = self.names(node.body)
        if fallback and tried:
            self.add('X', guarded, node.lineno,
                     ','.join(tried) + '|' + ','.join(fallback))

    def bind(self, node, guarded):
        """Notes the names node binds under a guard, and a name bound to
        a known value at module level (PY2 = sys.version_info[0] == 2)."""
        if guarded & 3 in (OPTIONAL, CONDITIONAL):
            for name in bound(node):
                self.optional.setdefault(name, guarded & 3)
        if type(node) is ast.Assign and len(node.targets) == 1 and \
                type(node.targets[0]) is ast.Name:
            name = node.targets[0].id
            value = evaluate(node.value, self.known) if guarded == 0 \
                else None
            if value is None:
                self.known.pop(name, None)
            else:
                self.known[name] = value

    def visit_try(self, node, guarded):
        catching = [catches(h, IMPORT_ERRORS) for h in node.handlers]
        optional = [c and not only_raises(h)
                    for h, c in zip(node.handlers, catching)]
        inner = with_guard(guarded, max(OPTIONAL, guarded & 3)) \
            if any(optional) else guarded
        self.alternatives(node, [h for h, c in zip(node.handlers, catching)
                                 if c], guarded)
        self.visit(node.body, inner)
        for handler, catches_it in zip(node.handlers, catching):
            if catches_it:
                self.visit(handler.body, inner | FALLBACK)
            elif catches(handler, MISSING_NAME_ERRORS):
                self.visit(handler.body, with_guard(guarded, CONDITIONAL))
            else:
                self.visit(handler.body, guarded)
        self.visit(node.orelse, inner)
        self.visit(node.finalbody, guarded)

    def visit(self, body, guarded):
        for node in body:
            kind = type(node)
            self.bind(node, guarded)
            if kind is ast.Import:
                for alias in node.names:
                    self.add('I', guarded, node.lineno, alias.name)
            elif kind is ast.ImportFrom:
                self.imports_from(node, guarded)
            elif kind is ast.Try or kind is getattr(ast, 'TryStar', None):
                self.visit_try(node, guarded)
            elif kind is ast.If:
                value = evaluate(node.test, self.known)
                if value is not None:  # the other branch never runs here
                    self.visit(node.body if value else node.orelse, guarded)
                    continue
                cond = guard_test(node.test, self.optional)
                if cond != CONDITIONAL and guarded & 3 == OPTIONAL:
                    cond = CONDITIONAL  # what only run time knows
                inner = with_guard(guarded, max(cond, guarded & 3)) \
                    if cond else guarded
                if main_test(node.test):
                    self.main_only.extend(node.body)
                    self.visit(node.body, inner if inner & 3
                               else inner | MAIN_ONLY)
                else:
                    self.visit(node.body, inner)
                self.visit(node.orelse, inner)
            elif kind is ast.With or kind is ast.AsyncWith:
                self.visit(node.body, with_guard(
                    guarded, max(OPTIONAL, guarded & 3)) if any(
                    suppresses_import_error(i) for i in node.items)
                    else guarded)
            elif kind is ast.Match:
                for case in node.cases:
                    self.visit(case.body, guarded)
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                self.visit(node.body, guarded | IN_FUNCTION)
            elif kind is ast.For and self.dynamic:
                names = loop_constants(node)
                self.loops.update(names)
                self.visit(node.body, guarded)
                for name in names:
                    self.loops.pop(name, None)
                self.visit(node.orelse, guarded)
            elif hasattr(node, 'body'):  # class, while: their bodies
                self.visit(node.body, guarded)
                self.visit(getattr(node, 'orelse', ()), guarded)
            elif self.dynamic:
                self.dynamic_imports(node, guarded)

    def dynamic_imports(self, node, guarded):
        """I lines for __import__("x") and import_module("x") in the
        simple statement node."""
        for call in ast.walk(node):
            if not (isinstance(call, ast.Call) and call.args and
                    dotted(call.func).rpartition('.')[2] in DYNAMIC):
                continue
            arg = call.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names = [arg.value]
            elif isinstance(arg, ast.Name):
                names = self.loops.get(arg.id, [])
            else:
                names = []
            for name in names:
                if name and not name.startswith('.') and all(
                        p.isidentifier() for p in name.split('.')):
                    self.add('I', guarded, call.lineno, name)

    def module_strings(self, tree, source):
        """R lines for the string constants naming a module below the
        top-level package this module is in."""
        top = self.name.partition('.')[0]
        quoted = [q + top.encode() + b'.' for q in (b"'", b'"')]
        if top == '__main__' or not any(q in source for q in quoted):
            return
        seen = set()
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and \
                    n.value.startswith(top + '.') and n.value not in seen \
                    and all(p.isidentifier() for p in n.value.split('.')):
                seen.add(n.value)
                self.add('R', 0, n.lineno, n.value)

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


def scan(name, source, is_package):
    """The answer lines for module name's source (bytes)."""
    # The tree holds no cycles: the collector would only walk it again and
    # again.
    gc.disable()
    try:
        return scan_tree(name, source, is_package)
    finally:
        gc.enable()


def scan_tree(name, source, is_package):
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ''
    s = Scan(name, is_package)
    s.dynamic = b'__import__' in source or b'import_module' in source
    s.visit(tree.body, 0)
    s.module_strings(tree, source)
    if (b'__file__' in source or b'__path__' in source or
            b'resource_filename' in source):
        s.path_uses(tree)
    hooks = []
    if b'meta_path' in source or b'sys.modules' in source or \
            b'initpkg' in source:
        hooks = [n.lineno for n in ast.walk(tree) if hooks_imports(n)]
    if b'__path__' in source:
        hooks += [n.lineno for n in ast.walk(tree) if path_change(n)]
    if hooks:
        s.out.append('H 0 %d\n' % min(hooks))
    return ''.join(s.out)


def path_change(n):
    """A change of the module's __path__: `__path__ = ...`, `+=`, or
    __path__.append/insert/extend(...)."""
    if isinstance(n, ast.Name) and n.id == '__path__':
        return isinstance(n.ctx, ast.Store)
    return (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr in ('append', 'insert', 'extend')
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id == '__path__')

