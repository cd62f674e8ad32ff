"""The on-remote structures of the ``chunked`` format: keys, packs, index files (docs/storage.md,
"The chunked format", is their specification).

    chunked/packs/ab/<sha256 of the pack's bytes>   blobs (chunks, zstd-compressed when that pays)
                                                     then a JSON trailer, its length and a magic
    chunked/index/<sha256 of the file's bytes>      one zstd frame of JSON: chunk -> pack/offset/length
                                                     and recipes: DVC object id -> chunks
    chunked/locks/<random>                          shared (push) and exclusive (gc) locks

Everything here is pure: bytes in, values out. ``chunked.py`` moves them over a ``Backend``.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import os
from _thread import _local  # (threading.local, without importing threading: status -c's start-up)
from collections.abc import Iterator
from typing import NamedTuple

from tide.core.errors import StorageError
from tide.objects.ref import ObjRef

ROOT = "chunked/"
PACKS = ROOT + "packs/"
INDEX = ROOT + "index/"
LOCKS = ROOT + "locks/"
MAGIC = b"TIDEPK01"
VERSION = 2  # index files written (binary ids, recipes as deltas); version 1 files are still read
READS = (1, 2)
PACK_VERSION = 1
DELTA_LEVEL = 3
DELTA = "zd:"  # a blob's encoding "zd:<base chunk id>": zstd with the base chunk's bytes as dictionary
_HEX = frozenset("0123456789abcdef")


class ChunkParams(NamedTuple):
    """How a clone writes (readers need none of it: every index and pack says what it holds).

    ``avg``: FastCDC's average chunk size (pyfastcdc ``avg_size``; min = avg/4, max = avg*4);
    ``pack``: a pack is sealed once it holds this many bytes; ``level``: zstd level (0: store raw);
    ``stale``: seconds after which a lock nobody refreshed is stale; ``refresh``: how often a long
    push rewrites its lock; ``repack``: gc rewrites a pack whose live bytes are below this share;
    ``index_every``: a long push writes an index file of its packs every this many packs, so that a
    push killed later sends only the rest when run again."""

    avg: int = 64 << 10
    pack: int = 32 << 20
    level: int = 1
    stale: float = 1800.0
    refresh: float = 300.0
    repack: float = 0.5
    index_every: int = 8


class Loc(NamedTuple):
    """Where a chunk's blob is: pack id, offset and length in the pack, raw (uncompressed) length and
    the blob's encoding (``"zstd"`` or ``"raw"``)."""

    pack: str
    offset: int
    length: int
    raw: int
    comp: str


class Recipe(NamedTuple):
    size: int
    time: float  # when the index that holds it was written (gc's grace period)
    chunks: tuple[bytes, ...]


def is_id(name: str) -> bool:
    return len(name) == 64 and all(c in _HEX for c in name)


def pack_key(pack: str) -> str:
    return f"{PACKS}{pack[:2]}/{pack}"


def sha256(data: bytes | memoryview) -> bytes:
    return hashlib.sha256(data).digest()


# --- compression ---------------------------------------------------------------------------------
class Codec(_local):
    """zstd contexts, one per thread (a context is not shared between threads); one per store."""

    def __init__(self) -> None:
        self.c = None
        self.level = -1
        self.d = None

    def encode(self, data: bytes | memoryview, level: int,
               base: tuple[bytes, bytes] | None = None) -> tuple[bytes, str]:
        """The blob for a chunk: zstd when it saves at least a tenth, else the raw bytes. With
        ``base`` (a chunk id and its bytes: the chunk at the same place in the object's previous
        version), zstd with the base as dictionary (``zd:<base id>``): an edited chunk costs its edits."""
        if level > 0 and base is not None and len(data) >= 64:
            import zstandard

            d = zstandard.ZstdCompressionDict(base[1], dict_type=zstandard.DICT_TYPE_RAWCONTENT)
            # level 3 at least: zstd's level 1 finds few matches in a dictionary (a 64 KiB chunk with
            # one edited byte: ~4.5 KB at level 1, ~0.5 KB at level 3; measured on the growing table)
            z = zstandard.ZstdCompressor(level=max(level, DELTA_LEVEL), dict_data=d,
                                         write_content_size=True).compress(data)
            if len(z) <= len(data) * 0.9:
                return z, DELTA + base[0].hex()
        if level > 0 and len(data) >= 64:
            if self.c is None or self.level != level:
                import zstandard

                self.c, self.level = zstandard.ZstdCompressor(level=level), level
            z = self.c.compress(data)
            if len(z) <= len(data) * 0.9:
                return z, "zstd"
        return data, "raw"  # (a view of the read buffer: copied once, into the pack)

    def decode(self, blob: bytes, loc: Loc, base: bytes | None = None) -> bytes:
        if loc.comp == "raw":
            return blob
        if loc.comp.startswith(DELTA):
            if base is None:
                raise StorageError(f"pack {loc.pack}: a delta blob read without its base chunk")
            import zstandard

            d = zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
            return zstandard.ZstdDecompressor(dict_data=d).decompress(blob, max_output_size=loc.raw)
        if loc.comp == "zstd":
            if self.d is None:
                import zstandard

                self.d = zstandard.ZstdDecompressor()
            return self.d.decompress(blob, max_output_size=loc.raw)
        raise StorageError(f"pack {loc.pack}: unknown blob encoding '{loc.comp}' (written by a newer tide?)")


# --- packs ---------------------------------------------------------------------------------------
class PackBuilder:
    """Blobs of one pack being filled (not thread-safe: the store holds its lock around ``add``).
    Blobs are kept as given (bytes or views of a file's read buffer) and copied once, by ``seal``;
    the pack's sha256 is computed there too, on whichever thread sends it (not under the store's lock)."""

    def __init__(self) -> None:
        self.blobs: list[bytes | memoryview] = []
        self.size = 0  # bytes of blobs so far
        self.entries: list[tuple[bytes, int, int, int, str]] = []  # chunk id, offset, length, raw, comp

    def add(self, cid: bytes, blob: bytes | memoryview, raw: int, comp: str) -> None:
        self.entries.append((cid, self.size, len(blob), raw, comp))
        self.blobs.append(blob)
        self.size += len(blob)

    def seal(self) -> tuple[str, bytes]:
        """The pack's id and bytes: the blobs, a JSON trailer listing them, its length (8 bytes,
        big-endian) and ``MAGIC``."""
        import json

        trailer = json.dumps({"format": "tide-chunked-pack", "version": PACK_VERSION,
                              "blobs": [[c.hex(), o, n, r, z] for c, o, n, r, z in self.entries]},
                             separators=(",", ":")).encode()
        self.blobs += [trailer, len(trailer).to_bytes(8, "big"), MAGIC]
        data = b"".join(self.blobs)
        self.blobs = []  # (views of read buffers released)
        return hashlib.sha256(data).hexdigest(), data


def parse_pack(pack: str, data: bytes) -> list[tuple[bytes, int, int, int, str]]:
    """The blobs a pack's trailer lists; StorageError if the pack is not what its name says."""
    if hashlib.sha256(data).hexdigest() != pack:
        raise StorageError(f"pack {pack}: its content does not hash to its name")
    if len(data) < 16 or data[-8:] != MAGIC:
        raise StorageError(f"pack {pack}: no pack trailer")
    n = int.from_bytes(data[-16:-8], "big")
    import json

    try:
        doc = json.loads(data[-16 - n:-16])
        return [(bytes.fromhex(c), o, ln, r, z) for c, o, ln, r, z in doc["blobs"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"pack {pack}: unreadable trailer ({exc})") from None


# --- index files ---------------------------------------------------------------------------------
def b64ids(ids) -> str:
    """Chunk ids (32 bytes each) as one base64 string: the compact form of version 2."""
    return binascii.b2a_base64(b"".join(ids), newline=False).decode()


def unb64ids(text: str) -> tuple[bytes, ...]:
    raw = binascii.a2b_base64(text.encode(), strict_mode=True)
    if len(raw) % 32:
        raise ValueError("chunk ids are not a multiple of 32 bytes")
    return tuple(raw[i:i + 32] for i in range(0, len(raw), 32))


def recipe_delta(chunks: tuple[bytes, ...], like: ObjRef, old: tuple[bytes, ...]) -> list:
    """``chunks`` as pieces: runs copied from the recipe of ``like`` (``[kind, oid, start, count]``)
    and base64 strings of the chunks between them. A day's version of a growing table names the
    few chunks that changed, not every chunk again."""
    pos: dict[bytes, int] = {}
    for i, c in enumerate(old):
        pos.setdefault(c, i)
    out: list = []
    lit: list[bytes] = []
    i = 0
    while i < len(chunks):
        j = pos.get(chunks[i])
        n = 0
        if j is not None:
            while i + n < len(chunks) and j + n < len(old) and chunks[i + n] == old[j + n]:
                n += 1
        if n >= 2:  # a copy costs more than one literal id
            if lit:
                out.append(b64ids(lit))
                lit = []
            out.append(["L" if like.legacy else "M", like.oid, j, n])
            i += n
        else:
            lit.append(chunks[i])
            i += 1
    if lit:
        out.append(b64ids(lit))
    return out


def encode_index(time: float, chunker: dict, packs: dict[str, list[tuple[bytes, int, int, int, str]]],
                 recipes: dict[ObjRef, Recipe], supersedes: list[str] = (),
                 like: dict[ObjRef, tuple[ObjRef, tuple[bytes, ...]]] | None = None) -> tuple[str, bytes]:
    """An index file (version 2); ``like``: for some objects, an object already on the remote and its
    chunks, against which the recipe is written as a delta (``recipe_delta``)."""
    like = like or {}

    def recipe(ref: ObjRef, rec: Recipe):
        if ref in like and like[ref][0] != ref:
            return recipe_delta(rec.chunks, *like[ref])
        return b64ids(rec.chunks)

    doc = {"format": "tide-chunked-index", "version": VERSION, "time": time, "chunker": chunker,
           "supersedes": sorted(supersedes),
           "packs": {p: [b64ids(e[0] for e in entries), [[o, n, r, z] for _, o, n, r, z in entries]]
                     for p, entries in sorted(packs.items())},
           "objects": [["L" if ref.legacy else "M", ref.oid, rec.size, recipe(ref, rec), rec.time or time]
                       for ref, rec in sorted(recipes.items())]}
    import json

    import zstandard

    data = zstandard.ZstdCompressor(level=3).compress(json.dumps(doc, separators=(",", ":")).encode())
    return hashlib.sha256(data).hexdigest(), data


def decode_index(name: str, data: bytes) -> dict:
    if hashlib.sha256(data).hexdigest() != name:
        raise StorageError(f"index file {name}: its content does not hash to its name")
    try:
        import json

        import zstandard

        doc = json.loads(zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 31))
    except (ValueError, ImportError) as exc:
        raise StorageError(f"index file {name}: unreadable ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != "tide-chunked-index":
        raise StorageError(f"index file {name}: not a tide chunked index")
    if doc.get("version") not in READS:
        raise StorageError(f"index file {name}: format version {doc.get('version')} "
                           f"(this tide reads {', '.join(map(str, READS))})")
    packs = doc.get("packs")
    if not isinstance(packs, dict) or not all(isinstance(p, str) and is_id(p) for p in packs):
        # a pack name becomes a key on the remote (pack_key): only a sha256 may, never a path someone wrote
        raise StorageError(f"index file {name}: a pack is not named by its sha256")
    return doc


def _pack_entries(version: int, entries) -> list[tuple[bytes, int, int, int, str]]:
    if version == 1:
        return [(bytes.fromhex(c), int(o), int(n), int(r), str(z)) for c, o, n, r, z in entries]
    ids, rest = entries
    ids = unb64ids(ids)
    if len(ids) != len(rest):
        raise ValueError("a pack's chunk ids and entries differ in number")
    return [(c, int(o), int(n), int(r), str(z)) for c, (o, n, r, z) in zip(ids, rest, strict=True)]


class State:
    """The union of the index files that no other supersedes."""

    def __init__(self) -> None:
        self.names: set[str] = set()  # index files read (superseded ones included)
        self.locs: dict[bytes, Loc] = {}
        self.packs: dict[str, list[tuple[bytes, int, int, int, str]]] = {}
        self.recipes: dict[ObjRef, Recipe] = {}

    @classmethod
    def of(cls, docs: dict[str, dict]) -> State:
        st = cls()
        st.names = set(docs)
        gone = {s for doc in docs.values() for s in doc.get("supersedes") or ()}
        deltas: list[tuple[str, ObjRef, int, float, list]] = []  # recipes written as deltas: resolved last
        for name in sorted(docs, key=lambda n: (docs[n].get("time") or 0, n)):  # oldest first
            if name in gone:
                continue
            doc = docs[name]
            version = doc.get("version")
            try:
                when = float(doc.get("time") or 0)
                for pack, entries in doc["packs"].items():
                    parsed = _pack_entries(version, entries)
                    st.packs.setdefault(pack, []).extend(parsed)
                    for c, o, n, r, z in parsed:
                        old = st.locs.get(c)
                        # a whole copy wins over a delta: a delta's base must never turn out to be a delta
                        if old is None or (old.comp.startswith(DELTA) and not z.startswith(DELTA)):
                            st.locs[c] = Loc(pack, o, n, r, z)
                for entry in doc["objects"]:  # kind, oid, size, chunks, when it was pushed
                    kind, oid, size, chunks = entry[:4]
                    pushed = float(entry[4]) if len(entry) > 4 else when
                    ref = ObjRef(oid, kind == "L")
                    if version == 1:
                        st.recipes[ref] = Recipe(int(size), pushed, tuple(bytes.fromhex(c) for c in chunks))
                    elif isinstance(chunks, str):
                        st.recipes[ref] = Recipe(int(size), pushed, unb64ids(chunks))
                    elif ref not in st.recipes:  # (a whole recipe of the same object says the same)
                        deltas.append((name, ref, int(size), pushed, chunks))
            except (ValueError, KeyError, TypeError) as exc:
                raise StorageError(f"index file {name}: unreadable entries ({exc})") from None
        while deltas:  # a delta names another recipe, which may itself be a delta (in any index file)
            left = []
            for name, ref, size, pushed, pieces in deltas:
                try:
                    chunks = _resolve(pieces, st.recipes)
                except (ValueError, KeyError, TypeError, IndexError) as exc:
                    raise StorageError(f"index file {name}: unreadable recipe of {ref.oid} ({exc})") from None
                if chunks is None:
                    left.append((name, ref, size, pushed, pieces))
                elif ref not in st.recipes:
                    st.recipes[ref] = Recipe(size, pushed, chunks)
            if len(left) == len(deltas):
                name, ref = left[0][:2]
                raise StorageError(f"index file {name}: the recipe of {ref.oid} copies from a recipe no index holds")
            deltas = left
        return st


def _resolve(pieces: list, recipes: dict[ObjRef, Recipe]) -> tuple[bytes, ...] | None:
    """A delta recipe's chunks; None while a recipe it copies from is not known yet."""
    out: list[bytes] = []
    for p in pieces:
        if isinstance(p, str):
            out.extend(unb64ids(p))
            continue
        kind, oid, start, count = p
        src = recipes.get(ObjRef(oid, kind == "L"))
        if src is None:
            return None
        start, count = int(start), int(count)
        if start < 0 or count < 1 or start + count > len(src.chunks):
            raise ValueError(f"a copy [{start}, {start + count}) outside a recipe of {len(src.chunks)} chunks")
        out.extend(src.chunks[start:start + count])
    return tuple(out)


# --- local helpers ------------------------------------------------------------------------------
_REFS = b"tide-chunked-refs 1\n"


def write_refs(path: str, refs) -> None:
    """The object ids of a merged index (a local cache named after the index files it merges)."""
    body = "".join(f"{'L' if r.legacy else 'M'}{r.oid}\n" for r in sorted(refs)).encode()
    write_atomic(path, _REFS + body + hashlib.sha256(body).hexdigest().encode() + b"\n")
    folder, own = os.path.split(path)
    for name in os.listdir(folder):
        if name != own and is_id(name):  # lists of older sets of index files: never read again
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass


def read_refs(path: str) -> set[str] | None:
    """``write_refs``'s set, as ``"M<oid>"`` / ``"L<oid>"`` strings (no object built per line: this
    is all ``status -c`` reads), or None when absent or not intact (then the index files are read)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    body, _, tail = data[len(_REFS):-1].rpartition(b"\n")
    body = body + b"\n" if body else b""
    if not data.startswith(_REFS) or not data.endswith(b"\n") or hashlib.sha256(body).hexdigest().encode() != tail:
        return None
    return set(body.decode().splitlines())


class Reader(io.RawIOBase):
    """A readable stream over an iterator of byte pieces, started on the first read (a missing
    object raises there, where the transfer engine maps errors)."""

    def __init__(self, start) -> None:
        super().__init__()
        self._start = start
        self._it: Iterator[bytes | memoryview] | None = None
        self._buf: bytes | memoryview = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        if self._it is None:
            self._it = self._start()
        if 0 <= n <= len(self._buf):
            view = memoryview(self._buf)
            self._buf = view[n:]
            return bytes(view[:n])
        parts, have = [self._buf], len(self._buf)
        self._buf = b""
        while n < 0 or have < n:
            piece = next(self._it, None)
            if piece is None:
                break
            if n >= 0 and have + len(piece) > n:  # keep what is over for the next read, uncopied
                keep = n - have
                view = memoryview(piece)
                parts.append(view[:keep])
                self._buf = view[keep:]
                have = n
                break
            parts.append(piece)
            have += len(piece)
        return b"".join(parts)


def write_atomic(path: str, data: bytes) -> None:
    from tide.core.fsutil import tmp_name

    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = tmp_name(path)
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
