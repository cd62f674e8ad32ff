"""``tide checkout``: restore tracked outputs from the cache."""

from __future__ import annotations

import os

from tide.core.errors import MissingError, TideError
from tide.core.fsutil import remove
from tide.ops.index import Tracked, collect, declared_outs
from tide.ops.status import select
from tide.workspace.checkout import CheckoutResult, NeedsForce, checkout_out, checkout_part, load_manifest, unsaved
from tide.workspace.index import find_dvc_files
from tide.workspace.repo import Repo


def checkout(
    repo: Repo, targets: list[str] | None = None, force: bool = False, relink: bool = False, cwd: str | None = None,
    jobs: int | None = None,
) -> CheckoutResult:
    """``--no-download`` imports (no hash recorded, a locked revision) are got from their source at
    ``rev_lock``, as dvc's checkout does (``registry_fetch.materialize_unlocked``); ``jobs`` for that."""
    cwd = cwd or os.getcwd()
    total = CheckoutResult()
    with repo.lock():
        found = find_dvc_files(repo.root, repo.ignore)
        tracked = collect(repo, found)
        declared = declared_outs(repo, found[1])
        have = {t.out.abspath for t in tracked}
        unrecorded = [t for t in declared if t.out.use_cache and t.out.abspath not in have]
        selected = select(repo, tracked + unrecorded, targets, cwd, granular=True)
        unlocked = _unlocked_imports(repo, selected)
        # an unsafe or corrupt manifest is refused before anything is written: with --force here; without it
        # by _refuse_losses's dry runs, which read the manifest of each output they do not find unchanged (the
        # first output's own checkout reads its own before writing: a no-op checkout parses no manifest)
        for i, t in enumerate(selected):
            out = t.out
            if (force and (i or unlocked) and out.md5 and out.is_dir and out.use_cache
                    and repo.cache.exists(out.md5, out.legacy)):
                load_manifest(repo.cache, out)
            if out.md5 is None and not force and os.path.lexists(out.abspath) and out.abspath not in unlocked:
                _check_can_remove(repo, out.abspath)
        if not targets:
            total.deleted = remove_stale(repo, have | {t.out.abspath for t in declared})
            total.files["deleted"] = len(total.deleted)
        checked: dict[int, CheckoutResult] = {}
        if not force:  # as dvc (_check_can_delete): data a checkout would lose refuses it before anything is written
            checked = _refuse_losses(repo, [t for t in selected if t.out.abspath not in unlocked and t.out.md5], relink,
                                     all_of_them=bool(unlocked))
        if unlocked:
            from tide.ops.registry_fetch import materialize_unlocked

            materialize_unlocked(repo, unlocked, total, jobs, force)
        links = []
        for t in selected:
            if t.out.abspath in unlocked:
                continue
            if t.out.md5 is None:
                _no_hash(repo, t, total)
                continue
            if id(t) in checked:  # found unchanged by _refuse_losses: nothing to write
                r = checked[id(t)]
            elif t.part is not None and t.out.is_dir:  # a target inside the directory: that part alone
                r = checkout_part(t.out, t.part, repo.rel(t.out.abspath), repo.hasher, repo.cache, force, relink)
            else:
                r = checkout_out(t.out, repo.rel(t.out.abspath), repo.hasher, repo.cache, force, relink,
                                 keep_unchanged=True)
            seen = total.added + total.modified  # parts of one directory: it is named once
            total.added += [p for p in r.added if p not in seen]
            total.modified += [p for p in r.modified if p not in seen]
            total.failed += r.failed
            total.unchanged += r.unchanged
            for k, n in r.files.items():
                total.files[k] += n
            if t.out.use_cache and (r.added or r.modified) and t.part is None:  # only what checkout wrote (N38)
                links.append((repo.rel(t.out.abspath), t.out.md5))
        repo.state.save_links(links)
    return total


def _check_can_remove(repo: Repo, path: str) -> None:
    """An output with no recorded hash is removed by checkout (it fails: nothing to write in its place);
    without ``--force`` only when the cache holds all of its content (N66, dvc's ``_check_can_delete``)."""
    lost = unsaved(repo.hasher, repo.cache, path)
    if lost is not None:
        what = f"'{repo.rel(path)}/{lost}' is" if lost else "its content is"
        raise NeedsForce(
            f"'{repo.rel(path)}' has no recorded hash (its stage never ran) and {what} not in the cache; "
            "checkout would remove it: use --force to do so"
        )


def _refuse_losses(repo: Repo, selected: list[Tracked], relink: bool,
                   all_of_them: bool = False) -> dict[int, CheckoutResult]:
    """Raise ``NeedsForce`` for the first output whose checkout would discard data the cache lacks (or
    replace a directory by a file, ...): the checks ``checkout_out`` makes, over every output before any
    is written (N71). The first output's own checkout makes them before anything is written, so it is left
    to it (unless ``all_of_them``: imports are got from their source before the outputs are checked out).
    Returns the results of the outputs found unchanged (nothing to write), by ``id`` of their ``Tracked``,
    so their directories are walked once; not for an output nested in another one (or holding one),
    which the other's checkout may change, nor for a part of a directory."""
    paths = {t.out.abspath for t in selected}
    above = {a for p in paths for a in _ancestors(p)}
    nested = {p for p in paths if p in above or any(a in paths for a in _ancestors(p))}
    unchanged = {}
    for t in selected if all_of_them else selected[1:]:
        rel = repo.rel(t.out.abspath)
        if t.part is not None and t.out.is_dir:
            checkout_part(t.out, t.part, rel, repo.hasher, repo.cache, False, relink, dry=True)
            continue
        r = checkout_out(t.out, rel, repo.hasher, repo.cache, False, relink, keep_unchanged=True, dry=True)
        if r.unchanged and t.out.abspath not in nested:
            unchanged[id(t)] = r
    return unchanged


def _ancestors(path: str) -> list[str]:
    out = []
    head = os.path.dirname(path)
    while head and head != path:
        out.append(head)
        path, head = head, os.path.dirname(head)
    return out


def _unlocked_imports(repo: Repo, selected: list[Tracked]) -> dict:
    if all(t.out.md5 is not None for t in selected):
        return {}
    from tide.ops.registry_fetch import unlocked_of

    return unlocked_of(repo, selected)


def remove_stale(repo: Repo, used: set[str]) -> list[str]:
    """Delete outputs tide wrote earlier that nothing tracks any more (after ``git checkout`` to a
    commit without their .dvc file or stage, as dvc does with its "unused links"), but only those
    still exactly as tide left them (``Hasher.unchanged_since``, and no state row of theirs rewritten since
    the link was recorded: ``State.stamp``, N45) and whose content is in the cache: a file changed or
    touched since, or holding data found nowhere else, stays. Returns the deleted paths."""
    stale = repo.state.links()
    forget, deleted = [], []
    for rel, (md5, stamp) in stale.items():
        path = os.path.join(repo.root, rel)
        if any(u == path or u.startswith(path + os.sep) or path.startswith(u + os.sep) for u in used):
            continue
        if not os.path.lexists(path):
            forget.append(rel)
        elif ((stamp is None or stamp == repo.state.stamp(rel))
              and (repo.hasher.unchanged_since(path, md5) or _links_to_objects(repo, path, md5))
              and _all_cached(repo, md5)):
            remove(path)
            deleted.append(rel)
            forget.append(rel)
    repo.state.forget_links(forget)
    return sorted(deleted)


def _links_to_objects(repo: Repo, path: str, md5: str) -> bool:
    """With ``cache.type symlink`` an output tide wrote is a link to its object (a directory: a tree of
    links, one per manifest entry and nothing else); such a link, unchanged, is as tide left it. An
    object modified after its link was made (written through the link: root ignores its read-only mode)
    holds data found nowhere else: its link stays, as dvc keeps it (N35)."""
    def links_to(p: str, oid: str) -> bool:
        obj = repo.cache.path(oid)
        if not os.path.islink(p) or os.path.realpath(p) != os.path.realpath(obj):
            return False
        try:
            return os.stat(obj).st_mtime_ns <= os.lstat(p).st_mtime_ns
        except OSError:
            return False

    if not md5.endswith(".dir"):
        return links_to(path, md5)
    if os.path.islink(path) or not os.path.isdir(path):
        return False
    from tide.core import manifest

    try:
        entries = manifest.parse(repo.cache.read_bytes(md5), where=f"manifest {md5}")
    except (OSError, TideError):
        return False
    found = {os.path.relpath(os.path.join(d, f), path).replace(os.sep, "/")
             for d, _, fs in os.walk(path) for f in fs}
    return found == {e.relpath for e in entries} and all(
        links_to(os.path.join(path, e.relpath), e.md5) for e in entries)


def _all_cached(repo: Repo, md5: str) -> bool:
    if not repo.cache.exists(md5):
        return False
    if not md5.endswith(".dir"):
        return True
    from tide.core import manifest

    try:
        entries = manifest.parse(repo.cache.read_bytes(md5), where=f"manifest {md5}")
    except (OSError, TideError):
        return False
    return not repo.cache.missing(e.md5 for e in entries)


def _no_hash(repo: Repo, t: Tracked, total: CheckoutResult) -> None:
    """As dvc: an output without a recorded hash fails the checkout; a file in its place (not in
    the cache) is deleted, which ``checkout`` allows only with ``force``."""
    out = t.out
    rel = repo.rel(out.abspath)
    if os.path.lexists(out.abspath):
        remove(out.abspath)
    total.failed.append(rel)
    total.unhashed.append(rel)
    fix = _hash_fix(repo, t)
    if fix not in total.fixes:
        total.fixes.append(fix)


def _hash_fix(repo: Repo, t: Tracked) -> str:
    """What records the hash of an output that has none: a stage's ``repro``, an import's ``update``
    (``import --no-download``/``--no-exec``), a plain .dvc file's ``commit``."""
    if t.stage is not None:
        return "run 'tide repro'"
    from tide.workspace import pointers

    try:
        deps = pointers.load(t.source, repo.root).top.get("deps")
    except (OSError, TideError):
        deps = None
    if deps:
        return f"run 'tide update {repo.rel(t.source)}'"
    return f"run 'tide commit {repo.rel(t.source)}'"


def missing_error(result: CheckoutResult) -> MissingError:
    names = ", ".join(f"'{p}'" for p in result.failed[:5])
    more = f" and {len(result.failed) - 5} more" if len(result.failed) > 5 else ""
    if result.unhashed and len(result.unhashed) == len(result.failed):
        stages = [f == "run 'tide repro'" for f in result.fixes]
        where = "dvc.lock" if all(stages) else "its .dvc file or dvc.lock" if any(stages) else "its .dvc file"
        fix = "; ".join(result.fixes) or "run 'tide repro'"
        return MissingError(f"checkout failed for {names}{more}: no hash recorded in {where} ({fix})")
    return MissingError(f"checkout failed for {names}{more}: data is missing from the cache (try 'tide pull')")
