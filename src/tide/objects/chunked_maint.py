"""Locks, garbage collection and checks of the ``chunked`` format (see ``chunked.py``).

Locks are files ``chunked/locks/<random>`` holding ``{"exclusive", "host", "pid", "time"}``. A push
takes a shared lock, ``gc -c`` an exclusive one: the taker writes its lock, then lists the others;
a conflicting lock that is not stale makes it delete its own and give up (two takers that race both
give up: neither goes on unsafely). A lock is stale when nobody rewrote it for ``stale`` seconds
(a long push rewrites its lock every few minutes) or when it names a process of this host that no
longer runs; gc deletes stale locks.

gc (``collect``), under the exclusive lock: drop the recipes of the objects to remove; a pack none
of whose chunks is used any more is deleted, a pack whose live bytes are under ``repack`` of its
size is rewritten (its live chunks into new packs), and packs no index names (a killed push) are
deleted. One new index file, which *supersedes* every index file read, is written before anything
is deleted, so a gc killed at any point leaves a readable remote: the superseded files are then
ignored by readers and deleted by the next gc.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import socket
import time
from typing import TYPE_CHECKING

from tide.objects import chunked_format as F
from tide.objects.ref import ObjRef
from tide.storage.base import Backend, StorageError, StorageNotFound

if TYPE_CHECKING:
    from tide.objects.chunked import ChunkedStore


class RemoteLocked(StorageError):
    """Another process holds a conflicting lock on the chunked remote."""


# --- locks ---------------------------------------------------------------------------------------
def _lock_body(exclusive: bool) -> bytes:
    return json.dumps({"exclusive": exclusive, "host": socket.gethostname(), "pid": os.getpid(),
                       "time": time.time()}).encode()


def acquire(backend: Backend, exclusive: bool, stale: float) -> str:
    """Take a lock; returns its key. ``RemoteLocked`` when a live conflicting lock exists."""
    key = f"{F.LOCKS}{secrets.token_hex(12)}"
    body = _lock_body(exclusive)
    backend.put_stream(io.BytesIO(body), key, len(body))
    try:
        for other in backend.list(F.LOCKS):
            if other == key:
                continue
            info = _read_lock(backend, other)
            if info is None:
                continue  # released meanwhile
            if is_stale(info, stale):
                if exclusive:
                    backend.delete(other)
                continue
            if exclusive or info.get("exclusive"):
                what = "gc -c" if info.get("exclusive") else "a push"
                since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(info.get("time") or 0)))
                raise RemoteLocked(
                    f"remote '{backend.url}' is locked by {what} (host {info.get('host')}, pid {info.get('pid')}, "
                    f"last seen {since}); try again when it is done (a lock nobody renews is stale after "
                    f"{int(stale)} s; if that process is gone, delete '{other}' on the remote)")
    except BaseException:
        backend.delete(key)
        raise
    return key


def refresh_lock(backend: Backend, key: str, exclusive: bool) -> None:
    body = _lock_body(exclusive)
    backend.put_stream(io.BytesIO(body), key, len(body))


def _read_lock(backend: Backend, key: str) -> dict | None:
    try:
        with backend.open(key) as f:
            raw = f.read(4096)
    except StorageNotFound:
        return None
    try:
        info = json.loads(raw)
        if isinstance(info, dict):
            return info
    except ValueError:
        pass
    when = backend.modified(key)  # unreadable: judged by its age alone
    return {"exclusive": True, "host": "?", "pid": 0, "time": when if when is not None else 0.0}


def is_stale(info: dict, stale: float) -> bool:
    try:
        when = float(info.get("time") or 0)
    except (TypeError, ValueError):
        when = 0.0
    if time.time() - when > stale:
        return True
    if info.get("host") == socket.gethostname():
        try:
            pid = int(info.get("pid") or 0)
        except (TypeError, ValueError):
            return True
        if pid <= 0:
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


# --- gc ------------------------------------------------------------------------------------------
def collect(store: ChunkedStore, remove: list[ObjRef]) -> int:
    """Remove these objects and reclaim their space (module docstring); returns how many were on
    the remote. Runs even with nothing to remove: unreferenced packs go."""
    backend = store.backend
    store.check_writable()
    store._listable()
    lock = acquire(backend, exclusive=True, stale=store.params.stale)
    beat = _Heartbeat(backend, lock, store.params.refresh)
    try:
        st = store._load()
        recipes = dict(st.recipes)
        removed = [r for r in remove if recipes.pop(r, None) is not None]
        live = {c for rec in recipes.values() for c in rec.chunks}
        live |= bases(st, live)  # a delta's base lives as long as the delta
        listed = {k.rsplit("/", 1)[-1]: k for k in backend.list(F.PACKS)}
        keep: dict[str, list] = {}
        rewrite: list[str] = []
        dead = [p for p in listed if p not in st.packs]  # written by a push that never finished
        for pack, entries in st.packs.items():
            mine = [e for e in entries if e[0] in live and st.locs[e[0]].pack == pack]
            used = sum(e[2] for e in mine)
            total = sum(e[2] for e in entries) or 1
            if not mine:
                dead.append(pack)
            elif used < total * store.params.repack:
                rewrite.append(pack)
            else:
                keep[pack] = mine
        new_packs = _repack(store, st, rewrite, live, beat)
        changed = removed or dead or rewrite or len(st.names) > 1 or \
            any(len(keep[p]) != len(st.packs[p]) for p in keep)
        if changed:
            keep.update(new_packs)
            # one index for all that stays, superseding every index read, before anything is deleted
            beat()
            if keep or recipes:  # an empty remote needs no index file
                store._write_index(keep, recipes, sorted(st.names))
            backend.delete_many([F.INDEX + n for n in sorted(st.names)])
            backend.delete_many([F.pack_key(p) for p in sorted(set(dead) | set(rewrite)) if p in listed])
            store._state = None
            store._docs.clear()
            _forget_local(store)
        return len(removed)
    finally:
        try:
            backend.delete(lock)
        except StorageError:
            pass


def bases(st: F.State, chunks) -> set[bytes]:
    """The base chunks of those of ``chunks`` stored as deltas."""
    out = set()
    for c in chunks:
        loc = st.locs.get(c)
        if loc is not None and loc.comp.startswith(F.DELTA):
            out.add(bytes.fromhex(loc.comp[len(F.DELTA):]))
    return out


class _Heartbeat:
    """Rewrites a held lock when ``every`` seconds have passed since it was written: a long gc must
    not look stale to a push (a push ignores a stale exclusive lock)."""

    def __init__(self, backend: Backend, key: str, every: float) -> None:
        self.backend, self.key, self.every = backend, key, every
        self.last = time.time()

    def __call__(self) -> None:
        if time.time() - self.last > self.every:
            refresh_lock(self.backend, self.key, exclusive=True)
            self.last = time.time()


def _repack(store: ChunkedStore, st: F.State, packs: list[str], live: set[bytes], beat) -> dict[str, list]:
    """Copy the live chunks of ``packs`` into new packs (blobs as they are); their entries by pack."""
    out: dict[str, list] = {}
    builder = F.PackBuilder()
    seen: set[bytes] = set()

    def send(b: F.PackBuilder) -> None:
        pid, data = b.seal()
        store.backend.put_stream(io.BytesIO(data), F.pack_key(pid), len(data), sha256=pid)
        out[pid] = b.entries

    for pack in packs:
        beat()
        data = _read_all(store, pack)
        for cid, off, n, raw, comp in st.packs[pack]:
            if cid in live and cid not in seen and st.locs[cid].pack == pack:
                seen.add(cid)
                builder.add(cid, data[off:off + n], raw, comp)
                if builder.size >= store.params.pack:
                    send(builder)
                    builder = F.PackBuilder()
    if builder.entries:
        send(builder)
    return out


def _read_all(store: ChunkedStore, pack: str) -> bytes:
    with store.backend.open(F.pack_key(pack)) as f:
        return f.read()


def _forget_local(store: ChunkedStore) -> None:
    """Drop this clone's copies of index files the gc removed (the new one stays)."""
    d = os.path.join(store.local, "index")
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return
    for n in names:
        if F.is_id(n) and not store.backend.exists(F.INDEX + n):
            try:
                os.unlink(os.path.join(d, n))
            except FileNotFoundError:
                pass


# --- fsck -c -------------------------------------------------------------------------------------
def check(store: ChunkedStore, sample: int | None, jobs: int) -> list[str]:
    """Problems of the remote: every index file must read and hash to its name (always all); every
    recipe's chunks must be in an index and every pack an index names must exist (always all);
    packs are read whole and every blob checked against its chunk id, and objects reassembled and
    their md5 checked: all of them, or a random ``sample`` of each."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    from tide.core.hashing import md5_stream_matches

    problems: list[str] = []
    backend = store.backend
    store._listable()
    names = sorted(n for k in backend.list(F.INDEX) if F.is_id(n := k.rsplit("/", 1)[-1]))
    docs = {}
    for n in names:
        try:
            docs[n] = store._read_index(n)
        except StorageError as exc:
            problems.append(str(exc))
    st = F.State.of(docs)
    listed = {k.rsplit("/", 1)[-1] for k in backend.list(F.PACKS)}
    for pack in sorted(set(st.packs) - listed):
        problems.append(f"pack {pack}: named by the index but missing on the remote")
    for ref, rec in sorted(st.recipes.items()):
        lost = [c for c in rec.chunks if c not in st.locs]
        lost += [b for b in bases(st, rec.chunks) if b not in st.locs]
        if lost:
            problems.append(f"{ref.oid}: {len(lost)} of its chunks are in no index file (e.g. {lost[0].hex()})")
    packs = sorted(set(st.packs) & listed)
    refs = sorted(st.recipes)
    if sample is not None:
        packs = sorted(random.sample(packs, min(sample, len(packs))))
        refs = sorted(random.sample(refs, min(sample, len(refs))))

    def one_pack(pack: str) -> list[str]:
        try:
            data = _read_all(store, pack)
            trailer = F.parse_pack(pack, data)
        except StorageError as exc:
            return [str(exc)]
        out = []
        blobs = {c: (o, n, r, z) for c, o, n, r, z in trailer}
        for cid, off, n, raw, comp in st.packs[pack]:
            if blobs.get(cid) != (off, n, raw, comp):
                out.append(f"pack {pack}: chunk {cid.hex()} is not where the index says")
                continue
            try:
                base = store._chunk(bytes.fromhex(comp[len(F.DELTA):])) if comp.startswith(F.DELTA) else None
                piece = store.codec.decode(data[off:off + n], F.Loc(pack, off, n, raw, comp), base)
            except Exception as exc:  # a damaged zstd frame: whatever the library raised
                out.append(f"pack {pack}: chunk {cid.hex()} does not decode ({exc})")
                continue
            if F.sha256(piece) != cid:
                out.append(f"pack {pack}: chunk {cid.hex()} is corrupt")
        return out

    def one_ref(ref: ObjRef) -> str | None:
        try:
            with store.open(ref) as src:
                ok = md5_stream_matches(src, ref.oid.removesuffix(".dir"), ref.legacy and not ref.is_dir)
        except StorageError as exc:
            return f"{ref.oid}: cannot be reassembled ({exc})"
        return None if ok else f"{ref.oid}: reassembled, its content does not hash to its id"

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for found in pool.map(one_pack, packs):
            problems.extend(found)
        problems.extend(p for p in pool.map(one_ref, refs) if p)
    return problems


def unreferenced_packs(store: ChunkedStore) -> int:
    """Packs no index file names (left by killed pushes; ``gc -c`` removes them)."""
    st = store._load()
    return sum(1 for k in store.backend.list(F.PACKS) if k.rsplit("/", 1)[-1] not in st.packs)
