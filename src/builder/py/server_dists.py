# server_dists.py - compile-server op DISTS: finds installed distributions
# for `kiln build --package NAME` (following Requires-Dist, with extras and
# environment markers, and the plugins of NAME: installed distributions
# with entry points in NAME's groups) and `--site-packages DIR`, and says
# which files of their site folder each one owns. The server loads it once
# and calls dists(request). Request: "package=SPEC" and "site-packages=DIR"
# lines; or "follow=NAME<TAB>WHY" lines (with "packed=ENTRY" lines for what
# is packed already): what the build's import scan found missing and
# installed. Reply: lines described
# in docs/format.md. Or, for the import warning, "provides=NAME" lines:
# which installed distributions really hold those top-level modules, or
# which are installed without metadata; "installed=1": every top-level name
# importable from the site folders.
import csv, os, platform, re, site, stat, sys
import importlib.machinery
from importlib.metadata import PathDistribution
from pathlib import Path

META_SUFFIXES = ('.dist-info', '.egg-info')
MODULE_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES) + ('.py',)
out = []  # the answer lines of the request at hand: dists() resets it


def normalize(name):
    """A project name as pip compares it (PEP 503)."""
    return re.sub(r'[-_.]+', '-', name).lower()


def is_identifier_path(rel):
    return all(p.isidentifier() for p in rel.split('/'))


# ---- environment markers (PEP 508) ----------------------------------------

def full_version(info):
    v = '%d.%d.%d' % (info.major, info.minor, info.micro)
    if info.releaselevel != 'final':
        v += info.releaselevel[0] + str(info.serial)
    return v


ENV = {
    'python_version': '%d.%d' % sys.version_info[:2],
    'python_full_version': platform.python_version(),
    'os_name': os.name,
    'sys_platform': sys.platform,
    'platform_release': platform.release(),
    'platform_version': platform.version(),
    'platform_machine': platform.machine(),
    'platform_system': platform.system(),
    'platform_python_implementation': platform.python_implementation(),
    'implementation_name': sys.implementation.name,
    'implementation_version': full_version(sys.implementation.version),
}
# Names from PEP 345 that older metadata still uses.
ALIASES = {'os.name': 'os_name', 'sys.platform': 'sys_platform',
           'platform.version': 'platform_version',
           'platform.machine': 'platform_machine',
           'platform.python_implementation':
               'platform_python_implementation',
           'python_implementation': 'platform_python_implementation'}
MARKER_TOKEN = re.compile(r'''\s*(?:(?P<str>'[^']*'|"[^"]*")
    |(?P<op>===|==|!=|<=|>=|~=|<|>|\(|\))
    |(?P<word>[A-Za-z_][A-Za-z0-9_.]*))''', re.X)
VERSION = re.compile(r'''^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)
    (?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?
    (?:-(\d+)|[-_.]?(?:post|rev|r)[-_.]?(\d*))?
    (?:[-_.]?dev[-_.]?(\d*))?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$''',
                     re.X | re.I)
PRE_RANK = {'a': 0, 'alpha': 0, 'b': 1, 'beta': 1, 'c': 2, 'rc': 2,
            'pre': 2, 'preview': 2}


def parse_marker(text):
    """A marker as nested tuples: ('or'|'and', a, b) or ('cmp', l, op, r)
    where l and r are ('var', name) or ('str', value)."""
    toks, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = MARKER_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f'cannot read the marker at {text[pos:]!r}')
        pos = m.end()
        kind = m.lastgroup
        toks.append((kind, m.group(kind)))
    toks.append(('end', ''))
    at = [0]

    def peek():
        return toks[at[0]]

    def take():
        at[0] += 1
        return toks[at[0] - 1]

    def binary(word, sub):
        left = sub()
        while peek() == ('word', word):
            take()
            left = (word, left, sub())
        return left

    def value():
        kind, v = take()
        if kind == 'str':
            return ('str', v[1:-1])
        v = ALIASES.get(v, v)
        if kind == 'word' and (v in ENV or v == 'extra'):
            return ('var', v)
        raise ValueError(f'unknown marker variable {v!r}' if kind == 'word'
                         else f'expected a value, found {v!r}')

    def atom():
        if peek() == ('op', '('):
            take()
            e = binary('or', lambda: binary('and', atom))
            if take() != ('op', ')'):
                raise ValueError('missing )')
            return e
        left = value()
        kind, op = take()
        if (kind, op) == ('word', 'not') and take() == ('word', 'in'):
            op = 'not in'
        elif not (kind == 'op' and op not in '()' or op == 'in'):
            raise ValueError(f'expected a comparison, found {op!r}')
        return ('cmp', left, op, value())

    tree = binary('or', lambda: binary('and', atom))
    if peek()[0] != 'end':
        raise ValueError(f'unexpected {peek()[1]!r}')
    return tree


def version_key(text):
    m = VERSION.match(text)
    if not m:
        return None
    epoch, release, pre_l, pre_n, post_a, post_b, dev = m.groups()
    nums = [int(x) for x in release.split('.')]
    while len(nums) > 1 and nums[-1] == 0:
        nums.pop()
    post = post_a or post_b
    if pre_l:
        pre = (PRE_RANK[pre_l.lower()], int(pre_n or 0))
    elif dev is not None and post is None and post_b is None:
        pre = (-1, 0)  # 1.0.dev1 sorts before 1.0a1
    else:
        pre = (3, 0)
    return (int(epoch or 0), tuple(nums), pre,
            -1 if post is None and post_b is None else int(post or 0),
            (1, 0) if dev is None else (0, int(dev or 0)))


def release_prefix(have, want):
    """Does version `have` start with the release numbers of `want`?"""
    h, w = version_key(have), version_key(want)
    if not h or not w:
        return have.startswith(want)
    got = h[1] + (0,) * len(w[1])
    return h[0] == w[0] and got[:len(w[1])] == w[1]


def compare(lhs, op, rhs):
    if op == 'in':
        return lhs in rhs
    if op == 'not in':
        return lhs not in rhs
    if op == '===':
        return lhs == rhs
    if op in ('==', '!=') and rhs.endswith('.*'):
        return release_prefix(lhs, rhs[:-2]) == (op == '==')
    a, b = version_key(lhs), version_key(rhs)
    if a and b:
        if op == '~=':
            parts = rhs.split('.')
            return a >= b and len(parts) > 1 and \
                release_prefix(lhs, '.'.join(parts[:-1]))
        return {'==': a == b, '!=': a != b, '<': a < b, '<=': a <= b,
                '>': a > b, '>=': a >= b}[op]
    if op == '~=':
        return False
    return {'==': lhs == rhs, '!=': lhs != rhs, '<': lhs < rhs,
            '<=': lhs <= rhs, '>': lhs > rhs, '>=': lhs >= rhs}[op]


def evaluate(tree, extra):
    if tree[0] == 'or':
        return evaluate(tree[1], extra) or evaluate(tree[2], extra)
    if tree[0] == 'and':
        return evaluate(tree[1], extra) and evaluate(tree[2], extra)
    _, left, op, right = tree
    of_extra = ('var', 'extra') in (left, right)

    def get(v):
        if v[0] == 'str':
            return normalize(v[1]) if of_extra else v[1]
        return extra if v[1] == 'extra' else ENV[v[1]]
    return compare(get(left), op, get(right))


# ---- requirements -----------------------------------------------------------

REQ_NAME = re.compile(r'\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)'
                      r'\s*(?:\[([^\]]*)\])?\s*(.*)$', re.S)


def parse_extras(text, where):
    extras = set()
    for e in (text or '').split(','):
        e = e.strip()
        if not e:
            continue
        if not re.fullmatch(r'[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?', e):
            raise ValueError(f'{where}: {e!r} is not an extra name')
        extras.add(normalize(e))
    return extras


def parse_requirement(text, where):
    """(name, extras, marker tree or None) of a PEP 508 requirement."""
    m = REQ_NAME.match(text)
    if not m:
        raise ValueError(f'{where}: cannot read the requirement {text!r}')
    name, extras, rest = m.groups()
    # A URL requirement needs a space before its marker's ';'.
    cut = re.search(r'\s;' if rest.lstrip().startswith('@') else ';', rest)
    try:
        marker = parse_marker(rest[cut.end():]) if cut else None
    except ValueError as e:
        raise ValueError(f'{where}: {e}') from None
    return name, parse_extras(extras, where), marker


def requirement(d, text):
    """(text, name, extras, marker) of one of d's requirements. A marker
    that cannot be read is warned about, and taken as true ('bad')."""
    where = f'{d["path"]}: requirement {text!r}'
    try:
        return (text, *parse_requirement(text, where))
    except ValueError as e:
        m = REQ_NAME.match(text)
        if not m:
            raise ValueError(f'broken distribution metadata: {e}; '
                             f'{d["fix"]}') from None
        out.append(f'warning={e}; packing {m.group(1)} if it is installed')
        return (text, m.group(1), set(), 'bad')


# ---- distributions -----------------------------------------------------------

def site_dirs(lines=()):
    """Where the target's python3 finds distributions, in sys.path order:
    PYTHONPATH, the user's site folder, then site.getsitepackages() of the
    target's prefix (this server runs isolated, so computes them). For a
    venv's python (a venv= line): PYTHONPATH, the venv's site folder, and
    the others only with include-system-site-packages."""
    dirs = [os.path.abspath(p) for p in
            os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    venv = [v for k, v in lines if k == 'venv']
    dirs += venv
    if not venv or ('venv-system', '1') in lines:
        user = site.getusersitepackages()
        if os.getuid() == os.geteuid() and os.getgid() == os.getegid():
            dirs.append(user)
        dirs += site.getsitepackages()
    seen = []
    for d in dirs:
        if os.path.isdir(d) and d not in seen:
            seen.append(d)
    return seen


def meta_entries(folder):
    """(normalized name, entry) of the distribution metadata in a folder;
    a .dist-info before an .egg-info of the same name."""
    found = []
    for entry in sorted(os.listdir(folder)):
        if entry.endswith(META_SUFFIXES):
            stem = entry.rsplit('.', 1)[0].split('-')[0]
            found.append((normalize(stem), not entry.endswith('.dist-info'),
                          entry))
    return [(n, e) for n, _, e in sorted(found)]


def load(folder, entry):
    """The distribution at folder/entry, with its metadata checked."""
    path = os.path.join(folder, entry)
    what = ('METADATA' if entry.endswith('.dist-info') else
            'PKG-INFO' if os.path.isdir(path) else '')
    meta_file = os.path.join(path, what) if what else path
    fix = (f'reinstall the distribution, or delete {path} if it is left '
           'over from an uninstall')
    if not os.path.isfile(meta_file):
        raise ValueError(f'broken distribution metadata: {meta_file} is '
                         f'missing; {fix}')
    dist = PathDistribution(Path(path))
    try:
        if dist.read_text(what) is None:
            raise OSError('permission denied')
        md = dist.metadata
    except (UnicodeError, OSError) as e:
        raise ValueError(f'broken distribution metadata: cannot read '
                         f'{meta_file}: {e}; {fix}') from None
    name, version = md['Name'], md['Version']
    if not name or not version or '\n' in name + version:
        raise ValueError(f'broken distribution metadata: {meta_file} has no '
                         f'{"Name" if not name else "Version"} field, so it '
                         f'is not distribution metadata; {fix}')
    try:
        requires = dist.requires or []
    except Exception as e:
        raise ValueError(f'broken distribution metadata: cannot read the '
                         f'requirements in {path}: {e}; {fix}') from None
    return {'folder': folder, 'entry': entry, 'path': path, 'dist': dist,
            'name': name.strip(), 'version': version.strip(),
            'requires': requires, 'fix': fix, 'extras': set()}


dpkg_lists = None  # every dpkg file list, once a request reads them
DPKG_INFO = '/var/lib/dpkg/info'


def read_list(name):
    """(package, b'\\n' + contents) of a dpkg file list, or None."""
    try:
        with open(os.path.join(DPKG_INFO, name), 'rb') as fh:
            return name[:-5].split(':')[0], b'\n' + fh.read()
    except OSError:
        return None


def dpkg_list(path):
    """(package, file list) of the dpkg package that installed path, or
    None. Debian's python3-NAME is read first (NAME from path: the
    distribution of an .egg-info, a module), then every list, once."""
    global dpkg_lists
    needle = b'\n' + os.fsencode(path) + b'\n'
    try:
        names = sorted(f for f in os.listdir(DPKG_INFO) if f.endswith('.list'))
    except OSError:
        return None
    stem = normalize(os.path.basename(path).split('-')[0].split('.')[0])
    guesses = {'python3-' + stem, stem}
    for name in names:
        if name[:-5].split(':')[0] in guesses:
            found = read_list(name)
            if found and needle in found[1]:
                return found
    if dpkg_lists is None:
        dpkg_lists = [found for found in map(read_list, names) if found]
    for package, data in dpkg_lists:
        if needle in data:
            return package, data
    return None


def dpkg_files(path):
    """Files the system's package manager (dpkg) installed together with the
    metadata at path, or None: Debian's egg-info folders often list none."""
    found = dpkg_list(path)
    if found is None:
        return None
    lines = os.fsdecode(found[1]).splitlines()
    return [p for p in lines if p and not os.path.isdir(p)]


def record_files(d):
    """Files that d's RECORD or installed-files.txt lists, as paths, or
    None when it has neither."""
    path = d['path']
    record = os.path.join(path, 'RECORD')
    if d['entry'].endswith('.dist-info') and os.path.isfile(record):
        files = []
        try:
            with open(record, encoding='utf-8', newline='') as fh:
                for n, row in enumerate(csv.reader(fh), 1):
                    if not row:
                        continue
                    if len(row) > 3 or not row[0].strip():
                        raise ValueError(f'line {n} has {len(row)} fields, '
                                         'not path,hash,size')
                    files.append(os.path.join(d['folder'], row[0]))
        except (ValueError, csv.Error, UnicodeError) as e:
            raise ValueError(f'broken distribution metadata: {record} is '
                             f'malformed: {e}; {d["fix"]}') from None
        return files
    listed = d['dist'].read_text('installed-files.txt')
    if listed is not None and os.path.isdir(path):
        return [os.path.join(path, line) for line in listed.splitlines()
                if line.strip()]
    return None


def find_module(folder, rel):
    """What `import` finds for rel (a/b) under folder, as a relative path:
    a package or namespace folder, an extension or a .py file."""
    base = os.path.join(folder, rel)
    if os.path.isfile(os.path.join(base, '__init__.py')):
        return rel
    for suffix in MODULE_SUFFIXES:
        if os.path.isfile(base + suffix):
            return rel + suffix
    return rel if os.path.isdir(base) else None


def plain_module(name, search):
    """(folder, rel) of a top-level module or package named name, installed
    without distribution metadata (Debian's _cffi_backend, say), or None."""
    if not name.isidentifier():
        return None
    for folder in search:
        rel = find_module(folder, name)
        if rel and (rel != name or
                    os.path.isfile(os.path.join(folder, name, '__init__.py'))):
            return folder, rel
    return None


def root_only(real):
    """Are the real path real and every folder above it root's, and
    writable by no one else?"""
    parts = real.split('/')
    for i in range(1, len(parts) + 1):
        try:
            st = os.lstat('/'.join(parts[:i]) or '/')
        except OSError:
            return False
        if st.st_uid != 0 or stat.S_ISLNK(st.st_mode) or st.st_mode & 0o022:
            return False
    return True


def system_link(path, real):
    """A symlink the system's packages installed (Debian links data into
    /usr/share): root's, in a folder only root can change, leading into
    /usr through folders only root can change (kiln's util.c, the same)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISLNK(st.st_mode) and st.st_uid == 0 and
            root_only(os.path.realpath(os.path.dirname(path))) and
            real.startswith('/usr/') and root_only(real))


def leaves(folder, rel):
    """The warning to give when folder/rel leads outside folder through a
    symlink (it is one, or a folder on its path is), else None. kiln's
    walk checks the symlinks inside what is emitted."""
    path = os.path.join(folder, rel)
    real, root = os.path.realpath(path), os.path.realpath(folder)
    if real == root or real.startswith(root.rstrip('/') + '/') or \
            system_link(path, real):
        return None
    how = ('a symlink to' if os.path.islink(path) else
           'a symlinked folder on its path leads to')
    return (f'skipping {path}: {how} {real}, outside {root}; kiln packs '
            'only what lies inside the folders it is given')


def is_control(c):
    """C0, DEL, C1 or a Unicode line separator: a newline in a name would
    start a line of the reply."""
    return c < ' ' or '\x7f' <= c <= '\x9f' or c in '\u2028\u2029'


def escaped(name):
    """name with its control characters and backslashes escaped, as in a
    Python literal, for a message."""
    return ''.join(repr(c)[1:-1] if is_control(c) or c == '\\' else c
                   for c in name)


def one_line(line):
    """line with the control characters that a name brought in (but
    tabs, which separate fields) escaped: it stays one line of the reply."""
    return ''.join(repr(c)[1:-1] if is_control(c) and c != '\t' else c
                   for c in line)


def walk_files(folder, rel):
    found = []
    for top, dirs, files in os.walk(os.path.join(folder, rel)):
        dirs[:] = [x for x in dirs if x != '__pycache__']
        found += [os.path.join(top, f) for f in files]
    return found


def guess_files(d, namespaces):
    """Without a list of files: the modules named in top_level.txt, or one
    named like the distribution. In a namespace package, the part named
    like the distribution (zope.interface: zope/interface)."""
    folder, name = d['folder'], d['name']
    parts = name.replace('-', '_').split('.')
    tops = (d['dist'].read_text('top_level.txt') or '').split() or \
        [parts[0], parts[0].lower()]
    files = []
    for top in sorted(set(tops)):
        rel = find_module(folder, top.replace('.', '/'))
        if rel is None:
            continue
        if rel.endswith(MODULE_SUFFIXES):
            files.append(os.path.join(folder, rel))
        elif not is_namespace(folder, rel, namespaces):
            files.append(os.path.join(folder, rel, '__init__.py'))
        else:
            sub = None
            if parts[:len(rel.split('/'))] == rel.split('/') and \
                    len(parts) > len(rel.split('/')):
                sub = find_module(folder, '/'.join(parts))
            if sub is None:
                out.append(f'warning={name} {d["version"]} does not list its '
                           f'files, and no part of the namespace package '
                           f'{top} is named like it: packing all of {top}')
                sub = rel
            files += walk_files(folder, sub) if os.path.isdir(
                os.path.join(folder, sub)) else [os.path.join(folder, sub)]
    for libs in {t + '.libs' for t in tops} | {name + '.libs'}:
        if os.path.isdir(os.path.join(folder, libs)):
            files += walk_files(folder, libs)
    return files


def is_namespace(folder, rel, namespaces):
    """Is the folder rel a namespace package that several distributions
    share? Also a pkg_resources-style one that a -nspkg.pth sets up, whose
    __init__.py python never runs."""
    base = os.path.join(folder, rel)
    if not is_identifier_path(rel) or not os.path.isdir(base) or \
            any(os.path.isfile(base + s) for s in MODULE_SUFFIXES):
        return False  # import takes a module file before a namespace
    init = os.path.join(folder, rel, '__init__.py')
    if not os.path.isfile(init) or rel.replace('/', '.') in namespaces:
        return True
    return b'declare_namespace' in init_head(init)


def init_head(init):
    try:
        with open(init, 'rb') as fh:
            return fh.read(4096)
    except OSError:
        return b''


def own(d, files, emit, skipped):
    """Emits what the distribution owns in its folder from a list of its
    files: whole top-level modules, packages and data folders; in a shared
    namespace package only its own part."""
    folder = d['folder']
    namespaces = set((d['dist'].read_text('namespace_packages.txt')
                      or '').split())
    if files is None:
        files = dpkg_files(d['path'])
    if files is None:
        files = guess_files(d, namespaces)
    tree = {}
    for f in files:
        real = os.path.normpath(os.path.join(folder, f))
        rel = os.path.relpath(real, folder)
        parts = rel.split(os.sep)
        if parts[0] == os.pardir or os.path.isabs(rel):
            # A row with '..' or an absolute path that leaves the folder
            # (a console script in bin/): never packed. Symlinks that
            # leave it are skipped, with a warning, by kiln's walk.
            skipped.append(f'{real}\tlisted by {d["name"]} {d["version"]}, '
                           f'but outside {folder}')
            continue
        if parts[0] == d['entry'] or '__pycache__' in parts or \
                rel.endswith(('.pyc', '.pyo')):
            continue
        if len(parts) == 1 and rel.endswith('.pth'):
            skipped.append(f'{rel}\ta .pth file (kiln apps do not run site)')
            continue
        node = tree
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if node is None:
                break
        if node is not None:
            node.setdefault(parts[-1], None)

    def visit(node, prefix):
        for name in sorted(node):
            rel = prefix + name
            if not os.path.lexists(os.path.join(folder, rel)):
                if name != '__init__.py':
                    skipped.append(f'{rel}\tlisted by {d["name"]} '
                                   f'{d["version"]}, but missing')
                continue
            if node[name] is None or not is_identifier_path(rel):
                if not (prefix and name == '__init__.py'):
                    emit('tree', rel)
            elif is_namespace(folder, rel, namespaces):
                if emit('namespace', rel):
                    visit(node[name], rel + '/')
            elif b'extend_path' in init_head(
                    os.path.join(folder, rel, '__init__.py')):
                if emit('init', rel):  # pkgutil-style: shared, with its init
                    visit(node[name], rel + '/')
            else:
                emit('tree', rel)
    visit(tree, '')
    if not tree:
        out.append(f'warning={d["name"]} {d["version"]} has no modules '
                   f'that kiln can find in {folder} (its metadata lists no '
                   'files); only its metadata is packed')
    emit('tree', d['entry'])


def leftovers(folder, prefix, emit, emitted, skipped):
    """--site-packages: what no distribution owns is packed too, if it is
    importable (or inside a namespace package that is)."""
    for name in sorted(os.listdir(os.path.join(folder, prefix))):
        rel = prefix + name
        full = os.path.join(folder, rel)
        if name.startswith('.') or name == '__pycache__' or \
                (folder, 'tree', rel) in emitted or \
                prefix and name == '__init__.py':
            continue
        if (folder, 'namespace', rel) in emitted or \
                (folder, 'init', rel) in emitted:
            leftovers(folder, rel + '/', emit, emitted, skipped)
        elif prefix or os.path.isdir(full) and name.isidentifier() or \
                os.path.isfile(full) and name.endswith(MODULE_SUFFIXES) and \
                name.split('.')[0].isidentifier():
            emit('tree', rel, folder)
        elif name.endswith('.pth'):
            skipped.append(f'{rel}\ta .pth file (kiln apps do not run site)')
        else:
            skipped.append(f'{rel}\tnot importable, and no distribution '
                           'lists it')


# ---- the request -------------------------------------------------------------

def did_you_mean(norm, index, search):
    """'; did you mean: a, b?' naming installed distributions close to
    norm, or else a module or package installed without metadata that is
    norm without separators (software-properties: softwareproperties)."""
    import difflib
    bare = {n.replace('-', ''): n for n in index}
    plain = norm.replace('-', '')
    if plain not in bare and plain_module(plain, search):
        return f'; did you mean: {plain} (a package without metadata)?'
    close = ([bare[plain]] if plain in bare
             else difflib.get_close_matches(norm, list(index), n=3,
                                            cutoff=0.75))
    return f'; did you mean: {", ".join(close)}?' if close else ''


def holds(folder, entry, name):
    """Does `--package` of the distribution at folder/entry pack the module
    name (a top-level name, or a dotted part of a namespace package)? Its
    metadata may name what another package installs: Debian's setuptools
    lists pkg_resources, which python3-pkg-resources holds."""
    rel = name.replace('.', '/')
    emitted, mark = [], len(out)
    try:
        d = load(folder, entry)
        own(d, record_files(d), lambda kind, r, f=None: emitted.append(r)
            or True, [])
    except (ValueError, OSError):
        return False
    finally:
        del out[mark:]  # its warnings belong to a --package of it
    files = {rel + suffix for suffix in MODULE_SUFFIXES}
    return any(r == rel or r.startswith(rel + '/') or r in files
               for r in emitted)


def providers(names, search):
    """provider=NAME<TAB>DIST,... lines for the import warning: the
    installed distributions whose top-level modules include each of names
    and that really hold it; for a dotted name (a part of a namespace
    package: lazr.uri), the one named so. module=NAME<TAB>DEBPKG for a name
    installed without metadata, which `--package NAME` packs (DEBPKG: the
    Debian package that holds it, or empty)."""
    wanted, found = set(names), {}
    dotted = {normalize(n): n for n in names if '.' in n}
    for folder in search:
        for norm, entry in meta_entries(folder):
            dist = PathDistribution(Path(folder, entry))
            tops = (dist.read_text('top_level.txt') or '').split()
            if not tops:
                tops = [str(f).split('/')[0] for f in dist.files or []] or \
                    [norm.replace('-', '_')]  # as guess_files() does
            if norm in dotted:
                tops = tops + [dotted[norm]]
            for top in tops:
                if top != dotted.get(norm):
                    top = top.split('.')[0]
                if top in wanted and norm not in found.setdefault(top, []) \
                        and holds(folder, entry, top):
                    found[top].append(norm)
    lines = [f'provider={top}\t{",".join(dists)}'
             for top, dists in sorted(found.items()) if dists]
    for name in sorted(wanted - {t for t, d in found.items() if d}):
        plain = plain_module(name, search)
        if plain:
            owner = dpkg_list(os.path.join(*plain))
            lines.append(f'module={name}\t{owner[0] if owner else ""}')
    return lines


def installed(search):
    """installed=NAME lines: the top-level names importable from the site
    folders (packages, namespace folders, modules, extensions)."""
    names = set()
    for folder in search:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for e in entries:
            base = e.split('.')[0]
            full = os.path.join(folder, e)
            if base.isidentifier() and (
                    (e == base and os.path.isdir(full)) or
                    e.endswith(MODULE_SUFFIXES)):
                names.add(base)
    return [f'installed={n}' for n in sorted(names)]


def group_owners(group):
    """The names of the distribution an entry-point group may belong to,
    normalized, as groups are named: flake8.extension, pytest11,
    sphinx.html_themes."""
    first = group.split('.')[0]
    return {normalize(first), normalize(re.sub(r'\d+$', '', first))}


def entry_groups(folder, entry):
    """The groups of the entry points of the distribution at
    folder/entry."""
    text = PathDistribution(Path(folder, entry)).read_text(
        'entry_points.txt') or ''
    return set(re.findall(r'^\s*\[\s*([^\]\s]+)\s*\]', text, re.M))


def tops_of(d):
    names = (d['dist'].read_text('top_level.txt') or '').split()
    return {normalize(n.split('.')[0]) for n in names}


def plugins(requested, index, loaded):
    """(folder, entry, group, owner) of the installed distributions with
    entry points in a group named after a requested distribution (or one of
    its top-level modules): the plugins it would load under python3
    (flake8's flake8.extension: mccabe)."""
    owners = {}
    for d in requested:
        for n in {normalize(d['name'])} | tops_of(d):
            owners.setdefault(n, d['name'])
    found = []
    for norm, (folder, entry) in sorted(index.items()):
        if os.path.join(folder, entry) in loaded:
            continue
        for group in sorted(entry_groups(folder, entry)):
            mine = group_owners(group) & set(owners)
            if group not in ('console_scripts', 'gui_scripts') and mine:
                found.append((norm, group, owners[min(mine)]))
                break
    return found


def main(lines):
    asked = [v for k, v in lines if k == 'provides']
    if asked or any(k == 'installed' for k, v in lines):
        out.extend(providers(asked, site_dirs(lines)) if asked else [])
        out.extend(installed(site_dirs(lines)) if ('installed', '1') in lines
                   else [])
        return
    specs = [v for k, v in lines if k == 'package']
    follow = [v.partition('\t')[::2] for k, v in lines if k == 'follow']
    packed = {normalize(v.rsplit('.', 1)[0].split('-')[0])
              for k, v in lines if k == 'packed'}
    sites = [v for k, v in lines if k == 'site-packages']
    search = site_dirs(lines)
    for d in search:
        out.append('search=' + d)
    index = {}
    for folder in search:
        for norm, entry in meta_entries(folder):
            index.setdefault(norm, (folder, entry))
    emitted, refused, loaded = set(), set(), {}
    current = [None]

    def emit(kind, rel, folder=None):
        """Says to pack rel; False (after one warning) when it leads
        outside its folder."""
        folder = folder or current[0]
        if (folder, rel) in refused:
            return False
        if (folder, kind, rel) in emitted:
            return True
        if any(map(is_control, rel)):
            refused.add((folder, rel))
            out.append('warning=skipping ' +
                       escaped(os.path.join(folder, rel)) + ': its name '
                       'holds a control character (a newline, say), so it '
                       'is not packed; rename it')
            return False
        why = leaves(folder, rel)
        if why:
            refused.add((folder, rel))
            out.append('warning=' + why)
            return False
        if current[0] != folder:
            out.append('site=' + folder)
            current[0] = folder
        emitted.add((folder, kind, rel))
        out.append(f'{kind}={rel}')
        return True

    def pack(d, why):
        if current[0] != d['folder']:
            out.append('site=' + d['folder'])
            current[0] = d['folder']
        out.append(f'dist={d["name"]}\t{d["version"]}\t{why}')
        skipped = []
        own(d, record_files(d), emit, skipped)
        out.extend('skip=' + os.path.join(d['folder'], s) for s in skipped)

    # --site-packages DIR: everything in it.
    for folder in sites:
        if not os.path.isdir(folder):
            raise ValueError(f'--site-packages {folder}: no such folder')
        folder = os.path.abspath(folder)
        skipped = []
        for norm, entry in meta_entries(folder):
            d = load(folder, entry)
            loaded[d['path']] = d
            pack(d, f'in {folder}')
        leftovers(folder, '', emit, emitted, skipped)
        for s in skipped:
            out.append('skip=' + folder + '/' + s)

    # --package NAME: the distribution and what it requires; follow=NAME:
    # what the import scan found missing. reason: why, for what no
    # --package names.
    queue = [(name, set(), None, name, why) for name, why in follow
             if normalize(name) not in packed]
    for spec in specs:
        m = re.fullmatch(r'\s*([A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)'
                         r'\s*(?:\[([^\]]*)\])?\s*', spec)
        if not m:
            raise ValueError(f'--package {spec!r}: not a distribution name; '
                             'write NAME or NAME[extra,...]')
        queue.append((m.group(1), parse_extras(m.group(2), f'--package '
                                               f'{spec}'), None, spec, None))
    requested = []  # by --package, for their plugins; None once done
    while True:
        # Once they and what they require are in: their plugins, once.
        if not queue and specs and requested is not None:
            queue = [(norm, set(), None, norm, f'a {group} plugin of {owner}')
                     for norm, group, owner in plugins(requested, index,
                                                       loaded)]
            requested = None
        if not queue:
            break
        name, extras, by, spec, reason = queue.pop(0)
        norm = normalize(name)
        if norm in packed:
            continue
        if norm not in index:
            plain = by is None and plain_module(name, search)
            if plain:  # a module installed without metadata
                if reason and emit('tree', plain[1], plain[0]):
                    out.append(f'note=packing {name} ({reason}), installed '
                               f'without metadata in {plain[0]}')
                elif not reason:
                    emit('tree', plain[1], plain[0])
                continue
            if reason:
                continue
            if by is None:
                raise ValueError(
                    f'no distribution named {norm!r} (--package {spec}) is '
                    f'installed for CPython {ENV["python_full_version"]}'
                    f'{did_you_mean(norm, index, search)}; '
                    'searched:\n' + ''.join(f'  {d}\n' for d in search) +
                    '  install it, or pack a folder with --site-packages '
                    'DIR or --path DIR')
            out.append(f'warning={by["name"]} {by["version"]} requires '
                       f'{spec.split(";")[0].strip()}, which is not '
                       'installed: it is not packed')
            continue
        folder, entry = index[norm]
        path = os.path.join(folder, entry)
        first = path not in loaded
        d = loaded[path] if not first else load(folder, entry)
        loaded[path] = d
        new = extras - d['extras']
        if not first and not new:
            continue
        d['extras'] |= new
        reqs = [requirement(d, r) for r in d['requires']]
        offered = {normalize(e) for e in d['dist'].metadata.get_all(
            'Provides-Extra') or []}
        offered |= {normalize(e) for r in d['requires'] for e in
                    re.findall(r'''extra\s*==\s*['"]([^'"]*)['"]''', r)}
        for e in sorted(new - offered):
            out.append(f'warning={d["name"]} {d["version"]} has no extra '
                       f'{e!r} (asked for by '
                       f'{"--package " + spec if by is None else by["name"]})')
        if first:
            why = reason or ('requested' if by is None
                             else f'required by {by["name"]}')
            pack(d, why + (f' [{",".join(sorted(extras))}]'
                           if extras else ''))
            if by is None and reason is None and requested is not None:
                requested.append(d)
        for text, rname, rextras, marker in reqs:
            wanted = ([''] if first else []) + sorted(new)
            if marker is None and not first:
                continue
            if marker is None or marker == 'bad' or \
                    any(evaluate(marker, e) for e in wanted):
                queue.append((rname, rextras, d, text, None))


def dists(request):
    """The answer to request (bytes), as lines."""
    global out, dpkg_lists
    out, dpkg_lists = [], None  # each request reads the system afresh
    main([line.partition('=')[::2] for line in request.decode().splitlines()
          if '=' in line])
    # One line each, whatever a name held (a skip= row from a RECORD).
    return ''.join(one_line(line) + '\n' for line in out)
