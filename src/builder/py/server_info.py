# server_info.py - compile-server op INFO: key=value lines about this CPython
# and this launcher. arg_data is the text of the SCAN snippet: its checksum,
# `scanner`, keys the scans that kiln caches.
# Snippets run in a fresh namespace with arg_name (str), arg_data (bytes)
# and arg_flags (int) and leave their answer, a str, in `result`.
import _imp, sys, os, sysconfig, importlib.util, importlib.machinery, zlib
stdlib = sysconfig.get_paths()['stdlib']
dynload = sysconfig.get_config_var('DESTSHARED') or os.path.join(stdlib, 'lib-dynload')
result = '\n'.join([
  'version=' + sys.version.split()[0],
  'hexversion=%d' % sys.hexversion,
  'magic=' + importlib.util.MAGIC_NUMBER.hex(),
  'stdlib=' + stdlib,
  'dynload=' + dynload,
  'ext_suffix=' + importlib.machinery.EXTENSION_SUFFIXES[0],
  'builtins=' + ','.join(sys.builtin_module_names),
  'frozen=' + ','.join(getattr(_imp, '_frozen_module_names', list)()),
  'scanner=%08x' % zlib.crc32(arg_data),
]) + '\n'
