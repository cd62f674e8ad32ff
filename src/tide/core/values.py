"""``Value``: the base of tide's immutable records on the start-up path (a frozen dataclass's behaviour
without ``dataclasses``).

Measured reason for a hand-written piece (issue 26): importing ``dataclasses`` pulls in ``inspect``, ``ast``
and ``dis`` (12-13 ms here), and each ``@dataclass`` generates and compiles its methods when its module is
imported (~1 ms a class; the five of ``pipeline.definition`` took 4.7 ms). A command with nothing to do in
a repository with a ``dvc.yaml`` (``checkout``, ``status``, ``push``, ``repro``) paid ~18 ms of its ~90 ms
for them. Elsewhere, dataclasses stay the rule.

A subclass names its fields in ``__slots__`` (their order is the constructor's) and their defaults in
``_defaults``; a default that is ``list`` or ``dict`` itself is a factory (a fresh one per record, as
``field(default_factory=...)``). Records are compared and hashed by value (the class and the fields),
read-only, copied and pickled; ``replace(**changes)`` is ``dataclasses.replace``.
"""

from __future__ import annotations

_FACTORIES = (list, dict)


class Value:
    __slots__: tuple[str, ...] = ()
    _defaults: dict[str, object] = {}

    def __init__(self, *args: object, **kwargs: object) -> None:
        names = self.__slots__
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes {len(names)} arguments, {len(args)} given")
        put = object.__setattr__
        for name, value in zip(names, args, strict=False):
            put(self, name, value)
        defaults = self._defaults
        for name in names[len(args):]:
            if name in kwargs:
                value = kwargs.pop(name)
            elif name in defaults:
                value = defaults[name]
                if value in _FACTORIES:
                    value = value()  # type: ignore[operator]
            else:
                raise TypeError(f"{type(self).__name__}() missing argument '{name}'")
            put(self, name, value)
        if kwargs:
            bad = next(iter(kwargs))
            why = "multiple values for" if bad in names else "an unexpected keyword"
            raise TypeError(f"{type(self).__name__}() got {why} argument '{bad}'")

    def _fields(self) -> tuple:
        return tuple(getattr(self, n) for n in self.__slots__)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field '{name}'")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field '{name}'")

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.__class__, self._fields()))

    def __reduce__(self) -> tuple:  # copy and pickle (their default sets the slots, which are read-only)
        return (self.__class__, self._fields())

    def replace(self, **changes: object):
        """A copy with ``changes`` (``dataclasses.replace``)."""
        return self.__class__(**{n: changes.pop(n) if n in changes else getattr(self, n) for n in self.__slots__},
                              **changes)
