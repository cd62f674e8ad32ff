"""Reading a forge API's JSON answers: each field a driver uses is checked where it is read.

A server (or a proxy in front of it) may answer with anything: null where an object was due, a list
for a mapping, a string for a number. Drivers read answers through :class:`Answer`, so such an answer
is one ForgeError naming the operation and the field (found by fuzzing forge responses), while a bug
in a driver (a typo, a wrong call) still shows as a traceback: nothing catches KeyError or TypeError
around a driver.

    a = Answer(data, "github: create pull request")
    PullRequest(a.int("number"), a.str("html_url"), a.obj("head").str("ref"), ...)
"""

from __future__ import annotations

from typing import Any

from tide.core.errors import ForgeError

_REQUIRED: Any = object()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a decimal number"}.get(
        type(value), type(value).__name__)


class Answer:
    """One JSON object of an API answer. ``where``: ``"<forge>: <operation>"``; ``path``: this
    object's place in the answer (``head`` for ``answer["head"]``), for messages.

    Getters take the field's name and an optional default. A required field (no default) that is
    absent or null raises ForgeError; a field of the wrong type raises ForgeError whether required or
    not; an absent or null optional field gives the default."""

    __slots__ = ("_data", "_where", "_path")

    def __init__(self, data: Any, where: str, path: str = "") -> None:
        if not isinstance(data, dict):
            what = f"'{path}' is" if path else "the answer is"
            raise ForgeError(f"{where}: unexpected answer from the API: {what} {_kind(data)}, not an object")
        self._data, self._where, self._path = data, where, path

    def _name(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def _bad(self, key: str, value: Any, expected: str) -> ForgeError:
        if value is None:
            return ForgeError(f"{self._where}: unexpected answer from the API: '{self._name(key)}' is missing")
        return ForgeError(f"{self._where}: unexpected answer from the API: '{self._name(key)}' is {_kind(value)}, "
                          f"not {expected}")

    def _value(self, key: str, default: Any, ok: tuple[type, ...], expected: str) -> Any:
        value = self._data.get(key)
        if value is None:
            if default is _REQUIRED:
                raise self._bad(key, None, expected)
            return default
        if not isinstance(value, ok) or (isinstance(value, bool) and bool not in ok):
            raise self._bad(key, value, expected)
        return value

    def has(self, key: str) -> bool:
        """Whether the field is present and not null."""
        return self._data.get(key) is not None

    def str(self, key: str, default: Any = _REQUIRED) -> str:
        return self._value(key, default, (str,), "a string")

    def int(self, key: str, default: Any = _REQUIRED) -> int:
        return self._value(key, default, (int,), "an integer")

    def id(self, key: str, default: Any = _REQUIRED) -> str:
        """An identifier, which forges send as a number or a string; always returned as a string."""
        value = self._value(key, default, (int, str), "an identifier")
        return value if isinstance(value, str) else str(value)

    def flag(self, key: str) -> bool:
        """A boolean field; absent or null is False."""
        return self._value(key, False, (bool,), "a boolean")

    def obj(self, key: str, default: Any = _REQUIRED) -> Answer:
        """A nested object; an optional one that is absent reads as an empty object."""
        value = self._data.get(key)
        if value is None:
            if default is _REQUIRED:
                raise self._bad(key, None, "an object")
            value = {}
        return Answer(value, self._where, self._name(key))

    def list(self, key: str, default: Any = _REQUIRED) -> list:
        return self._value(key, default, (list,), "a list")

    def objs(self, key: str, default: Any = _REQUIRED) -> list[Answer]:
        """A list of objects (an absent optional list reads as empty)."""
        items = self.list(key, [] if default is not _REQUIRED else _REQUIRED)
        return [Answer(v, self._where, f"{self._name(key)}[{i}]") for i, v in enumerate(items)]

    def strs(self, key: str) -> list[str]:
        """An optional list of strings (absent: empty)."""
        items = self.list(key, [])
        for i, v in enumerate(items):
            if not isinstance(v, str):
                raise self._bad(f"{key}[{i}]", v, "a string")
        return items


def answers(items: Any, where: str) -> list[Answer]:
    """The objects of a list answer (one page of a listing)."""
    if not isinstance(items, list):
        raise ForgeError(f"{where}: unexpected answer from the API: the answer is {_kind(items)}, not a list")
    return [Answer(v, where, f"[{i}]") for i, v in enumerate(items)]

__all__ = [
    "Answer", "answers",
]
