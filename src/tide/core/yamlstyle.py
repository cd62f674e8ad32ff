"""YAML output byte-identical to what dvc writes for ``dvc.lock``, ``dvc.yaml`` and run-cache entries.

dvc dumps with ruamel.yaml's round-trip ``YAML()`` (YAML 1.2, ``default_flow_style=False``, width 80).
PyYAML's emitter is the ancestor of ruamel's, so the same line folding falls out once four
differences are configured away:

* plain-scalar resolution follows YAML 1.2 (``yes``/``on``/``0755`` are plain strings, no quotes);
* ``None`` is written as nothing (``key:``), floats as ``repr`` (``1e-05``, not ``1.0e-05``);
* a string holding a quote or a newline that cannot be plain is double-quoted;
* width stays at 80 columns, so long commands fold onto an indented next line.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from tide.core.yaml12 import RESOLVERS_12


class _Resolver(yaml.resolver.BaseResolver):
    pass


for _tag, _pattern, _first in RESOLVERS_12:
    _Resolver.add_implicit_resolver(_tag, re.compile(_pattern, re.X), list(_first))


class _Dumper(
    yaml.emitter.Emitter, yaml.serializer.Serializer, yaml.representer.SafeRepresenter, _Resolver
):
    def __init__(self, stream, **kw: Any) -> None:
        yaml.emitter.Emitter.__init__(
            self, stream, canonical=None, indent=None, width=80, allow_unicode=True, line_break=None
        )
        yaml.serializer.Serializer.__init__(self, encoding=None, explicit_start=None, explicit_end=None,
                                            version=None, tags=None)
        yaml.representer.SafeRepresenter.__init__(self, default_style=None, default_flow_style=False,
                                                  sort_keys=False)
        _Resolver.__init__(self)

    def choose_scalar_style(self):
        ev = self.event
        if ev.value == "" and ev.tag == "tag:yaml.org,2002:null":
            return ""
        if self.analysis is None:
            self.analysis = self.analyze_scalar(ev.value)
        plain_ok = (not ev.style or ev.style == "?") and ev.implicit[0]
        if plain_ok and not (self.simple_key_context and (self.analysis.empty or self.analysis.multiline)) and (
            (self.flow_level and self.analysis.allow_flow_plain)
            or (not self.flow_level and self.analysis.allow_block_plain)
        ):
            return ""
        if not ev.style and self.analysis.allow_double_quoted and ("'" in ev.value or "\n" in ev.value):
            return '"'
        if (not ev.style or ev.style == "'") and self.analysis.allow_single_quoted and not (
            self.simple_key_context and self.analysis.multiline
        ):
            return "'"
        return '"'


    # ruamel folds long plain scalars slightly differently from PyYAML: a line is broken at a space
    # once the column reaches the width (not only past it), and a word longer than the remaining
    # room starts a new line of its own, leaving the separating space at the end of the previous one.
    def _emit(self, data: str) -> None:
        self.column += len(data)
        self.stream.write(data)

    def write_plain(self, text, split=True):
        if self.root_context:
            self.open_ended = True
        if not text:
            return
        if not self.whitespace:
            self._emit(" ")
        self.whitespace = self.indention = False
        brk = "\n\x85\u2028\u2029"
        spaces = breaks = False
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if spaces:
                if ch != " ":
                    if start + 1 == end and self.column >= self.best_width and split:
                        self.write_indent()
                        self.whitespace = self.indention = False
                    else:
                        self._emit(text[start:end])
                    start = end
            elif breaks:
                if ch is None or ch not in brk:
                    if text[start] == "\n":
                        self.write_line_break()
                    for br in text[start:end]:
                        self.write_line_break() if br == "\n" else self.write_line_break(br)
                    self.write_indent()
                    self.whitespace = self.indention = False
                    start = end
            elif ch is None or ch in " " + brk:
                word = text[start:end]
                if len(word) + self.column > self.best_width and self.indent is not None \
                        and self.column > self.indent:
                    self.write_indent()
                self._emit(word)
                start = end
            if ch is not None:
                spaces, breaks = ch == " ", ch in brk
            end += 1

    def write_double_quoted(self, text, split=True):
        self.write_indicator('"', True)
        start = end = 0
        need_backslash = True
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if ch is None or ch in '"\\\x85\u2028\u2029\ufeff' or not (
                "\x20" <= ch <= "\x7e"
                or (self.allow_unicode and ("\xa0" <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd"
                                            or "\U00010000" <= ch <= "\U0010ffff"))
            ):
                if start < end:
                    self._emit(text[start:end])
                    start = end
                if ch is not None:
                    if ch in self.ESCAPE_REPLACEMENTS:
                        self._emit("\\" + self.ESCAPE_REPLACEMENTS[ch])
                    elif ch <= "\xff":
                        self._emit(f"\\x{ord(ch):02X}")
                    elif ch <= "\uffff":
                        self._emit(f"\\u{ord(ch):04X}")
                    else:
                        self._emit(f"\\U{ord(ch):08X}")
                    start = end + 1
            if (0 < end < len(text) - 1 and (ch == " " or start >= end)
                    and self.column + (end - start) > self.best_width and split):
                need_backslash = _needs_backslash(text, start, end)
                data = text[start:end] + ("\\" if need_backslash else "")
                if start < end:
                    start = end
                self._emit(data)
                self.write_indent()
                self.whitespace = self.indention = False
                if text[start] == " ":
                    if not need_backslash:
                        start += 1
                    self._emit("\\" if need_backslash else "")
            end += 1
        self.write_indicator('"', False)


def _needs_backslash(text: str, start: int, end: int) -> bool:
    """Whether a fold of a double-quoted scalar at ``end`` must be escaped (ruamel's rule)."""
    try:
        space_pos = text.index(" ", end)
        try:
            space_pos = text.index("\n", end, space_pos)
        except ValueError:
            pass
        if text[space_pos] == "\n" and text[space_pos + 1] != " ":
            return True
        return not (
            '"' not in text[end:space_pos] and "'" not in text[end:space_pos]
            and text[space_pos + 1] not in " \n" and text[end - 1 : end + 1] != "  " and start != end
        )
    except (ValueError, IndexError):
        return True


def _represent_none(dumper: _Dumper, _data: None) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:null", "")


def _represent_float(dumper: _Dumper, data: float) -> yaml.Node:
    if data != data:
        value = ".nan"
    elif data == float("inf"):
        value = ".inf"
    elif data == float("-inf"):
        value = "-.inf"
    else:
        value = repr(data).lower()
    return dumper.represent_scalar("tag:yaml.org,2002:float", value)


_Dumper.add_representer(type(None), _represent_none)
_Dumper.add_representer(float, _represent_float)


def dumps(data: Any) -> str:
    """``data`` as dvc would write it."""
    return yaml.dump(data, Dumper=_Dumper)
