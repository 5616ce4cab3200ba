"""Unit tests of src/launcher/py/kiln_support.py, the Python half of kiln's
importer, run by python3 itself: a fake _kiln module serves a small payload
(files by packed path, modules by name) through the same primitives as the
launcher's (kind, listdir, read, locate, exe, temp_folder, the constants).

    python3 -I tests/py/test_kiln_support.py
"""
import importlib.metadata
import importlib.util
import os
import pathlib
import sys
import tempfile
import types
import unittest

sys.dont_write_bytecode = True  # -I ignores PYTHONDONTWRITEBYTECODE

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "..", "src", "launcher", "py",
                       "kiln_support.py")
EXE = "/opt/app/tool"

# The flags of src/format/kpack.h, as the launcher's _kiln exports them.
MOD_CODE, MOD_EXTENSION, MOD_SOURCE, MOD_PACKAGE, MOD_NAMESPACE = 1, 2, 4, 8, 16


def fake_kiln(files, modules, temp):
    """A _kiln over files ({packed path: bytes}) and modules ({name:
    (flags, packed path, base)})."""
    kiln = types.ModuleType("_kiln")
    kiln.exe = EXE
    kiln.MOD_CODE, kiln.MOD_EXTENSION, kiln.MOD_SOURCE = 1, 2, 4
    kiln.MOD_PACKAGE, kiln.MOD_NAMESPACE = MOD_PACKAGE, MOD_NAMESPACE
    kiln.MOD_EXTRACT, kiln.MOD_STDLIB = 32, 64
    kiln.FILE, kiln.FOLDER = 1, 2

    def children(rel):
        prefix = rel + "/" if rel else ""
        found = [p[len(prefix):] for p in files if p.startswith(prefix)]
        names = {p.split("/")[0] for p in found if "/" not in p}
        dirs = {p.split("/")[0] for p in found if "/" in p}
        return sorted(names), sorted(dirs)

    def kind(rel):
        rel = os.fsdecode(rel)
        if rel in files:
            return kiln.FILE
        return kiln.FOLDER if rel == "" or any(children(rel)) else 0

    def listdir(rel):
        rel = os.fsdecode(rel)
        if kind(rel) != kiln.FOLDER:
            raise FileNotFoundError(2, "No such folder", f"{EXE}/{rel}")
        return children(rel)

    def read(rel):
        rel = os.fsdecode(rel)
        if rel not in files:
            raise FileNotFoundError(2, "No such file", f"{EXE}/{rel}")
        return files[rel]

    def locate(fullname):
        if fullname not in modules:
            raise ImportError(f"kiln: module {fullname!r} is not packed")
        return modules[fullname]

    kiln.kind, kiln.listdir, kiln.read, kiln.locate = kind, listdir, read, \
        locate
    kiln.temp_folder = lambda: temp
    return kiln


FILES = {
    "pkg/__init__.py": b"",
    "pkg/data/a.txt": b"alpha\n",
    "pkg/data/b.bin": b"\x00\xff",
    "pkg/data/sub/c.txt": "caf\u00e9\n".encode(),
    "ns/part/x.txt": b"x",
    "site/foo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: foo\n"
                                       b"Version: 1.0\n",
    "site/Bar_Baz-2.0.dist-info/METADATA": b"Metadata-Version: 2.1\n"
                                           b"Name: Bar-Baz\nVersion: 2.0\n",
    "site/notes.txt": b"not a distribution",
}
MODULES = {
    "pkg": (MOD_CODE | MOD_SOURCE | MOD_PACKAGE, "pkg/__init__.py", EXE),
    "pkg.mod": (MOD_CODE, "pkg/mod.py", EXE),
    "ns": (MOD_NAMESPACE, "ns", EXE),
    "ext": (MOD_CODE | MOD_PACKAGE, "ext/__init__.py", "/cache/ext-1"),
}


class SupportTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.addCleanup(self.temp.cleanup)
        saved = sys.modules.get("_kiln")
        self.addCleanup(self.restore, saved)
        sys.modules["_kiln"] = fake_kiln(FILES, MODULES, self.temp.name)
        spec = importlib.util.spec_from_file_location("_kiln_support",
                                                      SUPPORT)
        self.ks = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.ks)

    @staticmethod
    def restore(saved):
        if saved is None:
            sys.modules.pop("_kiln", None)
        else:
            sys.modules["_kiln"] = saved

    # -- KilnPath, the Traversable -------------------------------------

    def test_paths_and_names(self):
        KilnPath = self.ks.KilnPath
        root = KilnPath()
        self.assertEqual(str(root), EXE)
        self.assertEqual(root.name, "tool")
        data = root / "pkg" / "data"
        self.assertEqual(str(data), EXE + "/pkg/data")
        self.assertEqual(data.name, "data")
        self.assertEqual(data.parent, KilnPath("pkg"))
        self.assertEqual(root.joinpath("pkg/./data/", "a.txt"),
                         KilnPath("pkg/data/a.txt"))
        self.assertEqual(hash(KilnPath("/pkg/")), hash(KilnPath("pkg")))
        self.assertEqual(root.joinpath(pathlib.PurePosixPath("pkg")),
                         KilnPath("pkg"))
        with self.assertRaises(TypeError):
            root.joinpath(b"pkg")

    def test_kinds_and_listing(self):
        data = self.ks.KilnPath("pkg/data")
        self.assertTrue(data.exists() and data.is_dir())
        self.assertFalse(data.is_file())
        self.assertTrue((data / "a.txt").is_file())
        self.assertFalse((data / "missing").exists())
        self.assertEqual([p.name for p in data.iterdir()],
                         ["a.txt", "b.bin", "sub"])

    def test_reading(self):
        data = self.ks.KilnPath("pkg/data")
        self.assertEqual((data / "b.bin").read_bytes(), b"\x00\xff")
        self.assertEqual((data / "sub/c.txt").read_text(encoding="utf-8"),
                         "caf\u00e9\n")
        with (data / "a.txt").open("rb") as f:
            self.assertEqual(f.read(), b"alpha\n")
        with (data / "a.txt").open(encoding="ascii") as f:
            self.assertEqual(f.read(), "alpha\n")
        with self.assertRaises(OSError) as cm:
            (data / "a.txt").open("w")
        self.assertEqual(cm.exception.errno, 30)
        with self.assertRaises(ValueError):
            (data / "a.txt").open("rb", encoding="utf-8")
        with self.assertRaises(FileNotFoundError):
            (data / "missing").read_bytes()

    # -- importlib.resources -------------------------------------------

    def test_resource_reader_of_a_package(self):
        files = self.ks.get_resource_reader("pkg").files()
        self.assertEqual(files, self.ks.KilnPath("pkg"))
        self.assertEqual((files / "data" / "a.txt").read_bytes(),
                         b"alpha\n")

    def test_resource_reader_of_a_namespace_package(self):
        # A namespace package's packed path is its folder (MOD_NAMESPACE).
        files = self.ks.get_resource_reader("ns").files()
        self.assertEqual(files, self.ks.KilnPath("ns"))

    def test_resource_reader_of_an_extracted_package(self):
        files = self.ks.get_resource_reader("ext").files()
        self.assertEqual(files, pathlib.Path("/cache/ext-1", "ext"))

    def test_resource_reader_of_a_module_not_packed(self):
        with self.assertRaises(ImportError):
            self.ks.get_resource_reader("nowhere")

    # -- importlib.metadata --------------------------------------------

    def find(self, **kw):
        context = importlib.metadata.DistributionFinder.Context(**kw)
        return list(self.ks.find_distributions(context))

    def test_distributions(self):
        site = EXE + "/site"
        dists = self.find(path=[site, site, "/elsewhere", 42])
        self.assertEqual(sorted(d.metadata["Name"] for d in dists),
                         ["Bar-Baz", "foo"])
        self.assertEqual([d.version for d in self.find(name="foo",
                                                       path=[site])],
                         ["1.0"])
        self.assertEqual([d.version for d in self.find(name="bar_baz",
                                                       path=[site])],
                         ["2.0"])
        self.assertEqual(self.find(name="foo", path=[EXE]), [])

    def test_packed_rel(self):
        rel = self.ks._packed_rel
        self.assertEqual(rel(EXE), "")
        self.assertEqual(rel(EXE + "/pkg/data/"), "pkg/data")
        self.assertIsNone(rel(EXE + "x/pkg"))
        self.assertIsNone(rel(b"/opt/app/tool"))

    # -- pkg_resources.resource_filename() -----------------------------

    def test_extract_for_filename(self):
        target = self.ks._extract_for_filename("pkg/data")
        self.assertTrue(target.startswith(self.temp.name + os.sep))
        with open(os.path.join(target, "sub", "c.txt"), "rb") as f:
            self.assertEqual(f.read(), FILES["pkg/data/sub/c.txt"])
        self.assertEqual(sorted(os.listdir(target)),
                         ["a.txt", "b.bin", "sub"])
        missing = self.ks._extract_for_filename("pkg/nothing.txt")
        self.assertFalse(os.path.exists(missing))
        self.assertTrue(os.path.isdir(os.path.dirname(missing)))


if __name__ == "__main__":
    unittest.main()
