"""The one YAML reader of tide, with dvc's semantics, and the writer in the style dvc writes.

Every YAML file tide reads goes through :func:`loads` / :func:`load_file`: ``.dvc`` files, ``dvc.yaml``,
``dvc.lock``, params and metrics files, run-cache entries, in the workspace and at any git revision, and
tide's own ``tide.yaml``. It reads what dvc's reader (ruamel.yaml ``YAML(typ="safe")``) reads, the same way:

* YAML 1.2 scalars: ``yes``/``on``/``no`` are strings, ``0755`` is 755, ``1e-5`` is a float, only
  ``true``/``false`` (any of 3 casings) are booleans; a document starting with a ``%YAML 1.1`` directive
  is read with YAML 1.1 rules, as ruamel does;
* a mapping that names a key twice is refused (ruamel's DuplicateKeyError), a merge key (``<<``) too;
* one document per file; a scalar that looks like a number and is not one (``-_``) is refused.

PyYAML's C parser does the parsing (fast); resolving and constructing are configured here to ruamel's
rules. Reading the plain block shape dvc writes into ``.dvc`` files skips PyYAML altogether
(:mod:`tide.core.yamlfast`, identical results, much faster start-up). tests/reliability/test_issue17_yaml.py
compares this reader with ruamel in dvc's own venv, and a lint test there refuses any other YAML reader.
"""

from __future__ import annotations

import functools
import os

from tide.core.errors import FileFormatError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


def loads(text: str, where: str) -> Any:
    """The YAML document in ``text`` as dvc reads it (``None`` for an empty one); one-line
    :class:`FileFormatError` naming ``where`` on anything dvc's reader refuses."""
    from tide.core import yamlfast

    data = yamlfast.parse(text)
    if data is not None:
        return data
    if len(text) > _MEMO_TEXT:
        return load_full(text, where)
    if text not in _MEMO:  # a text met again (params.yaml read by dvc.yaml's parser and by params) parses once
        if len(_MEMO) >= _MEMO_ENTRIES:
            del _MEMO[next(iter(_MEMO))]
        _MEMO[text] = load_full(text, where)
    return _copy(_MEMO[text], {})  # a copy: callers may change what they get


def _copy(v: Any, seen: dict[int, Any]) -> Any:
    """A deep copy of a parsed document (mappings and lists; scalars are immutable), shared parts (YAML
    aliases) shared in the copy too; several times faster than ``copy.deepcopy``."""
    if isinstance(v, dict):
        if id(v) not in seen:
            seen[id(v)] = out = {}
            for k, x in v.items():
                out[k] = x if isinstance(x, (str, int, float)) else _copy(x, seen)
        return seen[id(v)]
    if isinstance(v, list):
        if id(v) not in seen:
            seen[id(v)] = out = []
            out.extend(x if isinstance(x, (str, int, float)) else _copy(x, seen) for x in v)
        return seen[id(v)]
    if isinstance(v, set):  # !!set
        return set(v)
    return v


_MEMO: dict[str, Any] = {}  # text -> document (an error is raised each time, never kept)
_MEMO_TEXT = 1 << 16  # longer texts are parsed every time
_MEMO_ENTRIES = 256


def load_file(path: str | os.PathLike[str], where: str | None = None) -> Any:
    from tide.core import utf8

    where = where or os.fspath(path)
    return loads(utf8.read(path, where), where)


def dumps(data: Any) -> str:
    """``data`` as dvc (ruamel.yaml, YAML 1.2, width 80) would write it."""
    from tide.core.yaml12 import dumps as simple_dumps

    text = simple_dumps(data)  # a .dvc file's shapes, without importing PyYAML
    if text is not None:
        return text
    from tide.core.yamlstyle import dumps as dvc_dumps

    return dvc_dumps(data)


# --- the full reader --------------------------------------------------------------------------------
def _version(text: str) -> tuple[int, int]:
    """The YAML version the document asks for with a ``%YAML`` directive (1.2 without one)."""
    if "%YAML" not in text:
        return (1, 2)
    for line in text.lstrip("\ufeff").splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if not s.startswith("%"):
            break  # directives come before the document
        parts = s.split()
        if parts[0] == "%YAML" and len(parts) > 1 and parts[1] == "1.1":
            return (1, 1)
    return (1, 2)


def load_full(text: str, where: str) -> Any:
    """:func:`loads` without the fast path (tests compare the two)."""
    import yaml

    # libyaml (PyYAML's C scanner) skips a tab between tokens where ruamel refuses it ("a:<tab>b"): a
    # text holding a tab is scanned by PyYAML's Python scanner, taught ruamel's rule (rare, slower)
    loader = _loader_class(_version(text), "\t" in text)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise FileFormatError(f"{where}: invalid YAML{loc}: {problem}")
    except (ValueError, IndexError) as exc:  # `-_` or `._`: resolved as a number, not one (ruamel fails too)
        raise FileFormatError(f"{where}: invalid YAML: a value that looks like a number is not one ({exc})")
    except RecursionError:
        raise FileFormatError(f"{where}: invalid YAML: nested too deeply")


# ruamel.yaml's VersionedResolver table (resolver.py), by YAML version
_RESOLVERS_11 = [
    ("tag:yaml.org,2002:bool",
     r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
     "yYnNtTfFoO"),
    ("tag:yaml.org,2002:float",
     r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
     |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
     |\.[0-9_]+(?:[eE][-+][0-9]+)?
     |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
     |[-+]?\.(?:inf|Inf|INF)
     |\.(?:nan|NaN|NAN))$""",
     "-+0123456789."),
    ("tag:yaml.org,2002:int",
     r"""^(?:[-+]?0b[0-1_]+
     |[-+]?0?[0-7_]+
     |[-+]?(?:0|[1-9][0-9_]*)
     |[-+]?0x[0-9a-fA-F_]+
     |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
     "-+0123456789"),
]
_COMMON = [
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:null", r"^(?: ~|null|Null|NULL| )$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:timestamp",
     r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
     |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
     (?:[Tt]|[ \t]+)[0-9][0-9]?
     :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
     "0123456789"),
    ("tag:yaml.org,2002:value", r"^(?:=)$", "="),  # no constructor: refused, as ruamel refuses it
]


@functools.cache
def _loader_class(version: tuple[int, int], python_scanner: bool = False) -> type:
    import re

    import yaml

    from tide.core.yaml12 import RESOLVERS_12

    base = yaml.SafeLoader if python_scanner else getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    table = RESOLVERS_12 if version == (1, 2) else _RESOLVERS_11 + _COMMON

    class Loader(base):  # type: ignore[misc, valid-type]
        yaml_implicit_resolvers: dict = {}
        yaml_constructors = dict(base.yaml_constructors)

        def scan_to_next_token(self) -> None:
            """ruamel's rule (scanner.py): spaces separate tokens, tabs too but only inside [] or {}."""
            if self.index == 0 and self.peek() == "\ufeff":
                self.forward()
            white = " \t" if self.flow_level else " "
            while True:
                while self.peek() in white:
                    self.forward()
                if self.peek() == "#":
                    while self.peek() not in "\0\r\n\x85\u2028\u2029":
                        self.forward()
                if not self.scan_line_break():
                    return
                if not self.flow_level:
                    self.allow_simple_key = True

        def construct_mapping(self, node: Any, deep: bool = False) -> dict:
            if not isinstance(node, yaml.MappingNode):
                raise yaml.constructor.ConstructorError(
                    None, None, f"expected a mapping node, but found {node.id}", node.start_mark)
            seen: set[Any] = set()
            for key_node, _ in node.value:  # explicit keys only: merged ones may be overridden
                if key_node.tag == "tag:yaml.org,2002:value":  # `=` as a key is the string '='
                    key_node.tag = "tag:yaml.org,2002:str"
                key = "<<" if key_node.tag == "tag:yaml.org,2002:merge" else _key(self, key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}",
                        key_node.start_mark)
                seen.add(key)
            self.flatten_mapping(node)
            mapping = {}
            for key_node, value_node in node.value:
                mapping[_key(self, key_node)] = self.construct_object(value_node, deep=deep)
            return mapping

    for tag, pattern, first in (t for t in table if t[0] != "tag:yaml.org,2002:yaml"):
        Loader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))

    def construct_int(loader: Any, node: Any) -> int:
        value = loader.construct_scalar(node).replace("_", "")
        sign = -1 if value[0] == "-" else 1
        if value[0] in "+-":
            value = value[1:]
        if value == "0":
            return 0
        for prefix, radix in (("0b", 2), ("0x", 16), ("0o", 8)):
            if value.startswith(prefix):
                return sign * int(value[2:], radix)
        if version == (1, 1) and value[0] == "0":
            return sign * int(value, 8)
        if version == (1, 1) and ":" in value:
            return sign * _sexagesimal(value)
        return sign * int(value)

    def construct_float(loader: Any, node: Any) -> float:
        value = loader.construct_scalar(node).replace("_", "").lower()
        sign = -1 if value[0] == "-" else 1
        if value[0] in "+-":
            value = value[1:]
        if value == ".inf":
            return sign * float("inf")
        if value == ".nan":
            return float("nan")
        if version == (1, 1) and ":" in value:
            whole, _, frac = value.partition(".")
            return sign * (_sexagesimal(whole) + float("0." + (frac or "0")))
        return sign * float(value)

    def construct_bool(loader: Any, node: Any) -> bool:
        return loader.construct_scalar(node).lower() in ("true", "yes", "y", "on")

    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    Loader.add_constructor("tag:yaml.org,2002:float", construct_float)
    Loader.add_constructor("tag:yaml.org,2002:bool", construct_bool)
    return Loader


def _key(loader: Any, key_node: Any) -> Any:
    key = loader.construct_object(key_node, deep=True)
    if isinstance(key, list):  # ruamel turns a sequence key into a tuple
        key = tuple(key)
    try:
        hash(key)
    except TypeError:
        import yaml

        raise yaml.constructor.ConstructorError(None, None, "found unhashable key", key_node.start_mark)
    return key


def _sexagesimal(value: str) -> int:
    total = 0
    for part in value.split(":"):
        total = total * 60 + int(part)
    return total


def round_trip_edit(text: str, edit: Any) -> str | None:
    """``text`` loaded with ruamel's round-trip loader, changed in place by ``edit(data)``, dumped back: dvc's
    own way of editing dvc.yaml (``modify_yaml``: comments and flow lists kept, quoting normalised, block
    style for what is new). None when that fails; the caller checks the result with :func:`loads`."""
    try:
        import io

        from ruamel.yaml import YAML
    except ImportError:  # pragma: no cover - ruamel.yaml is a dependency
        return None
    yaml = YAML()
    yaml.default_flow_style = False
    try:
        data = yaml.load(text)
        edit(data)
        out = io.StringIO()
        yaml.dump(data, out)
    except Exception:  # any failure: the caller falls back to its next, checked, way
        return None
    return out.getvalue()
