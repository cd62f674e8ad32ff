"""``ObjRef``: one object by id, without the storage machinery (push with nothing to send and
status import this, not ``tide.objects.remote``)."""

from __future__ import annotations

from collections import namedtuple


class ObjRef(namedtuple("ObjRef", "oid legacy", defaults=(False,))):
    """One object: its id (``md5`` or ``md5.dir``) and whether it lives in the legacy layout.

    A named tuple (hashable, ordered, immutable) rather than a dataclass, for start-up time."""

    __slots__ = ()

    @property
    def is_dir(self) -> bool:
        return self.oid.endswith(".dir")
