"""Edit one stage of a dvc.yaml the way dvc does: a ruamel.yaml round trip (``YAML()``, block style), which
keeps comments and flow lists and normalises quoting, so the bytes are dvc's. Without ruamel the stage's
block of lines is edited as text. Every edit is checked: the result must load as exactly the intended
data, else the whole file is rewritten from that data."""

from __future__ import annotations

import re
from typing import Any

from tide.core import yamlio
from tide.core.yamlstyle import dumps


def set_stage_key(text: str, where: str, stage: str, key: str, value: Any) -> str:
    """``stage``'s ``key`` set to a scalar ``value`` (or removed when ``value`` is None)."""
    data = yamlio.loads(text, where)
    body = dict(data["stages"][stage] or {})
    if value is None:
        body.pop(key, None)
    else:
        body[key] = value
    want = {**data, "stages": {**data["stages"], stage: body}}

    def edit(d: Any) -> None:
        if value is None:
            d["stages"][stage].pop(key, None)
        else:
            d["stages"][stage][key] = value

    return _checked([yamlio.round_trip_edit(text, edit), _set_line(text, stage, key, value)], want, where)


def remove_stage(text: str, where: str, stage: str) -> tuple[str, dict[str, Any]]:
    """The text without ``stage`` (its comment lines inside the block go with it), and the data it holds."""
    data = yamlio.loads(text, where)
    stages = {k: v for k, v in data["stages"].items() if k != stage}
    want = {**data, "stages": stages}
    block = stage_block(text.splitlines(keepends=True), stage)
    edited = None
    if block is not None:
        lines = text.splitlines(keepends=True)
        start, _, end = block
        edited = "".join(lines[:start] + lines[end:])
    return _checked([yamlio.round_trip_edit(text, lambda d: d["stages"].pop(stage)), edited], want, where), want


def _checked(candidates: list[str | None], want: dict[str, Any], where: str) -> str:
    """The first candidate text that loads as ``want``; else ``want`` written whole."""
    for edited in candidates:
        if edited is None:
            continue
        try:
            if yamlio.loads(edited, where) == want:
                return edited
        except Exception:  # a candidate that does not load is skipped
            pass
    return dumps(want)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


def stage_block(lines: list[str], name: str) -> tuple[int, int, int] | None:
    """(key line, last content line, end) of ``name``'s block under the top-level ``stages:``."""
    top = next((i for i, ln in enumerate(lines) if re.match(r"stages:\s*(#.*)?$", ln.rstrip("\n"))), None)
    if top is None:
        return None
    key = re.compile(r"( +)(?:%s|'%s'|\"%s\"):\s*(#.*)?$" % ((re.escape(name),) * 3))
    start = None
    for i in range(top + 1, len(lines)):
        ln = lines[i].rstrip("\n")
        if _content(ln) and _indent(ln) == 0:
            break
        if key.match(ln):
            start = i
            break
    if start is None:
        return None
    own = _indent(lines[start])
    end = last = start
    end += 1
    while end < len(lines) and (not _content(lines[end]) or _indent(lines[end]) > own):
        if _content(lines[end]):
            last = end
        end += 1
    return start, last, last + 1


def _set_line(text: str, name: str, key: str, value: Any) -> str | None:
    lines = text.splitlines(keepends=True)
    block = stage_block(lines, name)
    if block is None:
        return None
    start, last, _ = block
    body = [i for i in range(start + 1, last + 1) if _content(lines[i])]
    if not body:
        return None
    ind = min(_indent(lines[i]) for i in body)
    found = [i for i in body if _indent(lines[i]) == ind and lines[i].lstrip().startswith(f"{key}:")]
    shown = dumps({key: value}).strip() if value is not None else ""
    if "\n" in shown:
        return None
    out = list(lines)
    if found:
        if value is None:
            del out[found[0]]
        else:
            out[found[0]] = " " * ind + shown + "\n"
    elif value is not None:
        if not out[last].endswith("\n"):
            out[last] += "\n"
        out.insert(last + 1, " " * ind + shown + "\n")
    return "".join(out)
