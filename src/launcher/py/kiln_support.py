# kiln_support.py - the Python half of kiln's importer, loaded only when a
# program asks for it: importlib.resources readers and Traversables over the
# packed files, and importlib.metadata distributions packed in the
# executable. Everything is read through the C primitives of _kiln.
import io

import _kiln

PACKAGE, NAMESPACE = 8, 16


class KilnPath:
    """A packed file or folder, as importlib.resources' Traversable and as
    the SimplePath that importlib.metadata's PathDistribution reads."""

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
            d = str(d)
            parts.extend(p for p in d.split("/") if p not in ("", "."))
        return KilnPath("/".join(parts))

    __truediv__ = joinpath

    def exists(self):
        return _kiln.kind(self._rel) != 0

    def is_file(self):
        return _kiln.kind(self._rel) == 1

    def is_dir(self):
        return _kiln.kind(self._rel) == 2

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
    folder = rel if flags & NAMESPACE else rel.rpartition("/")[0]
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
    for entry in context.path:
        if not isinstance(entry, str):
            continue
        if entry == _kiln.exe:
            rel = ""
        elif entry.startswith(_kiln.exe + "/"):
            rel = entry[len(_kiln.exe) + 1:]
        else:
            continue
        if _kiln.kind(rel) != 2:
            continue
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

