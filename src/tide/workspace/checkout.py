"""Materializing tracked outputs from the cache into the workspace."""

from __future__ import annotations

import os
import stat

from tide.core import manifest
from tide.core.errors import CacheError, FileFormatError, MissingError, TideError
from tide.core.fsutil import remove
from tide.core.hashing import EMPTY_MD5
from tide.objects.cache import EMPTY_TAIL, ObjectCache, set_exec_through_link
from tide.workspace.hashing import Hasher
from tide.workspace.ignore import empty_subtrees, parent_prefix
from tide.workspace.pointers import Out


class CheckoutResult:  # (not a dataclass: importing dataclasses costs ~8 ms of a no-op checkout or add)
    __slots__ = ("added", "modified", "failed", "unhashed", "fixes", "deleted", "unchanged", "files")

    def __init__(self) -> None:
        self.added: list[str] = []
        self.modified: list[str] = []
        self.failed: list[str] = []  # paths whose objects are missing
        self.unhashed: list[str] = []  # of those, outputs with no recorded hash
        self.fixes: list[str] = []  # what records the missing hashes (ops.checkout._no_hash)
        self.deleted: list[str] = []  # outputs no longer tracked, removed (ops.checkout)
        self.unchanged = 0
        # files written or removed, by kind (a directory output counts each of its files), as dvc's
        # ``checkout --summary`` counts them
        self.files: dict[str, int] = {"modified": 0, "added": 0, "deleted": 0}


class NeedsForce(TideError):
    pass


def _is_link_kind_ok(path: str, src: str, kinds: tuple[str, ...]) -> bool:
    """Whether the workspace file is already linked the way the first configured type would do it."""
    first = kinds[0]
    if first == "symlink":
        try:
            if os.readlink(path) == src:  # the link as tide writes it: one readlink, no path walk
                return True
        except OSError:
            return False  # not a symbolic link (or gone)
        return os.path.realpath(path) == os.path.realpath(src)
    if first == "hardlink":
        if src.endswith(EMPTY_TAIL):  # empty files are never hard-linked (N40): one linked to any object
            try:  # (the empty one, or an object emptied through the link) is copied afresh, as dvc relinks it
                st = os.lstat(path)
            except OSError:
                return False
            return st.st_nlink == 1 and not stat.S_ISLNK(st.st_mode)
        try:
            return os.path.samefile(path, src)
        except OSError:
            return False
    return not os.path.islink(path)


def _all_linked(root: str, entries: list[manifest.Entry], cache: ObjectCache, legacy: bool) -> bool:
    """``_is_link_kind_ok`` for every file of a directory output. On a hardlink cache the inode numbers
    come from listings of the directories (``scandir``: no ``stat`` of the file and of its object, as
    ``samefile`` makes: 2,226 files 0.16 -> 0.12 s for a no-op ``add``); a file whose number differs
    from its object's (or none: a symbolic link, a directory on another device than the cache's) and an
    empty file are checked the usual way."""
    kinds = cache.link_types
    if kinds[0] != "hardlink" or len(entries) < 64:
        return all(_is_link_kind_ok(os.path.join(root, e.relpath), cache.path(e.md5, legacy), kinds) for e in entries)
    try:
        dev = os.stat(cache.root).st_dev
    except OSError:
        return False
    def listing(d: str) -> dict[str, int] | None:
        """The regular files of directory ``d`` by name, with their inode numbers (None: unreadable, or a
        directory on another device than the cache's: a mount inside the output)."""
        try:
            with os.scandir(d) as it:
                names = {x.name: x.inode() for x in it if x.is_file(follow_symlinks=False)}
            return names if os.stat(d).st_dev == dev else None
        except OSError:
            return None

    # directories keyed without os.path.split (2 µs a call, twice a file): a workspace directory by its
    # relative path, a cache directory by the object's two-letter prefix
    ws_dirs: dict[str, dict[str, int] | None] = {}
    obj_dirs: dict[str, dict[str, int] | None] = {}
    obj_base = os.path.dirname(os.path.dirname(cache.path(entries[0].md5, legacy)))
    for e in entries:
        rd, _, name = e.relpath.rpartition("/")
        names = ws_dirs.get(rd, False)
        if names is False:
            names = ws_dirs[rd] = listing(os.path.join(root, *rd.split("/")) if rd else root)
        mine = names.get(name) if names else None  # (None: gone, a symbolic link, a directory, another device)
        pre = e.md5[:2]
        objs = obj_dirs.get(pre, False)
        if objs is False:
            objs = obj_dirs[pre] = listing(os.path.join(obj_base, pre))
        same = mine is not None and objs and mine == objs.get(e.md5[2:]) and e.md5 != EMPTY_MD5
        if not same and not _is_link_kind_ok(os.path.join(root, e.relpath), cache.path(e.md5, legacy), kinds):
            return False
    return True


def load_manifest(cache: ObjectCache, out: Out) -> list[manifest.Entry]:
    try:
        raw = cache.read_bytes(out.md5, out.legacy)
    except FileNotFoundError:
        raise MissingError(f"'{out.path}': directory manifest {out.md5} is missing from the cache")
    return manifest.parse(raw, where=f"manifest {out.md5}")


def checkout_out(
    out: Out, rel: str, hasher: Hasher, cache: ObjectCache, force: bool = False, relink: bool = False,
    keep_unchanged: bool = False, dry: bool = False, known_md5: str | None = None, known_snapshot: str | None = None,
) -> CheckoutResult:
    """``dry``: the refusals alone (``NeedsForce``), nothing written: ``ops.checkout`` runs it over every
    output before writing any, as dvc refuses before applying a change (``_check_can_delete``); its
    ``unchanged`` is 1 only when the output needs nothing written.
    ``keep_unchanged`` (``tide checkout``/``pull``, as dvc-data's ``compare``): a file whose content is
    the recorded one is left as it is (a plain copy in a link cache stays a copy; its object need not be
    in the cache) unless ``relink``; without it (``add``/``commit``) such a file is relinked when it is not
    linked the way the first cache type links (N38). ``known_md5``: a directory's hash as its snapshot gave
    it to the caller just before (an ``add`` with nothing to add), not taken again (2,226 ``stat``s), and
    ``known_snapshot`` that snapshot (see ``_linked_before``)."""
    res = CheckoutResult()
    if out.md5 is None:
        raise FileFormatError(f"'{rel}' has no recorded hash; run 'tide commit' or 'tide add' first")
    if not out.use_cache:
        return res
    if out.is_dir:
        return _checkout_dir(out, rel, hasher, cache, force, relink, res, keep_unchanged, dry=dry, known_md5=known_md5,
                             known_snapshot=known_snapshot)
    src = cache.path(out.md5, out.legacy)
    exists = os.path.lexists(out.abspath)
    if exists and os.path.isdir(out.abspath) and not os.path.islink(out.abspath):
        if not force:
            raise NeedsForce(
                f"'{rel}' is a directory in the workspace but a file is tracked; use --force to replace it"
            )
        if dry:
            return res
        remove(out.abspath)
        exists = False
    if exists:
        cur = current_md5(hasher, out.abspath)
        if cur == out.md5:
            if not relink and (keep_unchanged or _is_link_kind_ok(out.abspath, src, cache.link_types)):
                if out.isexec and not os.stat(out.abspath).st_mode & 0o111:
                    if dry:
                        return res  # a chmod to make: not unchanged
                    set_exec_through_link(out.abspath)  # as dvc-data's compare: isexec differs, chmod u+x
                res.unchanged += 1
                return res
        elif cur is not None and not force and not cache.exists(cur):
            raise NeedsForce(
                f"'{rel}' has changes that are not in the cache and would be lost; "
                "use --force to discard them (or 'tide add' to keep them)"
            )
    if dry:
        return res
    if not os.path.exists(src):
        res.failed.append(rel)
        return res
    if exists:
        _make_writable_parent(out.abspath)
    cache.link(out.md5, out.abspath, isexec=out.isexec, legacy=out.legacy)
    if out.isexec and cache.link_types[0] not in ("hardlink", "symlink"):
        mode = os.stat(out.abspath).st_mode
        os.chmod(out.abspath, mode | stat.S_IEXEC)
    hasher.record(out.abspath, [("", out.md5)])
    (res.modified if exists else res.added).append(rel)
    res.files["modified" if exists else "added"] += 1
    return res


def checkout_part(out: Out, part: str, rel: str, hasher: Hasher, cache: ObjectCache, force: bool = False,
                  relink: bool = False, dry: bool = False) -> CheckoutResult:
    """Check out only ``part`` (a path inside directory output ``out``: dvc's granular target,
    ``filter_info``): a file of the manifest, or a subdirectory made exactly as the manifest has it
    (files it lacks removed, under the same ``force`` rules as a whole directory). Nothing outside
    ``part`` is touched. Reported under the output's name (``d/``), as dvc does; a manifest missing
    from the cache fails the output; a part the manifest does not hold writes nothing."""
    res = CheckoutResult()
    if not out.use_cache:
        return res
    if not cache.exists(out.md5, out.legacy):
        res.failed.append(rel)
        return res
    sub = os.path.relpath(part, out.abspath).replace(os.sep, "/")
    entries = load_manifest(cache, out)
    file = next((e for e in entries if e.relpath == sub), None)
    inside = [manifest.Entry(e.relpath[len(sub) + 1:], e.md5) for e in entries if e.relpath.startswith(sub + "/")]
    if file is None and not inside:
        return res
    existed = os.path.isdir(out.abspath) and not os.path.islink(out.abspath)
    if os.path.lexists(out.abspath) and not existed:
        if not force:
            raise NeedsForce(f"'{rel}' is a file or a symbolic link in the workspace but a directory is tracked; "
                             "use --force to replace it")
        if dry:
            return res
        remove(out.abspath)
    sub_rel = f"{rel}/{sub}"
    if file is not None:
        virtual = Out(sub_rel, part, md5=file.md5, hash_name=out.hash_name)
        r = checkout_out(virtual, sub_rel, hasher, cache, force, relink, keep_unchanged=True, dry=dry)
    else:
        oid = manifest.tree_oid(manifest.serialize(inside))
        virtual = Out(sub_rel, part, md5=oid, hash_name=out.hash_name)
        r = _checkout_dir(virtual, sub_rel, hasher, cache, force, relink, CheckoutResult(), True, inside, dry=dry)
    if r.failed:
        res.failed.append(rel)
    elif r.added or r.modified:
        (res.modified if existed else res.added).append(rel + "/")
    res.unchanged = r.unchanged
    res.files = r.files
    return res


def _make_writable_parent(path: str) -> None:
    parent = os.path.dirname(path)
    if not os.access(parent, os.W_OK):
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR)


def current_md5(hasher: Hasher, path: str) -> str | None:
    try:
        return hasher.hash_path(path, want_files=False).md5
    except (MissingError, OSError):
        return None


def unsaved(hasher: Hasher, cache: ObjectCache, path: str) -> str | None:
    """What removing ``path`` would lose, as dvc-data's checkout asks before deleting without ``--force``
    (dvc's ``_check_can_delete``): the first file under ``path`` (``""``: ``path`` itself, also when it
    cannot be hashed) whose content is not in the cache; None when the cache holds every file's content."""
    try:
        res = hasher.hash_path(path)
    except (TideError, OSError):
        return ""
    if not res.is_dir:
        return None if cache.exists(res.md5) else ""
    return next((f.relpath for f in res.files if not cache.exists(f.md5)), None)


def _symlinked_dirs(base: str, relpaths) -> list[str]:
    """Directories the entries are written into that are symlinks in the workspace (outermost first)."""
    seen: set[str] = set()
    bad: list[str] = []
    for relpath in relpaths:
        parts = relpath.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d in seen:
                continue
            seen.add(d)
            if any(d.startswith(b + "/") for b in bad):
                continue
            if os.path.islink(os.path.join(base, d)):
                bad.append(d)
    return bad


def _checkout_dir(out, rel, hasher, cache, force, relink, res, keep_unchanged=False, entries=None, dry=False,
                  known_md5=None, known_snapshot=None):
    """``entries``: the manifest's (a part of a directory, ``checkout_part``), not read from the cache.
    ``dry``: as ``checkout_out``'s. The manifest is read (and checked: ``load_manifest``) before anything is
    written, and not at all for a directory found unchanged on a copy cache or by ``checkout``/``pull``
    (``keep_unchanged``): a ``checkout`` with nothing to do imports no JSON parser (issue 26)."""
    if entries is None and not cache.exists(out.md5, out.legacy):
        res.failed.append(rel)
        return res
    whole = entries is None  # the whole directory (not checkout_part's part of it)
    # a symlink in place of the directory is never written through: it may lead outside the repository
    existed = os.path.isdir(out.abspath) and not os.path.islink(out.abspath)
    if os.path.lexists(out.abspath) and not existed:
        if not force:
            raise NeedsForce(
                f"'{rel}' is a file or a symbolic link in the workspace but a directory is tracked; "
                "use --force to replace it"
            )
        if dry:
            return res
        if entries is None:  # checked before anything is written
            entries = load_manifest(cache, out)
        remove(out.abspath)
    current = {}
    empty: list[str] = []  # subdirectories with no file below them (Ignore.listing, N57)
    if existed:
        # unchanged? the directory's snapshot answers without a row per file (as `status` does),
        # then, on a link cache, each file is checked to be linked to its entry's object
        if known_md5 is None or keep_unchanged:  # (checkout, pull: the empty subdirectories are wanted too)
            known_md5 = hasher.hash_dir(out.abspath, want_files=False, empty=empty).md5
        unchanged = not relink and known_md5 == out.md5
        if unchanged and not keep_unchanged and cache.link_types[0] in ("hardlink", "symlink"):
            seen = _linked_before(out, rel, hasher, cache, known_snapshot)
            if seen is None or not seen[0]:
                if entries is None:
                    entries = load_manifest(cache, out)
                unchanged = _all_linked(out.abspath, entries, cache, out.legacy)
                if unchanged and seen is not None:
                    hasher.state.save_dir(seen[1], seen[2], out.md5, 0, 0)
        if unchanged:
            if keep_unchanged and empty:
                if dry:
                    return res  # directories to prune: not unchanged
                _prune(out.abspath, empty, res)
                res.modified.append(rel + "/")
            else:
                res.unchanged += 1
            return res
        empty.clear()
        cur = hasher.hash_dir(out.abspath, empty=empty)
        current = {f.relpath: f.md5 for f in cur.files}
    if entries is None:
        entries = load_manifest(cache, out)
    wanted = {e.relpath: e.md5 for e in entries}
    extra = [p for p in current if p not in wanted]
    lost = [p for p in extra if not cache.exists(current[p], out.legacy)]
    changed_lost = [p for p in wanted if p in current and current[p] != wanted[p] and not cache.exists(current[p])]
    if (lost or changed_lost) and not force:
        sample = (lost + changed_lost)[0]
        raise NeedsForce(
            f"'{rel}/{sample}' has changes that are not in the cache and would be lost; "
            "use --force to discard them (or 'tide add' to keep them)"
        )
    if _missing_objects(out, entries, whole, cache, hasher):
        res.failed.append(rel)
        return res
    linked = _symlinked_dirs(out.abspath, wanted) if existed else []
    if linked and not force:
        raise NeedsForce(
            f"'{rel}/{linked[0]}' is a symbolic link in the workspace where the tracked data has a directory; "
            "use --force to replace it"
        )
    if dry:
        return res
    for d in linked:
        os.unlink(os.path.join(out.abspath, d))
    for p in extra:
        remove(os.path.join(out.abspath, p))
    todo = [
        (p, md5) for p, md5 in wanted.items()
        if relink or current.get(p) != md5
        or not keep_unchanged
        and not _is_link_kind_ok(os.path.join(out.abspath, p), cache.path(md5, out.legacy), cache.link_types)
    ]
    # checkout/pull (not add/commit), as dvc-data's checkout: every directory with no tracked file below
    # it goes, those emptied of untracked files too; dvc counts each as a deleted file
    prune = _unfilled(empty, extra, wanted) if keep_unchanged else []
    if not todo and not extra and not prune and existed:
        res.unchanged += 1
        return res
    # an empty tree still gets its (empty) directory, as dvc makes it (N23)
    # temporaries a killed tide left here went when the repository lock was taken (core/temps.py)
    created = not os.path.lexists(out.abspath)
    os.makedirs(out.abspath, exist_ok=True)
    try:
        prefix = out.abspath + os.sep
        native = os.sep != "/"
        rows = cache.link_many([(md5, prefix + (p.replace("/", os.sep) if native else p)) for p, md5 in todo],
                               out.legacy, stat=hasher.row_maker(out.abspath, todo))
    except BaseException:
        if created:  # a directory this checkout made holds nothing of the user's: a failure leaves no trace
            remove(out.abspath)  # (as dvc, whose failed link leaves no directory; seed 66401, 422)
        raise
    hasher.record(out.abspath, todo, rows)
    _prune(out.abspath, prune, res)
    (res.modified if existed else res.added).append(rel + "/")
    res.files["added"] += sum(1 for p, _ in todo if p not in current)
    res.files["modified"] += sum(1 for p, _ in todo if p in current)
    res.files["deleted"] += len(extra)
    return res


def _missing_objects(out, entries, whole: bool, cache: ObjectCache, hasher: Hasher) -> bool:
    """Whether an object of ``entries`` is not in the cache. The whole directory found complete is
    remembered against the cache's fingerprint (``cache_has``'s record, taken before the look): the
    next checkout while no object was added or removed stats 256 cache directories instead of listing
    them (70,000 files: ~0.12 s)."""
    from tide.objects.ref import ObjRef
    from tide.workspace.status import known_complete, record_complete

    fps: dict = {}
    if whole and known_complete(out.md5, out.legacy, cache, hasher.state, fps):
        return False
    if cache.missing((e.md5 for e in entries), out.legacy):
        return True
    if whole:
        record_complete([ObjRef(out.md5, out.legacy)], hasher.state, fps)
    return False


def _linked_before(out, rel: str, hasher: Hasher, cache: ObjectCache,
                   snapshot: str | None) -> tuple[bool, str, str] | None:
    """``(found, key, signature)``: whether the directory's files were found linked to their objects
    (``_all_linked``) when they had this ``snapshot`` (names, inodes, mtimes, sizes), the cache had its
    current fingerprint (no object added or removed since) and the same link type; the state row that
    remembers it is ``key`` -> ``signature``. None when that cannot be known (no snapshot, a cache directory
    changed in the last second). A no-op ``add`` on a link cache then reads no manifest and lists no cache
    directory (2,226 files: ~15 ms of ~80). Not told apart: a file replaced by another link to its own
    object (the same inode, mtime and size, which a snapshot follows symbolic links to)."""
    if snapshot is None:
        return None
    fp = cache.fingerprint(out.legacy)
    if not fp:
        return None
    key = f"/linked/{rel}"  # relpaths never start with /
    signature = f"{snapshot}:{fp}:{cache.link_types[0]}"
    row = hasher.state.lookup_dir(key)
    return row is not None and row[0] == signature and row[1] == out.md5, key, signature


def _unfilled(empty: list[str], extra: list[str], wanted) -> list[str]:
    """``empty`` (prefixes ``"a/b/"``) and the directories of the ``extra`` files (removed) that hold no
    ``wanted`` file below them, deepest first."""
    if not extra:
        return empty
    chain: set[str] = set()
    for p in extra:
        d = parent_prefix(p)
        while d and d not in chain:
            chain.add(d)
            d = parent_prefix(d)
    return sorted(set(empty) | set(empty_subtrees(chain, (parent_prefix(p) for p in wanted))), reverse=True)


def _prune(base: str, prefixes: list[str], res: CheckoutResult) -> None:
    """Remove each directory (deepest first) as dvc-data's ``_delete_dirs``: ``rmdir``, errors ignored
    (one holding ignored files stays; dvc counts and reports it all the same)."""
    for p in prefixes:
        try:
            os.rmdir(os.path.join(base, p))
        except OSError:
            pass
    res.files["deleted"] += len(prefixes)


__all__ = ["CheckoutResult", "NeedsForce", "checkout_out", "checkout_part", "load_manifest", "unsaved", "CacheError"]
