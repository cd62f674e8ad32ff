"""What this clone knows to be complete on a remote: a local, append-only list of object ids.

Push records every object (and every ``.dir`` whose files all made it) once the remote has it;
the next push skips what the index lists, so a push with nothing to send asks the remote for one
small file at most (dvc keeps a similar per-remote index). The index is a hint, never a source of truth: ``status -c``,
``fetch`` and ``gc -c`` always ask the remote, ``gc -c`` clears the index of the remote it cleans,
and ``TIDE_REMOTE_INDEX=0`` turns it off. Another clone's ``tide gc -c`` may delete objects this
index lists: it then writes a new token to ``tide-gc-epoch`` at the remote's root (``EPOCH_KEY``), and
a push reads that token before trusting the index, which it drops when the token changed.
One file per remote URL, in ``.dvc/tmp/tide/``; lines
are appended with O_APPEND, so concurrent pushes never corrupt it (a torn last line is ignored).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

from tide.objects.ref import ObjRef

EPOCH_KEY = "tide-gc-epoch"  # at the remote's root, where dvc looks for no objects


class RemoteIndex:
    def __init__(self, directory: str, url: str, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = os.path.join(directory, f"{hashlib.sha256(url.encode()).hexdigest()[:24]}.idx")
        self._known: set[ObjRef] | None = None

    def known(self) -> set[ObjRef]:
        if self._known is None:
            self._known = set()
            if self.enabled:
                try:
                    with open(self.path, encoding="ascii", errors="replace") as f:
                        for line in f:
                            if line.endswith("\n"):
                                self._known.add(_parse(line[:-1]))
                except FileNotFoundError:
                    pass
                self._known.discard(None)  # type: ignore[arg-type]
        return self._known

    def has_all(self, refs: Iterable[ObjRef]) -> bool:
        """Whether the index lists every one of ``refs`` (a push with nothing to send asks this about
        a few ``.dir`` ids and files: search the file's text rather than parse all its lines)."""
        if not self.enabled:
            return False
        if self._known is not None:
            return all(r in self._known for r in refs)
        try:
            with open(self.path, encoding="ascii", errors="replace") as f:
                text = "\n" + f.read()
        except FileNotFoundError:
            return False
        return all(f"\n{'L' if r.legacy else 'M'} {r.oid}\n" in text for r in refs)

    def add(self, refs: Iterable[ObjRef]) -> None:
        if not self.enabled:
            return
        known = self.known()
        new = [r for r in refs if r not in known]
        if not new:
            return
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        data = "".join(f"{'L' if r.legacy else 'M'} {r.oid}\n" for r in new).encode("ascii")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        known.update(new)

    def clear(self) -> None:
        self._known = set()
        for p in (self.path, self.path + ".epoch"):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def check_epoch(self, epoch: str) -> None:
        """Drop the index when the remote's gc epoch (``""``: never collected by tide) is not the one
        seen when the index was last written: objects it lists may have been deleted since."""
        if not self.enabled:
            return
        try:
            with open(self.path + ".epoch", encoding="ascii", errors="replace") as f:
                seen = f.read()
        except FileNotFoundError:
            seen = None
        if seen == epoch:
            return
        if seen is not None or epoch:
            self.clear()
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        from tide.core.fsutil import atomic_write_text

        atomic_write_text(self.path + ".epoch", epoch)


def _parse(line: str) -> ObjRef | None:
    kind, _, oid = line.partition(" ")
    base = oid[:-4] if oid.endswith(".dir") else oid
    if kind not in ("M", "L") or len(base) != 32:
        return None
    return ObjRef(oid, kind == "L")
