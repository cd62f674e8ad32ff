"""A fast reader for the small block-style YAML that dvc and tide write: ``.dvc`` files, ``dvc.yaml``,
``dvc.lock``, ``tide.yaml``.

    outs:
    - md5: 3863d0e317dee0a55c4e59d2ec0eef33.dir
      size: 10240000
      nfiles: 10000
      hash: md5
      path: data

Importing PyYAML and building its loader costs more than the rest of ``tide status`` on a
small repository (and ~30 ms of a ``repro`` with nothing to do), so this module reads the common
shape directly: block mappings and block sequences nested at any indentation, whose scalars are
plain words, decimal integers and decimals, ``true``/``false``, commands (words separated by single
spaces, starting with a letter) and single-quoted strings without a quote inside. Anything else
(comments, blank lines, double quotes, flow style, anchors, multi-line scalars, numbers that are not
plain decimals, words YAML may read as booleans, null or dates, duplicate keys, tabs, CRLF) makes
``parse`` return None and ``tide.core.yamlio`` (its only caller) uses the full reader, so the result
is always what that reader gives (tests compare both, and both with dvc's ruamel, on generated
documents). Keys are resolved like values: ``true:`` is not the string 'true'.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

# No `re` here: importing it costs about as much as the rest of this module's work on a status.
# Plain strings that no YAML 1.1/1.2 resolver turns into anything else: ASCII letters, digits and
# these few characters (no spaces, quotes, colons, hashes, brackets), not starting with an indicator.
_STR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=@+-")
_FIRST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# a word made of these only (and starting with a digit or _) may be a number, date or time
_NUMBER_CHARS = frozenset("0123456789_.eE+-")
_WORDS = frozenset({"null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf"})


class _NotSimple(Exception):
    pass


# inside a command-like value (words separated by spaces): characters no YAML reader treats specially
# there (no quotes, colons, hashes, brackets, backslashes); the first character is a letter
_WORDS_CHARS = _STR_CHARS | frozenset(" ,<>&|$()%*!?;~^")


def _scalar(v: str) -> Any:
    if v == "true":
        return True
    if v == "false":
        return False
    n = v[1:] if v[:1] == "-" else v
    if n.isdigit() and n.isascii() and (n[0] != "0" or n == "0"):
        return int(v)
    whole, dot, frac = n.partition(".")
    if dot and whole.isdigit() and frac.isdigit() and whole.isascii() and frac.isascii() and (
            whole[0] != "0" or whole == "0"):
        return float(v)  # 0.01, -2.5: what ruamel's 1.2 (and 1.1) float reads, and as it converts it
    if v[:1] == "'" and len(v) > 1 and v[-1] == "'" and "'" not in v[1:-1] and v[1:-1].isprintable():
        return v[1:-1]  # a single-quoted string: no escapes but '' (declined)
    if " " in v:
        if not ("a" <= v[0].lower() <= "z") or v[-1] == " " or "  " in v or not _WORDS_CHARS.issuperset(v):
            raise _NotSimple  # (a date, a number with a space, a comment, a mapping in disguise...)
        return v  # no resolver matches a word with a space in it that starts with a letter
    if v[0] not in _FIRST_CHARS or not _STR_CHARS.issuperset(v) or v.lower() in _WORDS:
        raise _NotSimple
    if (v[0].isdigit() or v[0] == "_") and (_NUMBER_CHARS.issuperset(v) or v[1:2] in "xXoObB"):
        raise _NotSimple  # 1e5, 1_000, 2024-01-02, 0x1f...: the full loader decides
    return v


def _key(k: str) -> str:
    """A plain key that reads as a string (keys are resolved like values: ``true:`` is True)."""
    if not k or " " in k or k[0] == "'" or not isinstance(_scalar(k), str):
        raise _NotSimple
    return k


def _key_value(line: str) -> tuple[str, str]:
    key, sep, value = line.partition(": ")
    if not sep:
        if line.endswith(":"):
            return _key(line[:-1]), ""
        raise _NotSimple
    if not value or value[0] == " ":
        raise _NotSimple
    return _key(key), value


def parse(text: str) -> dict[str, Any] | None:
    """The document as the full loader would return it, or None when it is not in the simple shape."""
    if not text.endswith("\n") or "\r" in text or "\t" in text:
        return None
    lines = []
    for line in text.split("\n")[:-1]:
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            return None  # blank lines and comments: the full reader
        lines.append((len(line) - len(body), body))
    if not lines or lines[0][0] != 0:
        return None
    try:
        doc, end = _mapping(lines, 0, 0)
    except (_NotSimple, RecursionError):
        return None
    return doc if end == len(lines) else None


def _block(lines: list[tuple[int, str]], i: int, parent: int, seq_ok: bool) -> tuple[Any, int]:
    """The value of a ``key:`` whose lines start at ``i`` (its key indented ``parent``): a nested
    mapping or sequence, or None when nothing is nested. A sequence may sit at the key's own indent
    (``seq_ok``: the key is a mapping's, as dvc writes ``deps:\n- path: x``)."""
    if i == len(lines):
        return None, i
    indent, body = lines[i]
    if body.startswith("- ") and (indent > parent or (indent == parent and seq_ok)):
        return _sequence(lines, i, indent)
    if indent > parent:
        return _mapping(lines, i, indent)
    return None, i


def _mapping(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    while i < len(lines):
        at, body = lines[i]
        if at < indent:
            break
        if at > indent or body.startswith("- ") or body == "-":
            if at == indent and body.startswith("- "):
                break  # the parent's sequence goes on
            raise _NotSimple
        key, value = _key_value(body)
        if key in out:
            raise _NotSimple  # a duplicate key: the full reader refuses the file
        if value:
            out[key] = _scalar(value)
            i += 1
            if i < len(lines) and lines[i][0] > indent:
                raise _NotSimple  # a scalar continued on the next line
        else:
            out[key], i = _block(lines, i + 1, indent, True)
    return out, i


def _sequence(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    while i < len(lines):
        at, body = lines[i]
        if at != indent or not body.startswith("- "):
            if at > indent:
                raise _NotSimple
            break
        rest = body[2:]
        if not rest or rest[0] in " -":
            raise _NotSimple  # "-  x", "- - x": the full reader
        key, sep, _ = rest.partition(": ")
        if sep or rest.endswith(":"):  # a mapping: its first key on the dash's line, the others under it
            lines[i] = (indent + 2, rest)
            item, i = _mapping(lines, i, indent + 2)
            out.append(item)
        else:
            out.append(_scalar(rest))
            i += 1
            if i < len(lines) and lines[i][0] > indent:
                raise _NotSimple
    return out, i
