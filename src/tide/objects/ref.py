"""The light data types of the object layer: ``ObjRef`` (one object by id), ``DirPlan`` (a directory
to push) and ``TransferResult``. A push with nothing to send and ``status`` import this module, not
the transfer engine and the storage machinery behind it (named tuples and plain classes rather
than dataclasses, for start-up time)."""

from __future__ import annotations

from collections import namedtuple


class ObjRef(namedtuple("ObjRef", "oid legacy", defaults=(False,))):
    """One object: its id (``md5`` or ``md5.dir``) and whether it lives in the legacy layout.

    A named tuple (hashable, ordered, immutable) rather than a dataclass, for start-up time."""

    __slots__ = ()

    @property
    def is_dir(self) -> bool:
        return self.oid.endswith(".dir")


class DirPlan(namedtuple("DirPlan", "ref children")):
    """A directory to push: its manifest (``ref``) and the file objects the manifest lists."""

    __slots__ = ()


class TransferResult:
    """What one transfer did. Lists of ``ObjRef``: ``missing_local`` (push: not in the cache),
    ``missing_remote`` (fetch: not on the remote), ``corrupt`` (fetch: hash mismatch), ``confirmed``
    (push: known complete on the remote now); ``failed``: ``(ref, message)`` after retries."""

    def __init__(self, transferred: int = 0, nbytes: int = 0, present: int = 0) -> None:
        self.transferred = transferred
        self.nbytes = nbytes
        self.present = present  # already on the other side
        self.missing_local: list[ObjRef] = []
        self.missing_remote: list[ObjRef] = []
        self.corrupt: list[ObjRef] = []
        self.failed: list[tuple[ObjRef, str]] = []
        self.confirmed: list[ObjRef] = []

    @property
    def ok(self) -> bool:
        return not (self.missing_local or self.missing_remote or self.corrupt or self.failed)

    def add(self, other: TransferResult) -> None:
        """Count ``other`` (a further transfer of the same command) into this result."""
        self.transferred += other.transferred
        self.nbytes += other.nbytes
        self.present += other.present
        self.missing_local += other.missing_local
        self.missing_remote += other.missing_remote
        self.corrupt += other.corrupt
        self.failed += other.failed
        self.confirmed += other.confirmed

    def __repr__(self) -> str:
        return (f"TransferResult(transferred={self.transferred}, nbytes={self.nbytes}, present={self.present}, "
                f"missing_local={len(self.missing_local)}, missing_remote={len(self.missing_remote)}, "
                f"corrupt={len(self.corrupt)}, failed={len(self.failed)})")
