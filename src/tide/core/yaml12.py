"""YAML 1.2's plain scalars (ruamel's resolver table) and a writer for simple documents.

``dumps`` writes what ``tide.core.yamlstyle.dumps`` (PyYAML configured as dvc's ruamel) writes, for the
shapes of ``.dvc`` files: block mappings and indentless sequences of mappings or scalars, whose strings
need no quotes and whose lines need no folding. Anything else declines (``None``) and goes to
yamlstyle. It exists because importing PyYAML and building yamlstyle's dumper costs ~22 ms, more
than the rest of an ``add`` with nothing to do (``test_yaml12_dumps_as_yamlstyle_or_declines``).
"""

from __future__ import annotations

import functools
import re

# ruamel.yaml's YAML 1.2 resolvers (its VersionedResolver table): (tag, pattern, first characters)
RESOLVERS_12 = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:null", r"^(?: ~|null|Null|NULL| )$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
    ("tag:yaml.org,2002:value", r"^(?:=)$", "="),
    ("tag:yaml.org,2002:yaml", r"^(?:!|&|\*)$", "!&*"),
]

_PLAIN = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./-]*")  # no indicator, space, colon or quote anywhere
_KEY_MAX = 128  # longer keys are written as "? key" (PyYAML's simple-key limit)
_WIDTH = 76  # a longer line may be folded (width 80, broken at a space once the column reaches it)


@functools.cache
def _patterns(first: str) -> list[re.Pattern]:
    """The resolvers' patterns that may match a scalar starting with ``first`` (compiled on first use)."""
    return [re.compile(p, re.X) for _, p, chars in RESOLVERS_12 if first in chars]


def _plain(s: str) -> bool:
    """Whether ``s`` is written as a plain scalar: only safe characters, and it reads back as a string."""
    return bool(_PLAIN.fullmatch(s)) and not any(r.match(s) for r in _patterns(s[0]))


def _scalar(v: object) -> str | None:
    if v is None:
        return ""
    if v is True or v is False:
        return "true" if v else "false"
    if type(v) is int:
        return str(v)
    if type(v) is str and _plain(v):
        return v
    return None  # floats, quoted strings, other types: yamlstyle's


def _mapping(d: dict, indent: int, first: str | None, out: list[str]) -> bool:
    """Write mapping ``d`` at ``indent``; ``first``: the prefix of its first line (a sequence's "- ")."""
    if not d:
        return False
    pad = " " * indent
    for i, (k, v) in enumerate(d.items()):
        if type(k) is not str or len(k) >= _KEY_MAX or not _plain(k):
            return False
        head = (first if i == 0 and first is not None else pad) + k + ":"
        if type(v) is dict:  # (exact types: a subclass is yamlstyle's to represent, or refuse)
            out.append(head)
            if not _mapping(v, indent + 2, None, out):
                return False
        elif type(v) is list:
            out.append(head)
            if not _sequence(v, indent, out):
                return False
        else:
            s = _scalar(v)
            if s is None:
                return False
            out.append(f"{head} {s}" if s else head)
        if len(out[-1]) > _WIDTH:
            return False
    return True


def _sequence(items: list, indent: int, out: list[str]) -> bool:
    """An indentless block sequence (``- `` at the key's own column), of mappings or scalars."""
    if not items:
        return False
    pad = " " * indent
    for v in items:
        if type(v) is dict:
            if not _mapping(v, indent + 2, pad + "- ", out):
                return False
        else:
            s = _scalar(v) if v is not None else None
            if not s:
                return False
            out.append(f"{pad}- {s}")
            if len(out[-1]) > _WIDTH:
                return False
    return True


def dumps(data: object) -> str | None:
    """``data`` as yamlstyle would write it, or ``None`` when it is not one of the simple shapes."""
    out: list[str] = []
    if type(data) is not dict or not _mapping(data, 0, None, out):
        return None
    return "\n".join(out) + "\n"
