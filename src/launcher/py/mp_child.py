# mp_child.py - runs a multiprocessing child inside a kiln app.
# multiprocessing starts its helpers (spawn children, the fork server, the
# resource tracker) as
#     sys.executable FLAGS... -c "from multiprocessing.M import F; F(ARGS)"
# The launcher hands the -c code here as `code` (str) only when the app
# itself started the process, which the child proved (childproof.c); any
# other argv is the app's own. Even then, as a second line of defence, the
# code is not executed as given: it must be one import of a known entry
# point and one call of it with literal arguments, and that call is made.
# Anything else is refused.
# Only the built-in _ast is used: an app may pack a module named ast.
import _ast

ENTRY_POINTS = {
    ("multiprocessing.spawn", "spawn_main"),
    ("multiprocessing.forkserver", "main"),
    ("multiprocessing.resource_tracker", "main"),
}


def literal(node):
    if isinstance(node, _ast.Constant):
        return node.value
    if (isinstance(node, _ast.UnaryOp) and isinstance(node.op, _ast.USub)
            and isinstance(node.operand, _ast.Constant)
            and type(node.operand.value) is int):
        return -node.operand.value
    if isinstance(node, _ast.List):
        return [literal(item) for item in node.elts]
    if isinstance(node, _ast.Tuple):
        return tuple(literal(item) for item in node.elts)
    if isinstance(node, _ast.Dict) and None not in node.keys:
        return {literal(k): literal(v) for k, v in zip(node.keys, node.values)}
    raise ValueError("argument %s is not a literal" % type(node).__name__)


def entry_point(code):
    """(module, function name, args, kwargs) of the code, or ValueError."""
    try:
        body = compile(code, "<string>", "exec", _ast.PyCF_ONLY_AST).body
    except SyntaxError as e:
        raise ValueError("a syntax error: %s" % e.msg) from None
    if len(body) != 2:
        raise ValueError("it is not an import and a call (%d statements)"
                         % len(body))
    imp, call = body
    call = call.value if isinstance(call, _ast.Expr) else None
    if not (isinstance(imp, _ast.ImportFrom) and imp.level == 0
            and len(imp.names) == 1 and imp.names[0].asname is None
            and (imp.module, imp.names[0].name) in ENTRY_POINTS):
        raise ValueError("it does not import one of %s" % ", ".join(
            sorted("%s.%s" % e for e in ENTRY_POINTS)))
    name = imp.names[0].name
    if not (isinstance(call, _ast.Call) and isinstance(call.func, _ast.Name)
            and call.func.id == name):
        raise ValueError("the second statement is not a call of %s" % name)
    args = [literal(arg) for arg in call.args]
    kwargs = {}
    for kw in call.keywords:
        value = literal(kw.value)
        if kw.arg is not None:
            value = {kw.arg: value}
        elif not (isinstance(value, dict)
                  and all(type(k) is str for k in value)):
            raise ValueError("** is not given a dict with str keys")
        for key in value:
            if key in kwargs:
                raise ValueError("argument %s is given twice" % key)
        kwargs.update(value)
    return imp.module, name, args, kwargs


def run(code, exe):
    try:
        module, name, args, kwargs = entry_point(code)
    except ValueError as e:
        raise SystemExit(
            "kiln: %s was started by the app as a multiprocessing child "
            "(-c \"from multiprocessing...\"), but its code is not a call "
            "of one of multiprocessing's entry points with literal "
            "arguments: %s. A kiln app runs no other code given with -c."
            % (exe, e)) from None
    function = getattr(__import__(module, fromlist=[name]), name)
    function(*args, **kwargs)
