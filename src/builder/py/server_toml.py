# server_toml.py - compile-server op TOML: [tool.kiln] of a pyproject.toml
# as key=value lines, checked here so that kiln's C side reads plain lines
# only. The server loads it once and calls toml().
import tomllib
known = {'script': str, 'module': str, 'path': list, 'output': str,
         'interpreter': bool, 'source': bool, 'optimize': int,
         'gc-freeze': bool, 'python-child': bool, 'unbuffered': bool,
         'packages': list, 'site-packages': list,
         'extract': list, 'no-extract': list, 'stdlib-files': bool,
         'python': str}
words = {str: 'a string', list: 'a list of strings', bool: 'true or '
         'false', int: 'an integer'}


def toml(path):
    """[tool.kiln] of the pyproject.toml at path, as lines."""
    try:
        with open(path, 'rb') as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f'{path}: invalid TOML: {e}') from None
    except OSError as e:
        raise ValueError(f'{path}: {e.strerror}') from None
    table = doc.get('tool', {}).get('kiln', {})
    if not isinstance(table, dict):
        raise ValueError(f'{path}: [tool.kiln] must be a table')
    lines = []
    for key, value in table.items():
        if key not in known:
            raise ValueError(f'{path}: [tool.kiln] has unknown key '
                             f'{key!r}; known keys: {", ".join(known)}')
        kind = known[key]
        if type(value) is not kind:
            raise ValueError(f'{path}: [tool.kiln] {key} must be '
                             f'{words[kind]}, not {type(value).__name__}')
        items = value if kind is list else [value]
        for item in items:
            if kind is list and not isinstance(item, str):
                raise ValueError(f'{path}: [tool.kiln] {key} must '
                                 'hold strings')
            if isinstance(item, bool):
                item = 'true' if item else 'false'
            item = str(item)
            if '\n' in item:
                raise ValueError(f'{path}: [tool.kiln] {key} holds '
                                 'a newline')
            lines.append(f'{key}={item}\n')
    return ''.join(lines)
