"""The schemas dvc 3 checks ``.dvc``, ``dvc.yaml`` and ``dvc.lock`` against, with dvc's strictness.

dvc validates every file it loads with voluptuous (``dvc/schema.py``, ``dvc/output.py``,
``dvc/dependency``, ``dvc/annotations.py``): a key the schema does not name is refused ("extra keys not
allowed"), a value of the wrong type is refused, and dvc stops with "'dvc.lock' validation failed". tide
checks the same schemas, on the parsed data before anything else reads it, so a file dvc refuses is never
half-read by tide (a ``mdd5:`` typo in dvc.lock once made an output look hashless, and gc then removed its
only copy).

The schemas are data in the shape voluptuous uses, interpreted by :func:`_check` with voluptuous's rules:
a type accepts its instances (``bool`` is an ``int``, as in Python), a ``list`` holds items matching any of
its entries, a ``dict`` maps literal keys first and then typed keys (``str``), and nothing else is allowed.
tests/reliability/test_issue17_yaml.py runs real dvc on the same malformed files.
"""

from __future__ import annotations

from tide.core.errors import FileFormatError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


class _Invalid(Exception):
    def __init__(self, message: str, path: tuple) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class Required:
    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key


class Any_:  # voluptuous.Any
    __slots__ = ("options",)

    def __init__(self, *options: Any) -> None:
        self.options = options


class Equal:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class MaxLen:
    """``vol.All(schema, vol.Length(max=n))``"""

    __slots__ = ("schema", "n")

    def __init__(self, schema: Any, n: int) -> None:
        self.schema, self.n = schema, n


class Checksum:
    """``CHECKSUM_SCHEMA``: null, an empty string, or a string (or integer) of 3 characters or more."""


_CHECKSUM = Checksum()


def _name(kind: Any) -> str:
    return {str: "a string", bool: "true or false", int: "an integer", list: "a list", dict: "a mapping"}.get(
        kind, getattr(kind, "__name__", str(kind)))


def _check(schema: Any, value: Any, path: tuple) -> None:
    if schema is object:
        return
    if isinstance(schema, type):
        if not isinstance(value, schema):
            raise _Invalid(f"expected {_name(schema)}, got {_show(value)}", path)
        return
    if schema is None:
        if value is not None:
            raise _Invalid(f"expected nothing (null), got {_show(value)}", path)
        return
    if isinstance(schema, dict):
        _check_mapping(schema, value, path)
        return
    if isinstance(schema, list):
        if not isinstance(value, list):
            raise _Invalid(f"expected a list, got {_show(value)}", path)
        for i, item in enumerate(value):
            _check_any(schema, item, (*path, i))
        return
    if isinstance(schema, Any_):
        _check_any(schema.options, value, path)
        return
    if isinstance(schema, Checksum):
        if value is None or value == "":
            return
        if not isinstance(value, (str, int)) or len(str(value)) < 3:
            raise _Invalid(f"expected a hash value, got {_show(value)}", path)
        return
    if isinstance(schema, Equal):
        if value != schema.value:
            raise _Invalid(f"must be {schema.value!r}, got {_show(value)}", path)
        return
    if isinstance(schema, MaxLen):
        _check(schema.schema, value, path)
        if len(value) > schema.n:
            raise _Invalid(f"holds more than {schema.n} entry", path)
        return
    if callable(schema):
        schema(value, path)
        return
    raise AssertionError(f"not a schema: {schema!r}")


def _check_any(options: Any, value: Any, path: tuple) -> None:
    first: _Invalid | None = None
    for option in options:
        try:
            _check(option, value, path)
            return
        except _Invalid as exc:
            # the error from the deepest match explains best (a mapping whose inner key is wrong)
            if first is None or len(exc.path) > len(first.path):
                first = exc
    assert first is not None
    raise first


_SPLIT: dict[int, tuple[dict[Any, Any], list[tuple[type, Any, bool]], list[Any]]] = {}


def _split(schema: dict) -> tuple[dict[Any, Any], list[tuple[type, Any, bool]], list[Any]]:
    """A mapping schema's literal keys, typed keys and required keys (computed once per schema: the
    schemas are this module's constants, and .dvc files are checked by the thousand on a status)."""
    done = _SPLIT.get(id(schema))
    if done is None:
        literal: dict[Any, Any] = {}
        typed: list[tuple[type, Any, bool]] = []
        required: list[Any] = []
        for key, sub in schema.items():
            req = isinstance(key, Required)
            key = key.key if req else key
            if isinstance(key, type):
                typed.append((key, sub, req))
            else:
                literal[key] = sub
                if req:
                    required.append(key)
        done = _SPLIT[id(schema)] = (literal, typed, required)
    return done


def _check_mapping(schema: dict, value: Any, path: tuple) -> None:
    if not isinstance(value, dict):
        raise _Invalid(f"expected a mapping, got {_show(value)}", path)
    literal, typed, required = _split(schema)
    matched_types: set[type] = set()
    for key, item in value.items():
        if isinstance(key, str) and key in literal:  # a literal key is chosen first; no backtracking
            _check(literal[key], item, (*path, key))
            continue
        for kind, sub, _req in typed:
            if isinstance(key, kind):
                matched_types.add(kind)
                _check(sub, item, (*path, key))
                break
        else:
            raise _Invalid(f"unknown key {_show(key)}", path)
    for key in required:
        if key not in value:
            raise _Invalid(f"required key '{key}' is missing", path)
    for kind, _sub, req in typed:
        if req and kind not in matched_types:
            raise _Invalid("must not be empty", path)


def _part(key: Any) -> str:
    """A step of the path to the wrong value, on one line (stage names are the user's text)."""
    if isinstance(key, str) and key.isprintable() and key and len(key) <= 40:
        return key
    return _show(key)


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- dvc/output.py, dvc/annotations.py, dvc/dependency -----------------------------------------------
CHECKSUMS = {"md5": _CHECKSUM, "checksum": _CHECKSUM, "etag": _CHECKSUM}
META = {"size": int, "nfiles": int, "isexec": bool, "version_id": str}
CLOUD = MaxLen({str: {**META, **CHECKSUMS}}, 1)
ANNOTATION = {"desc": str, "type": str, "labels": [str], "meta": object}
ARTIFACT_OUT = {**CHECKSUMS, **META, "path": str, "persist": bool, "cloud": CLOUD, "hash": str}
DIR_FILES = {**CHECKSUMS, **META, Required("relpath"): str, "cloud": CLOUD}
OUT = {**ARTIFACT_OUT, **ANNOTATION, "cache": bool, "remote": str, "push": bool, "files": [DIR_FILES],
       "fs_config": dict}
REPO = {"repo": {Required("url"): str, "rev": str, "rev_lock": str, "config": Any_(str, dict),
                 "remote": Any_(str, dict)}}
DB = {"db": {"query": str, "connection": str, "file_format": str, "table": str}}
DEP = {**ARTIFACT_OUT, **REPO, **DB, "files": [DIR_FILES], "fs_config": dict}

# --- dvc/schema.py --------------------------------------------------------------------------------
SINGLE_STAGE = {  # a .dvc file
    "md5": _CHECKSUM, "wdir": Any_(str, None), "deps": Any_([DEP], None), "outs": Any_([OUT], None),
    "locked": bool, "frozen": bool, "meta": object, "always_changed": bool, "desc": str,
}
LOCK_DATA = {**CHECKSUMS, **META, Required("path"): str, "cloud": CLOUD, "files": [DIR_FILES], "hash": str,
             "dataset": dict}
LOCK_STAGE = {Required("cmd"): Any_(str, list), "deps": [LOCK_DATA], "params": {str: {str: object}},
              "outs": [LOCK_DATA]}
LOCKFILE = {Required("schema"): Equal("2.0"), "datasets": object, "stages": {str: LOCK_STAGE}}

OUT_DETAILED = {str: {**ANNOTATION, "cache": bool, "persist": bool, "checkpoint": bool, "remote": str,
                      "push": bool}}
PLOT_PROPS = {**OUT_DETAILED[str], "template": str, "x": str, "y": str, "x_label": str, "y_label": str,
              "title": str, "header": bool}
VARS = [str, dict]
STAGE_DEFINITION = {
    "matrix": {str: Any_(str, list)}, Required("cmd"): Any_(str, list), "wdir": str, "deps": [str],
    "params": [Any_(str, dict)], "vars": VARS, "frozen": bool, "meta": object, "desc": str,
    "always_changed": bool, "outs": [Any_(str, OUT_DETAILED)], "metrics": [Any_(str, OUT_DETAILED)],
    "plots": [Any_(str, {str: Any_(PLOT_PROPS, [PLOT_PROPS])})],
}
FOREACH_IN = {Required("foreach"): Any_(dict, list, str), Required("do"): STAGE_DEFINITION}


def _pipeline_stage(value: Any, path: tuple) -> None:
    """dvc's ``either_or``: a stage with ``foreach`` or ``do`` is a foreach stage, anything else a stage."""
    schema = FOREACH_IN if isinstance(value, dict) and ("foreach" in value or "do" in value) else STAGE_DEFINITION
    _check(schema, value, path)


PLOT_DEFINITION = {"x": Any_(str, {str: str}), "y": Any_(str, [str], {str: Any_(str, [str])}), "x_label": str,
                   "y_label": str, "title": str, "template": str}
ARTIFACT = {Required("path"): str, **ANNOTATION}
MULTI_STAGE = {  # dvc.yaml
    "datasets": object, "plots": [Any_(str, {Required(str): Any_(PLOT_DEFINITION, None)})],
    "stages": {str: _pipeline_stage}, "vars": VARS, "params": [str], "metrics": [str],
    "artifacts": {str: ARTIFACT},
}


def _validate(schema: Any, data: Any, where: str) -> None:
    try:
        _check(schema, data or {}, ())  # dvc reads an empty document (or a falsy one) as {}
    except _Invalid as exc:
        at = " > ".join(map(_part, exc.path)) + ": " if exc.path else ""
        raise FileFormatError(f"{where}: {at}{exc.message} (dvc refuses it too)") from None


# the outputs `dvc add` writes, which a status reads by the thousand: a shortcut that accepts only
# what the full check accepts (exact types, hashes of 3 characters or more), anything else goes the long way
_PLAIN_OUT = {"md5": str, "size": int, "nfiles": int, "isexec": bool, "hash": str, "path": str}


def _plain_pointer(data: Any) -> bool:
    if type(data) is not dict or len(data) != 1 or type(data.get("outs")) is not list:
        return False
    for out in data["outs"]:
        if type(out) is not dict:
            return False
        for k, v in out.items():
            if type(v) is not _PLAIN_OUT.get(k) or (k == "md5" and len(v) < 3):
                return False
    return True


def check_pointer(data: Any, where: str) -> None:
    """A ``.dvc`` file's parsed YAML, as dvc's ``COMPILED_SINGLE_STAGE_SCHEMA`` checks it."""
    if not _plain_pointer(data):
        _validate(SINGLE_STAGE, data, where)


def check_lock(data: Any, where: str) -> None:
    """A ``dvc.lock`` file's parsed YAML, as dvc's ``COMPILED_LOCKFILE_SCHEMA`` checks it."""
    _validate(LOCKFILE, data, where)


def check_lock_stage(data: Any, where: str) -> None:
    """One stage entry of dvc.lock (also a run-cache entry), as ``COMPILED_LOCK_FILE_STAGE_SCHEMA``."""
    _validate(LOCK_STAGE, data, where)


def check_pipeline(data: Any, where: str) -> None:
    """A ``dvc.yaml`` file's parsed YAML before interpolation, as ``COMPILED_MULTI_STAGE_SCHEMA``."""
    _validate(MULTI_STAGE, data, where)
