# server_info.py - compile-server op INFO: key=value lines about this CPython
# and this launcher. The server loads it once and calls info().
import _imp, sys, os, sysconfig, importlib.util, importlib.machinery, zlib


def info(scanner):
    """The lines; scanner is the text of server_scan.py: its checksum,
    `scanner`, keys the scans that kiln caches."""
    stdlib = sysconfig.get_paths()['stdlib']
    dynload = (sysconfig.get_config_var('DESTSHARED') or
               os.path.join(stdlib, 'lib-dynload'))
    return '\n'.join([
        'version=' + sys.version.split()[0],
        'hexversion=%d' % sys.hexversion,
        'magic=' + importlib.util.MAGIC_NUMBER.hex(),
        'stdlib=' + stdlib,
        'dynload=' + dynload,
        'ext_suffix=' + importlib.machinery.EXTENSION_SUFFIXES[0],
        'builtins=' + ','.join(sys.builtin_module_names),
        'frozen=' + ','.join(getattr(_imp, '_frozen_module_names', list)()),
        'scanner=%08x' % zlib.crc32(scanner),
    ]) + '\n'
