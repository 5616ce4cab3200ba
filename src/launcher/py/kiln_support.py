# kiln_support.py - the Python half of kiln's importer, loaded only when a
# program asks for it: importlib.resources readers and Traversables over the
# packed files, and importlib.metadata distributions packed in the
# executable. Everything is read through the C primitives of _kiln, and
# the flags of packed modules are its constants (_kiln.MOD_*).
import io
import os as _os

import _kiln


class KilnPath:
    """A packed file or folder, as importlib.resources' Traversable and as
    the SimplePath that importlib.metadata's PathDistribution reads. Names
    are str as os.listdir() gives them: packed bytes decoded with the
    filesystem encoding (os.fsdecode), and _kiln encodes them back the same
    way (os.fsencode), so a name that is not UTF-8 round-trips."""

    __slots__ = ("_rel",)

    def __init__(self, rel=""):
        self._rel = rel.strip("/")

    def __str__(self):
        return _kiln.exe + "/" + self._rel if self._rel else _kiln.exe

    def __repr__(self):
        return f"KilnPath({str(self)!r})"

    def __eq__(self, other):
        return isinstance(other, KilnPath) and other._rel == self._rel

    def __hash__(self):
        return hash(self._rel)

    @property
    def name(self):
        return self._rel.rpartition("/")[2] if self._rel else \
            _kiln.exe.rpartition("/")[2]

    @property
    def parent(self):
        return KilnPath(self._rel.rpartition("/")[0])

    def joinpath(self, *descendants):
        parts = [self._rel] if self._rel else []
        for d in descendants:
            d = _os.fspath(d)
            if not isinstance(d, str):  # as pathlib: bytes are refused
                raise TypeError("argument should be a str object or an "
                                "os.PathLike object returning str, not "
                                f"{type(d)!r}")
            parts.extend(p for p in d.split("/") if p not in ("", "."))
        return KilnPath("/".join(parts))

    __truediv__ = joinpath

    def exists(self):
        return _kiln.kind(self._rel) != 0

    def is_file(self):
        return _kiln.kind(self._rel) == _kiln.FILE

    def is_dir(self):
        return _kiln.kind(self._rel) == _kiln.FOLDER

    def iterdir(self):
        files, dirs = _kiln.listdir(self._rel)
        for name in sorted(files + dirs):
            yield self.joinpath(name)

    def read_bytes(self):
        return _kiln.read(self._rel)

    def read_text(self, encoding=None, errors=None):
        with self.open("r", encoding=encoding, errors=errors) as f:
            return f.read()

    def open(self, mode="r", *args, **kwargs):
        if mode not in ("r", "rb", "rt"):
            raise OSError(30, f"Read-only file system: mode {mode!r} "
                          f"cannot write {self}")
        data = io.BytesIO(_kiln.read(self._rel))
        if mode == "rb":
            if args or kwargs:
                raise ValueError("binary mode doesn't take an encoding "
                                 "argument")
            return data
        if not args and kwargs.get("encoding") is None:
            kwargs["encoding"] = io.text_encoding(None)
        return io.TextIOWrapper(data, *args, **kwargs)


def _reader_class():
    try:
        from importlib.resources.abc import TraversableResources
    except ImportError:  # 3.10
        from importlib.abc import TraversableResources

    class KilnReader(TraversableResources):
        def __init__(self, root):
            self._root = root

        def files(self):
            return self._root

    return KilnReader


_reader = None


def get_resource_reader(fullname):
    """The resources of a packed package (a module: its folder's)."""
    global _reader
    flags, rel, base = _kiln.locate(fullname)
    folder = rel if flags & _kiln.MOD_NAMESPACE else rel.rpartition("/")[0]
    if _reader is None:
        _reader = _reader_class()
    if base != _kiln.exe:  # extracted: real files
        import pathlib
        return _reader(pathlib.Path(base, folder))
    return _reader(KilnPath(folder))


def find_distributions(context):
    """Distributions packed in this executable whose folder is on
    context.path and whose name matches context.name, as
    importlib.metadata's MetadataPathFinder finds them on disk."""
    from importlib.metadata import PathDistribution, Prepared

    prepared = Prepared(context.name)
    found = []
    seen = set()  # an app's sys.path holds the executable twice
    for entry in context.path:
        rel = _packed_rel(entry)
        if rel is None or rel in seen or _kiln.kind(rel) != _kiln.FOLDER:
            continue
        seen.add(rel)
        folder = KilnPath(rel)
        files, dirs = _kiln.listdir(rel)
        for child in sorted(files + dirs):
            low = child.lower()
            if not low.endswith((".dist-info", ".egg-info")):
                continue
            name = low.rpartition(".")[0].partition("-")[0]
            if prepared and Prepared.normalize(name) != prepared.normalized:
                continue
            found.append(PathDistribution(folder.joinpath(child)))
    return iter(found)



def _packed_rel(path):
    """The packed path of a virtual path under the executable, else None."""
    if not isinstance(path, str):
        return None
    if path == _kiln.exe:
        return ""
    if path.startswith(_kiln.exe + "/"):
        return path[len(_kiln.exe) + 1:].strip("/")
    return None


def setup_pkg_resources(pr):
    """Teaches pkg_resources (setuptools' old API), just imported as pr,
    the packed distributions and resources, as it knows zipped eggs: a
    finder for the executable's sys.path entries, a provider for modules
    kiln loads, and the packed distributions added to its working set."""
    import os
    import sys

    # A module merely named pkg_resources (a shim, a package's submodule)
    # is left alone.
    if not all(hasattr(pr, name) for name in (
            "NullProvider", "Distribution", "register_finder",
            "register_loader_type", "find_distributions", "working_set")):
        return

    class KilnProvider(pr.NullProvider):
        """Resources and metadata of packed files (of extracted packages:
        real files)."""

        def _has(self, path):
            rel = _packed_rel(path)
            return os.path.exists(path) if rel is None else \
                _kiln.kind(rel) != 0

        def _isdir(self, path):
            rel = _packed_rel(path)
            return os.path.isdir(path) if rel is None else \
                _kiln.kind(rel) == _kiln.FOLDER

        def _listdir(self, path):
            rel = _packed_rel(path)
            if rel is None:
                return os.listdir(path)
            files, dirs = _kiln.listdir(rel)
            return sorted(files + dirs)

        def _get(self, path):
            rel = _packed_rel(path)
            if rel is None:
                with open(path, "rb") as f:
                    return f.read()
            return _kiln.read(rel)

        def get_resource_filename(self, manager, resource_name):
            path = self._fn(self.module_path, resource_name)
            rel = _packed_rel(path)
            return path if rel is None else _extract_for_filename(rel)

    class KilnMetadata(KilnProvider):
        """A packed .dist-info or .egg-info folder, as PathMetadata."""

        def __init__(self, path, egg_info):
            self.module_path = path
            self.egg_info = egg_info

    def find_packed(importer, path_item, only=False):
        rel = _packed_rel(path_item)
        if rel is None or _kiln.kind(rel) != _kiln.FOLDER:
            return
        files, dirs = _kiln.listdir(rel)
        for child in sorted(dirs):
            if child.lower().endswith((".dist-info", ".egg-info")):
                yield pr.Distribution.from_location(
                    path_item, child,
                    metadata=KilnMetadata(path_item, path_item + "/" + child))

    try:
        pr.register_finder(_kiln.PathEntry, find_packed)
        pr.register_loader_type(_kiln.Importer, KilnProvider)
        pr.register_loader_type(_kiln.Loader, KilnProvider)
        ws = pr.working_set
        # Activated as pkg_resources activates what it finds on sys.path
        # as it loads (replace=False), not as later additions, which would
        # drop the second <exe> entry from sys.path.
        callbacks, ws.callbacks, added = ws.callbacks, [], []
        try:
            for entry in dict.fromkeys(ws.entries):  # each once
                if _packed_rel(entry) is not None:
                    for dist in pr.find_distributions(entry, True):
                        if dist.key not in ws.by_key:
                            ws.add(dist, entry, False)
                            added.append(dist)
        finally:
            ws.callbacks = callbacks
        for dist in added:
            dist.activate(replace=False)
    except Exception as e:  # a pkg_resources kiln does not know
        import warnings
        warnings.warn(f"kiln: pkg_resources will not see packed "
                      f"distributions: {e!r}", RuntimeWarning)
        return
    # What pkg_resources does with a script's __requires__ as it loads
    # (kiln's importer took it away until now).
    requires = getattr(sys.modules.get("__main__"), "__requires__", None)
    if requires:
        ws.require(requires)


_filename_root = None


def _extract_for_filename(rel):
    """pkg_resources.resource_filename() of a packed file or folder: a real
    copy, in a private folder removed at exit (as pkg_resources extracts
    from zipped eggs). For a name packed nowhere, the path it would have
    there, its folder made (as python3 gives the path in the package's
    folder)."""
    global _filename_root
    import os
    if _filename_root is None:
        # In the app's private temporary folder (0700, made by the launcher
        # in a $TMPDIR whose folders it checked, else /tmp; removed at
        # exit), not a mkdtemp() in a $TMPDIR that another user could
        # change.
        root = os.path.join(_kiln.temp_folder(), "resource-files")
        os.makedirs(root, mode=0o700, exist_ok=True)
        _filename_root = root
    target = os.path.join(_filename_root, *rel.split("/"))
    if _kiln.kind(rel) == 0:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        return target
    pending = [rel]
    while pending:
        item = pending.pop()
        out = os.path.join(_filename_root, *item.split("/"))
        if _kiln.kind(item) == _kiln.FOLDER:
            os.makedirs(out, exist_ok=True)
            files, dirs = _kiln.listdir(item)
            pending.extend(f"{item}/{name}" for name in files + dirs)
        elif not os.path.exists(out):
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as f:
                f.write(_kiln.read(item))
    return target
