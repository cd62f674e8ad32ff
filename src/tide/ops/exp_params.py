"""``exp run -S [FILE:]KEY=VALUE``: parameter overrides in dvc's (Hydra's) grammar, sweeps expanded.

A value is read as YAML (``0.1`` a float, ``true`` a bool, ``[1, 2]`` a list, ``'a,b'`` a string).
An unquoted top-level comma makes a sweep (``lr=0.1,0.2``), as do ``range(start, stop[, step])`` and
``choice(a, b, ...)``; several sweeps run as their cross product (dvc's BasicSweeper order: the first
override varies slowest). ``+key=v`` adds a key, ``++key=v`` adds or sets one, ``~key`` deletes one; a
plain ``key=v`` must name an existing key (Hydra refuses a new key without ``+``).
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from typing import Any

from tide.core.errors import UsageError

DEFAULT_FILE = "params.yaml"


@dataclass(frozen=True)
class Override:
    key: str
    values: tuple[Any, ...]  # one value, or the points of a sweep
    op: str = "set"  # set | add | force | delete
    sweep: bool = False
    text: str = ""


def group_by_file(items: list[str]) -> dict[str, list[str]]:
    """dvc's ``to_path_overrides``: ``file:key=value`` (a ':' before the '=') names the file."""
    out: dict[str, list[str]] = {}
    for item in items:
        head = item.partition("=")[0]
        if ":" in head:
            path, _, ov = item.partition(":")
        else:
            path, ov = DEFAULT_FILE, item
        out.setdefault(path, []).append(ov)
    return out


def _split_top(text: str, sep: str = ",") -> list[str]:
    parts, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _scalar(text: str, where: str) -> Any:
    from tide.core import yamlio

    t = text.strip()
    if t == "":
        return ""
    if t.lower() == "null":
        return None
    try:
        return yamlio.loads(t, where)
    except Exception:
        return t


def parse(text: str) -> Override:
    op = "set"
    body = text
    if body.startswith("++"):
        op, body = "force", body[2:]
    elif body.startswith("+"):
        op, body = "add", body[1:]
    elif body.startswith("~"):
        op, body = "delete", body[1:]
    key, eq, raw = body.partition("=")
    key = key.strip()
    if not key or (not eq and op != "delete"):
        raise UsageError(f"invalid -S/--set-param '{text}': expected [FILE:]KEY=VALUE")
    if op == "delete":
        return Override(key, (), op, False, text)
    raw = raw.strip()
    if raw.startswith("range(") and raw.endswith(")"):
        nums = [_scalar(p, text) for p in _split_top(raw[6:-1])]
        if not 1 <= len(nums) <= 3 or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in nums):
            raise UsageError(f"invalid range in '{text}': range(start, stop[, step]) takes numbers")
        start, stop, step = (0, nums[0], 1) if len(nums) == 1 else (nums[0], nums[1], nums[2] if len(nums) == 3 else 1)
        if step == 0:
            raise UsageError(f"invalid range in '{text}': the step is 0")
        vals, v = [], start
        while (v < stop) if step > 0 else (v > stop):
            vals.append(v)
            v = v + step
        return Override(key, tuple(vals), op, True, text)
    if raw.startswith("choice(") and raw.endswith(")"):
        return Override(key, tuple(_scalar(p, text) for p in _split_top(raw[7:-1])), op, True, text)
    parts = _split_top(raw)
    if len(parts) > 1:
        return Override(key, tuple(_scalar(p, text) for p in parts), op, True, text)
    return Override(key, (_scalar(raw, text),), op, False, text)


def parse_all(items: list[str]) -> dict[str, list[Override]]:
    return {path: [parse(t) for t in texts] for path, texts in group_by_file(items).items()}


def is_sweep(overrides: dict[str, list[Override]]) -> bool:
    return any(o.sweep for ovs in overrides.values() for o in ovs)


def expand(overrides: dict[str, list[Override]]) -> list[dict[str, list[Override]]]:
    """The cross product of every sweep: one override set per experiment."""
    axes: list[tuple[str, Override]] = [(p, o) for p, ovs in overrides.items() for o in ovs]
    choices = [[(p, Override(o.key, (v,), o.op, False, o.text)) for v in o.values] if o.sweep else [(p, o)]
               for p, o in axes]
    out = []
    for combo in itertools.product(*choices):
        point: dict[str, list[Override]] = {}
        for p, o in combo:
            point.setdefault(p, []).append(o)
        out.append(point)
    return out


def _apply_one(data: Any, o: Override, where: str) -> None:
    parts = o.key.split(".")
    cur = data
    for part in parts[:-1]:
        nxt = _get(cur, part)
        if nxt is _NONE:
            if o.op in ("add", "force"):
                _put(cur, part, {})
                nxt = _get(cur, part)
            else:
                raise UsageError(f"could not override '{o.key}' in {where}: the key does not exist "
                                 f"(to add it use +{o.key}=...)")
        cur = nxt
    last = parts[-1]
    exists = _get(cur, last) is not _NONE
    if o.op == "delete":
        if not exists:
            raise UsageError(f"could not delete '{o.key}' in {where}: the key does not exist")
        if isinstance(cur, list):
            del cur[int(last)]
        else:
            del cur[last]
        return
    if o.op == "set" and not exists:
        raise UsageError(f"could not override '{o.key}' in {where}: the key does not exist (to add it use "
                         f"+{o.key}=...)")
    if o.op == "add" and exists:
        raise UsageError(f"could not append '{o.key}' to {where}: the key already exists (to set it use "
                         f"{o.key}=... or ++{o.key}=...)")
    _put(cur, last, o.values[0])


_NONE = object()


def _get(cur: Any, part: str) -> Any:
    if isinstance(cur, dict):
        return cur.get(part, _NONE)
    if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
        return cur[int(part)]
    return _NONE


def _put(cur: Any, part: str, value: Any) -> None:
    if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
        cur[int(part)] = value
    elif isinstance(cur, dict):
        cur[part] = value
    else:
        raise UsageError(f"cannot set '{part}': its parent is not a mapping")


def apply_text(text: str, name: str, overrides: list[Override]) -> str:
    """The params file ``text`` (``name`` gives its format) with ``overrides`` applied."""
    ext = os.path.splitext(name)[1].lower()
    if any(o.sweep for o in overrides):
        raise UsageError("a sweep (a=1,2, range(), choice()) needs --queue: each point is its own experiment")
    if ext == ".json":
        data = json.loads(text) if text.strip() else {}
        for o in overrides:
            _apply_one(data, o, name)
        return json.dumps(data)
    if ext in (".yaml", ".yml", ""):
        from tide.core import yamlio

        errors: list[Exception] = []

        def edit(data: Any) -> None:
            try:
                for o in overrides:
                    _apply_one(data, o, name)
            except UsageError as exc:
                errors.append(exc)
                raise

        if not text.strip():
            data: dict[str, Any] = {}
            for o in overrides:
                _apply_one(data, o, name)
            return yamlio.dumps(data)
        out = yamlio.round_trip_edit(text, edit)
        if errors:
            raise errors[0]
        if out is None:
            raise UsageError(f"cannot modify {name}: it is not a YAML mapping tide can edit")
        return out
    raise UsageError(f"cannot modify {name} with -S: tide edits YAML and JSON params files")


def apply_to_files(root: str, overrides: dict[str, list[Override]], read=None) -> dict[str, bytes]:
    """New contents (path relative to ``root`` -> bytes) of the params files ``overrides`` change.
    ``read(rel)`` gives a file's current text (default: the workspace); a missing file starts empty."""
    out: dict[str, bytes] = {}
    for rel, ovs in overrides.items():
        path = os.path.normpath(os.path.join(root, rel))
        if os.path.relpath(path, root).startswith(".."):
            raise UsageError(f"params file '{rel}' is outside the repository")
        if read is not None:
            text = read(rel)
        else:
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except FileNotFoundError:
                text = ""
        out[os.path.relpath(path, root).replace(os.sep, "/")] = apply_text(text or "", rel, ovs).encode("utf-8")
    return out
