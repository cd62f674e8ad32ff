"""A fast reader for the small block-style YAML that dvc and tide write into ``.dvc`` files.

    outs:
    - md5: 3863d0e317dee0a55c4e59d2ec0eef33.dir
      size: 10240000
      nfiles: 10000
      hash: md5
      path: data

Importing PyYAML and building its loader costs more than the rest of ``tide status`` on a
small repository, so this module reads the common shape directly: top-level ``key: scalar``
lines, lists of flat mappings, and mappings of scalars or of flat mappings two-space indented (the
sections of tide.yaml, e.g. ``remotes: {store: {format: chunked}}``, read by every ``status -c``).
Anything else (comments, quotes, deeper nesting, flow style, numbers
that are not plain decimal integers, words YAML may read as booleans or null, CRLF) makes
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


def _scalar(v: str) -> Any:
    if v == "true":
        return True
    if v == "false":
        return False
    if v.isdigit() and v.isascii() and (v[0] != "0" or v == "0"):
        return int(v)
    if v[0] not in _FIRST_CHARS or not _STR_CHARS.issuperset(v) or v.lower() in _WORDS:
        raise _NotSimple
    if (v[0].isdigit() or v[0] == "_") and (_NUMBER_CHARS.issuperset(v) or v[1:2] in "xXoObB"):
        raise _NotSimple  # 1e5, 1_000, 2024-01-02, 0x1f...: the full loader decides
    return v


def _is_key(k: str) -> bool:
    # keys are resolved like values: `true:` is the boolean True, `null:` None
    return k.isascii() and k.isidentifier() and k == k.lower() and k not in _WORDS


def _key_value(line: str) -> tuple[str, str]:
    key, sep, value = line.partition(": ")
    if not sep:
        if line.endswith(":") and _is_key(line[:-1]):
            return line[:-1], ""
        raise _NotSimple
    if not _is_key(key) or not value or value[0] == " ":
        raise _NotSimple
    return key, value


def parse(text: str) -> dict[str, Any] | None:
    """The document as the full loader would return it, or None when it is not in the simple shape."""
    if not text.endswith("\n") or "\r" in text or "\t" in text:
        return None
    try:
        return _parse(text.split("\n")[:-1])
    except _NotSimple:
        return None


def _parse(lines: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    items: list[dict[str, Any]] | None = None  # the list being filled
    item: dict[str, Any] | None = None
    mapping: dict[str, Any] | None = None  # the mapping under a top-level key (two-space indent)
    sub: dict[str, Any] | None = None  # the mapping under one of its keys (four-space indent)
    empty: str | None = None  # a top-level `key:` whose first line under it decides list or mapping
    for line in lines:
        if line.startswith("- "):
            if empty is not None:
                items = doc[empty] = []
                empty = None
            if items is None:
                raise _NotSimple
            key, value = _key_value(line[2:])
            if not value:
                raise _NotSimple
            item = {key: _scalar(value)}
            items.append(item)
        elif line.startswith("    "):
            if sub is None:
                raise _NotSimple
            key, value = _key_value(line[4:])
            if not value or key in sub:
                raise _NotSimple
            sub[key] = _scalar(value)
        elif line.startswith("  ") and item is not None:
            key, value = _key_value(line[2:])
            if not value or key in item:
                raise _NotSimple
            item[key] = _scalar(value)
        elif line.startswith("  "):  # tide.yaml's sections: a mapping of scalars or of mappings of scalars
            if empty is not None:
                mapping = doc[empty] = {}
                empty = None
            if mapping is None or sub == {}:
                raise _NotSimple  # `key:` with nothing under it is null, not an empty mapping
            key, value = _key_value(line[2:])
            if key in mapping:
                raise _NotSimple
            if value:
                sub = None
                mapping[key] = _scalar(value)
            else:
                sub = mapping[key] = {}
        else:
            if empty is not None or sub == {}:
                raise _NotSimple  # `key:` with nothing under it is null
            key, value = _key_value(line)
            if key in doc:
                raise _NotSimple
            item = items = mapping = sub = None
            if value:
                doc[key] = _scalar(value)
            else:
                empty, doc[key] = key, None
    if empty is not None or sub == {}:
        raise _NotSimple
    return doc
