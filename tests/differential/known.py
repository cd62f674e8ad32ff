"""Known divergences: findings being fixed (KNOWN, one predicate per finding, each matching only that
finding's shape; an entry goes once its fix is merged) and deliberate differences (DELIBERATE, each listed in
docs/versioning.md with its reason). What no entry explains is NEW and is shrunk and reported.

A divergence is a set of entries: ("exit", line, dvc rc, tide rc), ("json", line, dvc, tide) and
("state", key, dvc, tide). Most predicates explain single entries (several findings can show in one step:
a hardlinked uncached metric and a run-cache entry from the same ``repro``). A predicate that recognises
the *op* itself going differently (``whole_step``: an exit status on add/move/checkout/pull) explains every
entry of that step, since the state and the reports then differ as a consequence.
"""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Known:
    name: str
    stateful: bool          # False: only a read-only report differs, the sequence goes on
    whole_step: bool        # True: ``match(div, ctx)`` on the step; False: ``match(entry, div, ctx)`` per entry
    match: Callable


@dataclass
class Ctx:
    pair: object            # engine.Pair
    before: object          # ops.View of the dvc side before the step

    @property
    def repo(self) -> Path:
        return self.pair.a.root / "repo"

    @property
    def cache_type(self) -> str:
        return self.pair.cache_type

    def git_tracked(self, path: str) -> bool:
        p = subprocess.run(["git", "ls-files", "--error-unmatch", "--", path], cwd=self.repo,
                           capture_output=True)
        return p.returncode == 0


def _op_exits(div) -> list:
    """The exit-status differences of the op's own tool lines (not of the reports run after it, in the
    repository or in a clone: ``(cd ../c1 && $T status --json)``, seed 66001 sequence 387)."""
    return [e for e in div.exits if not e[0].rstrip(")").endswith(("status --json", "diff --json"))]


def _exit_only(div, dvc_fails: bool) -> bool:
    """The op's own tool lines differ only as: dvc fails and tide succeeds (dvc_fails), or the reverse."""
    op_exits = _op_exits(div)
    return bool(op_exits) and all((a != 0) == dvc_fails and (b != 0) != dvc_fails for _, a, b in op_exits)


# --- deliberate divergences ------------------------------------------------------------------------
# Each is listed in docs/versioning.md ("Deliberate differences from dvc") with its reason.
def n7_pull_leaves_no_dangling_link(div, ctx: Ctx) -> bool:
    """N7: ``pull`` (cache.type symlink) when objects were never pushed: dvc exits 0 and leaves a symlink
    into a cache that lacks the object; tide fails, naming the missing objects (safer: no broken file).
    The same for ``checkout --force`` of an ``add --no-commit`` output changed since: dvc replaces the
    user's data by a dangling link (seed 61801, 470)."""
    if ctx.cache_type != "symlink" or div.op.kind not in LINKING_OPS or not _exit_only(div, dvc_fails=False):
        return False
    roots = [ctx.pair.a.root / c for c in ["repo", *ctx.pair.a.clones]]
    return any(p.is_symlink() and not p.exists() for r in roots if r.is_dir() for p in r.rglob("*"))


LINKING_OPS = ("pull", "clone", "checkout", "git_checkout")


def n7_no_dangling_link_when_both_fail(entry, div, ctx: Ctx) -> bool:
    """N7 when both tools fail the ``pull`` (another output cannot be checked out either, e.g. a stage that
    never ran): dvc still leaves its dangling symlink into the cache for an object never pushed; tide
    writes no link (seed 4242, sequence 23). N26: the same for ``fetch`` then ``checkout`` in a clone
    (seed 20260527, sequence 5), or any checkout of an object the cache lacks; where the workspace had a
    file (``add --no-commit`` then changed), tide keeps it and dvc replaces it by its dangling link (seed
    61801, 470)."""
    kind, key, a, b = entry
    if (ctx.cache_type != "symlink" or div.op.kind not in LINKING_OPS or kind != "state"
            or not (b is None or str(b).startswith("file ")) or not str(a).startswith("link") or "ws:" not in key):
        return False
    where, _, rel = key.partition("ws:")
    p = ctx.pair.a.root / (where.rstrip("/") or "repo") / rel
    return p.is_symlink() and not p.exists()


def n7_reports_fail_on_the_dangling_link(entry, div, ctx: Ctx) -> bool:
    """N7's consequence: where dvc left a dangling symlink (a failed ``pull``/``fetch``+``checkout``, or a
    ``gc`` that removed the object of an output whose .dvc file was deleted by hand), its next
    ``status``/``diff --json`` or ``checkout`` there fails (exit 255); tide, having written no link or
    removed its own, goes on (seed 61701 sequence 502, 62001 sequence 1894)."""
    kind, line, a, b = entry
    if ctx.cache_type != "symlink" or kind != "exit" or not (a != 0 and b == 0):
        return False
    words = line.rstrip(")").split()
    checkout = "checkout" in words and "git" not in words  # dvc's checkout fails on it too: "unexpected
    # error - No such file" after a gc removed the object of an output untracked by hand (seed 62001, 1894)
    if not checkout and not line.endswith(("status --json)", "status --json", "diff --json)", "diff --json")):
        return False
    cwd = line.split("cd ../", 1)[1].split(" ", 1)[0] if "cd ../" in line else "repo"
    root = ctx.pair.a.root / cwd
    if not root.is_dir():
        return False
    dangling = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_symlink() and not p.exists()]
    if checkout:  # only a link nothing tracks any more: dvc removes it as stale and trips over it
        outs = _dvc_outs(root)
        dangling = [d for d in dangling if d not in outs]
    return bool(dangling)


def n12_checkout_keeps_an_untracked_output(entry, div, ctx: Ctx) -> bool:
    """N12: ``checkout`` (also after a ``git checkout``, and ``pull``, which checks out) after ``remove x.dvc``
    or ``remove dvc.yaml:stage`` (without --outs): dvc deletes x, which nothing tracks any more; tide keeps
    the user's copy (the data stays where the user left it: ``remove`` drops tide's link record of it,
    seed 61601 sequences 79 and 127; re-added with ``--no-commit``, which records no link either, then
    untracked by a ``git checkout``: seed 61701 sequence 281). Not N12 when dvc still tracks the path (or a
    directory above it) after the step, or when tide holds a link record of it: tide then wrote it and
    should have removed it as dvc did (issue 27's finding 5)."""
    kind, key, a, b = entry
    if (div.op.kind not in ("checkout", "git_checkout", "pull") or kind != "state" or not key.startswith("ws:")
            or a is not None or b is None or getattr(ctx.pair, "mixed", False)):  # mixed: N27
        return False
    path = key[3:]
    parts = path.split("/")
    above = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    outs = _dvc_outs(ctx.repo)
    links = _tide_links(ctx)
    if path.endswith(".dvc") or any(p in outs for p in above):
        return False
    # tide wrote it (a link record) but keeps it where its content is in no cache any more (a gc removed the
    # object after its .dvc file was deleted by hand): removing it would lose the only copy (seed 62001, 161)
    return not any(p in links for p in above) or not _in_tide_cache(ctx, path)


def _in_tide_cache(ctx: Ctx, rel: str) -> bool:
    """Whether tide's cache holds the content of tide's workspace file ``rel``."""
    repo = ctx.pair.b.root / "repo"
    oid = _md5_of(repo / rel) if (repo / rel).is_file() else None
    return oid is not None and (repo / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]).is_file()


def _tide_links(ctx: Ctx) -> set[str]:
    """Paths tide's state database holds a link record of (outputs it wrote and still owns)."""
    import sqlite3

    db = ctx.pair.b.root / "repo" / ".dvc" / "tmp" / "tide" / "state.db"
    if not db.is_file():
        return set()
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return {r[0] for r in con.execute("SELECT path FROM links")}
        finally:
            con.close()
    except sqlite3.Error:
        return set()


def _without_paths(obj, paths: set[str]):
    """``obj`` (a ``status``/``diff --json`` report) without what names ``paths`` or a path under one:
    dict keys, ``{"path": ...}`` entries and strings; containers left empty are dropped too."""
    def named(p) -> bool:
        p = str(p).rstrip("/")
        return any(p == q or p.startswith(q + "/") for q in paths)

    if isinstance(obj, dict):
        out = {k: _without_paths(v, paths) for k, v in obj.items() if not named(k)}
        return {k: v for k, v in out.items() if v not in ({}, [])}
    if isinstance(obj, list):
        out = [_without_paths(v, paths) for v in obj
               if not (isinstance(v, str) and named(v)) and not (isinstance(v, dict) and named(v.get("path", "\0")))]
        return [v for v in out if v not in ({}, [])]
    return obj


def _report_differs_only_at(entry, paths: set[str]) -> bool:
    kind, line, a, b = entry
    return (kind == "json" and bool(paths) and ("status --json" in line or "diff --json" in line)
            and " -c" not in line and _without_paths(a, paths) == _without_paths(b, paths))


def n12_reports_of_the_kept_output(entry, div, ctx: Ctx) -> bool:
    """N12's consequence in the same step's ``status --json``/``diff --json``: the file tide kept is
    reported as it is (a stage's dependency ``modified``) where dvc, having deleted it, says ``deleted``;
    the reports agree once the kept paths are left out (N49, seed 61201 sequence 295)."""
    kept = {e[1][3:] for e in entries(div) if e[0] == "state" and n12_checkout_keeps_an_untracked_output(e, div, ctx)}
    return _report_differs_only_at(entry, kept)


def _outs_not_cached(ctx: Ctx) -> set[str]:
    """Outputs (dvc's side) whose recorded object (a file's, or a directory's ``.dir`` manifest) is not in
    dvc's cache."""
    cache = ctx.repo / ".dvc" / "cache" / "files" / "md5"
    return {p for p, md5 in _dvc_outs(ctx.repo).items()
            if len(md5) >= 32 and not (cache / md5[:2] / md5[2:]).exists()}


def n46_checkout_keeps_an_output_not_in_the_cache(entry, div, ctx: Ctx) -> bool:
    """N46: ``checkout``/``pull`` of an output whose object (a directory's ``.dir`` manifest, or a file's)
    is not in the cache (``add --no-commit``): both fail; dvc deletes the workspace copy (even data found
    nowhere else, with ``--force``: seed 61701 sequence 166), tide keeps it. The same step's
    ``status``/``diff --json`` then differ only there."""
    if div.op.kind not in ("checkout", "git_checkout", "pull") or div.exits:
        return False
    dirs = _outs_not_cached(ctx)
    kind, key, a, b = entry
    if kind == "state":
        p = key[3:] if key.startswith("ws:") else ""
        return (a is None and b is not None and bool(p)
                and any(p == d or p.startswith(d + "/") for d in dirs))
    return _report_differs_only_at(entry, dirs)


def n6_reflink_only_repro_records_the_stage(div, ctx: Ctx) -> bool:
    """N6: ``cache.type reflink`` alone on a file system without reflinks: dvc's ``repro`` fails after the
    command ran (no dvc.lock, exit 255); tide records the stage (its data correct, the next checkout fails
    naming the fix). Where tide's ``repro`` fails too, later (a stage after the one dvc stopped at: a missing
    dependency, a failing command; seed 66401 sequences 1664 and 1946, dvc failing at "Verifying data sources"
    of a ``.dvc`` stage), what differs must be what tide's further progress wrote: ``dvc.lock``, ``.gitignore``
    lines, intact cache objects and workspace files only tide has; the reports then differ as a consequence."""
    if ctx.cache_type != "reflink" or div.op.kind != "repro":
        return False
    if _exit_only(div, dvc_fails=True):
        return True
    tool = [rc for ln, rc in zip(div.op.lines, div.rcs, strict=False) if ln.argv]
    if not tool or not all(a != 0 and b != 0 for a, b in tool) or _op_exits(div) or not div.state:
        return False
    return all(_tide_went_further(key, a, b) for key, a, b in div.state)


def _tide_went_further(key: str, a, b) -> bool:
    """N6: a state entry that tide's ``repro``, going past the link failure that stopped dvc, can have made."""
    if key in ("ws:dvc.lock", "ws:.gitignore") or (key.startswith("ws:") and key.endswith("/.gitignore")):
        return True
    if key.startswith("cache:"):
        return a is None and "CORRUPT" not in str(b)
    return key.startswith("ws:") and a is None and b is not None


def n19_reflink_only_move_completes(div, ctx: Ctx) -> bool:
    """N19: ``move`` with ``cache.type reflink`` alone on a file system without reflinks: dvc moves the
    workspace file, then fails linking it (exit 1), leaving the old ``.dvc`` file naming a path that no
    longer exists and the moved data untracked; tide completes the move (the object is in the cache, no
    link is needed), the next checkout fails naming the fix as in N6."""
    return ctx.cache_type == "reflink" and div.op.kind == "move" and _exit_only(div, dvc_fails=True)


def _more_links(a: str | None, b: str | None) -> tuple[str, int] | None:
    """(md5, how many more) for a workspace file whose two states differ only in a higher link count on
    side ``a``; else None."""
    if not a or not b or not a.startswith("file ") or not b.startswith("file "):
        return None
    fa, fb = a.split(" "), b.split(" ")
    if (len(fa) != len(fb) or len(fa) < 5 or fa[:2] + fa[3:] != fb[:2] + fb[3:]
            or not fa[2].startswith("n") or not fb[2].startswith("n") or int(fa[2][1:]) <= int(fb[2][1:])):
        return None
    return fa[-1], int(fa[2][1:]) - int(fb[2][1:])


def n15_add_of_several_targets_is_all_or_nothing(div, ctx: Ctx) -> bool:
    """N15: ``add A B`` (with or without ``--no-commit``) where B cannot be added: both fail, dvc has tracked
    A first; tide checks every target before it writes anything, so nothing changes. What differs is only
    what tracking A wrote: the ``.dvc`` files dvc wrote or rewrote (A's), ``.gitignore`` lines, cache objects,
    A's files linked into the cache (same content), and the reports naming A: ``status --json`` entries of
    those ``.dvc`` files, ``diff --json`` paths under A as ``added``/``modified`` (seed 61201, 218 and 250).
    N62: ``commit`` likewise (tide checks every output first; dvc commits file by file, a dvc.yaml's stages
    together, in directory-listing order): dvc's objects and run-cache entries of the stages it saved before
    the failing one, and the ``.dvc`` files it rewrote (seed 61701 sequences 194 and 685)."""
    tool = [rc for ln, rc in zip(div.op.lines, div.rcs, strict=False) if ln.argv]
    if div.op.kind not in ("add", "commit") or not tool or not all(a != 0 and b != 0 for a, b in tool) or div.exits:
        return False
    commit = div.op.kind == "commit"
    ptrs = {k[3:] for k, a, b in div.state if k.startswith("ws:") and k.endswith(".dvc") and a is not None}
    # an `add --no-commit` target's .dvc file, the same on both sides (seed 61801, 1305)
    named = (posixpath.normpath(t) + ".dvc" for t in (div.op.info or {}).get("targets", ()))
    ptrs |= {p for p in named if (ctx.repo / p).is_file()}
    if not ptrs and not commit:
        return False
    outs = [p[:-4] for p in ptrs] + (list(_dvc_outs(ctx.repo)) if commit else [])

    def under(p: str) -> bool:
        p = p.rstrip("/")
        return any(p == o or p.startswith(o + "/") for o in outs)

    # with a hardlink cache, a file elsewhere whose object A's files now link too has more links in dvc's
    # repository (seed 69101 sequence 1499): one more link for each of A's files of its md5
    from collections import Counter

    linked = Counter(a.split(" ")[-1] for k, a, b in div.state
                     if k.startswith("ws:") and under(k[3:]) and a is not None and a.startswith("file "))
    for key, a, b in div.state:
        if a is None:
            return False
        if key.startswith("cache:files/") and b is None or commit and key.startswith("cache:runs/") and b is None:
            continue
        if key.startswith("ws:") and (key[3:] in ptrs or key.endswith(".gitignore")):
            continue
        if key.startswith("ws:") and (more := _more_links(a, b)) and more[1] == linked[more[0]]:
            continue
        if not (key.startswith("ws:") and under(key[3:]) and b is not None and _same_data(a, b)):
            return False
    # the .dvc files (unchanged) of outputs whose object only dvc wrote, e.g. an empty directory's manifest
    # after `add --no-commit` (tide: "not in cache"; seed 63101, 25), or, for add, the object of an `add
    # --no-commit` output that A has the content of (seed 67001, 1403)
    stored = {k[len("cache:files/md5/"):].replace("/", "", 1) for k, a, b in div.state
              if k.startswith("cache:files/md5/") and a is not None and b is None}
    shown = ptrs | {o + ".dvc" for o, md5 in _dvc_outs(ctx.repo).items()
                    if md5 in stored and (ctx.repo / (o + ".dvc")).is_file()}
    for line, a, b in div.outputs:
        if not isinstance(a, dict) or not isinstance(b, dict):
            return False
        if line.endswith("status --json"):  # only the entries of the .dvc files dvc wrote or rewrote differ
            if not {k for k in set(a) | set(b) if a.get(k) != b.get(k)} <= shown:  # (seed 61801, 389: rewrote)
                return False
        elif line.endswith("diff --json"):
            # tide's "not in cache" of an output whose object only dvc stored (seed 66401, 189)
            unstored = {o[:-4] for o in shown}
            a = _unpair_renames(a, under)  # dvc's A paired with a deleted file of its content (67001, 547)
            # an A that git's HEAD tracks and the workspace no longer did (`remove --outs`): dvc tracked it
            # again (modified), tide's diff still says deleted (seed 67001, 1908)
            redone = {p for p in (e.get("path") for e in a.get("modified") or []) if isinstance(p, str) and under(p)}
            for kind in set(a) | set(b):
                xa = [e.get("path") for e in a.get(kind) or []]
                xb = [e.get("path") for e in b.get(kind) or []]
                extra = [p for p in xa if p not in xb]
                named = all(isinstance(p, str) and under(p) for p in extra)
                only_b = [p for p in xb if p not in xa]
                if any(not (kind == "not in cache" and isinstance(p, str) and p.rstrip("/") in unstored
                            or kind == "deleted" and p in redone) for p in only_b) \
                        or extra and (kind not in ("added", "modified") or not named):
                    return False
        else:
            return False
    return True


def _unpair_renames(report: dict, under: Callable[[str], bool]) -> dict:
    """A ``diff --json`` report with each rename whose new path ``under`` accepts (an output only dvc
    tracked) turned back into the deletion of its old path: dvc pairs an added output with a deleted one of
    the same content; without the added one, the other tool reports that deletion alone."""
    renamed = report.get("renamed") or []
    paired = [e for e in renamed if isinstance(e, dict) and isinstance(e.get("path"), dict)
              and isinstance(e["path"].get("new"), str) and under(e["path"]["new"])]
    if not paired:
        return report
    out = dict(report)
    out["renamed"] = [e for e in renamed if e not in paired]
    out["deleted"] = sorted([*(report.get("deleted") or []), *({"path": e["path"].get("old")} for e in paired)],
                            key=lambda e: str(e.get("path")))
    return out


def n16_move_caches_no_extra_tree(div, ctx: Ctx) -> bool:
    """N16: ``move`` of an output whose workspace copy changed since it was recorded: dvc also writes the data
    as it is now into its cache (a directory's files and manifest, or the file), objects no ``.dvc`` file or
    ``dvc.lock`` names, and links the workspace to them (hardlink/symlink caches: same content, another
    inode, mode or a link); tide moves the output as recorded (seed 61201, 169 and 254; seed 61301, 12: a
    symlinked file written through its link)."""
    if div.op.kind != "move" or div.exits or div.outputs or not div.state:
        return False
    outs = _dvc_outs(ctx.repo)
    named = set(outs.values())
    extra = relinked = False
    for key, a, b in div.state:
        if key.startswith("cache:files/") and a is not None and b is None:
            oid = key.removeprefix("cache:files/md5/").replace("/", "")
            if oid in named:
                return False
            extra = True
        elif not (key.startswith("ws:") and a is not None and b is not None
                  and (_same_data(a, b) or _written_through(a, b, ctx.pair.b.root / "repo" / key[3:]))):
            return False
        elif key[3:] in outs and _md5_of(ctx.pair.b.root / "repo" / key[3:]) not in (None, outs[key[3:]]):
            relinked = True  # the moved file's content is not what is recorded: dvc linked it to an object
            # it already had (another output's, seed 62001 sequence 753), tide left the file as it is
    return extra or relinked


def _md5_of(path: Path) -> str | None:
    import hashlib

    try:
        return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    except OSError:
        return None


def _written_through(a: str, b: str, tide_path: Path) -> bool:
    """cache.type symlink, the file written through its link (the object changed in place): dvc links it to
    the object of its content now, tide's link still names the object it was recorded as; same content."""
    import hashlib

    if not (a.startswith("link -> ") and b.startswith("link -> ")):
        return False
    try:
        digest = hashlib.md5(tide_path.read_bytes(), usedforsecurity=False).hexdigest()
    except OSError:
        return False
    return a.replace("/", "").endswith(digest)


def _same_data(a: str, b: str) -> bool:
    """Snapshot entries of one path: dvc's linked into the cache (a hard link or a symlink to the object), tide's
    the file as it was; the same content."""
    digest = b.rsplit(" md5=", 1)[-1] if b.startswith("file ") else ""
    return bool(digest) and (a.startswith("file ") and a.endswith(f" md5={digest}")
                             or a.startswith("link -> ") and a.replace("/", "").endswith(digest))


def _yaml_files(where: Path, *patterns: str):
    """``(file, its directory relative to where, parsed document)`` of the files matching ``patterns`` under ``where``,
    outside ``.dvc/``; a file that cannot be read or parsed is left out."""
    for pattern in patterns:
        for f in where.rglob(pattern):
            doc = None if ".dvc/" in f.as_posix()[len(where.as_posix()):] else _yaml_doc(f)
            if doc is not None:
                yield f, f.parent.relative_to(where).as_posix(), doc


def _yaml_doc(path: Path):
    """The parsed YAML of ``path`` ({} when empty), or None when it cannot be read or parsed."""
    import yaml

    try:
        return yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None


def _dvc_outs(where: Path) -> dict[str, str]:
    """{output path: md5} of the .dvc files and dvc.lock files under ``where`` (a repository or clone)."""
    found: dict[str, str] = {}
    for f, base, doc in _yaml_files(where, "*.dvc", "dvc.lock"):
        outs = list(doc.get("outs") or []) if f.name != "dvc.lock" else [
            o for st in (doc.get("stages") or {}).values() for o in (st.get("outs") or [])]
        for o in outs:
            if isinstance(o, dict) and isinstance(o.get("path"), str):
                rel = o["path"] if base == "." else f"{base}/{o['path']}"
                found[rel] = str(o.get("md5"))
    return found


def n28_cloud_status_names_a_missing_directory(entry, div, ctx: Ctx) -> bool:
    """N28: ``status -c --json`` for a directory output whose ``.dir`` manifest is neither in the cache nor
    on the remote: tide says ``missing`` (as for a file), dvc cannot list it, warns and leaves it out."""
    kind, line, a, b = entry
    if kind != "json" or "status -c --json" not in line or not isinstance(a, dict) or not isinstance(b, dict):
        return False
    extra = {k: v for k, v in b.items() if k not in a}
    if not extra or any(b.get(k) != v for k, v in a.items()) or set(extra.values()) != {"missing"}:
        return False
    cwd = line.split("cd ../", 1)[1].split(" ", 1)[0] if "cd ../" in line else "repo"
    outs = _dvc_outs(ctx.pair.a.root / cwd)
    return all(outs.get(k, "").endswith(".dir") for k in extra)


def n27_each_tool_removes_only_what_it_wrote(entry, div, ctx: Ctx) -> bool:
    """N27 (mixed mode): after ``git checkout`` to a commit that no longer tracks an output the *other*
    tool wrote, ``checkout`` keeps it: tide does not read dvc's link database (under dvc's site cache dir),
    dvc does not read tide's; the dvc-only side wrote and deleted it itself."""
    kind, key, a, b = entry
    return (getattr(ctx.pair, "mixed", False) and div.op.kind in ("checkout", "git_checkout", "pull")
            and kind == "state" and key.startswith("ws:") and a is None and b is not None)


def n27_reports_of_the_kept_output(entry, div, ctx: Ctx) -> bool:
    """N27's consequence in the same step's ``status --json``/``diff --json`` (both tools' reports, in the
    mixed repository): the output tide kept is reported as it is (a stage's dependency ``modified``) where
    the dvc-only side, having deleted it, says ``deleted``; the reports agree once the kept paths are left
    out (seed 61801 sequence 1228)."""
    kept = {e[1][3:] for e in entries(div) if e[0] == "state" and n27_each_tool_removes_only_what_it_wrote(e, div, ctx)}
    return _report_differs_only_at(entry, kept)


def n27_links_to_the_kept_output(entry, div, ctx: Ctx) -> bool:
    """N27's consequence on link counts (hardlink cache; seed 69001 sequence 1263): the output N27 kept is
    a hard link to the cache object of an output of the same content, whose link count is then higher by
    one for each such kept output on the side that kept them; nothing else about the file differs."""
    kind, key, a, b = entry
    more = _more_links(b, a) if kind == "state" and key.startswith("ws:") else None  # the mixed side has more
    if more is None:
        return False
    kept = [e[3] for e in entries(div) if e[0] == "state" and n27_each_tool_removes_only_what_it_wrote(e, div, ctx)]
    same = sum(1 for k in kept if k.startswith("file ") and k.split(" ")[-1] == more[0])
    return same > 0 and more[1] == same


def n31_add_keeps_the_files_mode(entry, div, ctx: Ctx) -> bool:
    """N31: ``add`` (or ``commit``/``repro`` recording an output, ``remove`` unprotecting one: seed 61801,
    1174; ``move`` re-saving the moved file: seed 67001, 63) of a file with a copying cache leaves the
    workspace file's mode as it was (755); dvc replaces it by a copy whose mode comes from the umask (644,
    744 if executable). Content the same."""
    kind, key, a, b = entry
    if (div.op.kind not in ("add", "commit", "repro", "remove", "move") or kind != "state"
            or not key.startswith("ws:")
            or not a or not b
            or not a.startswith("file ") or not b.startswith("file ")):
        return False
    (_, ma, *ra), (_, mb, *rb) = a.split(" "), b.split(" ")
    if div.op.kind == "remove":  # dvc's unprotect copies the file: its mode from the umask, u+x lost too
        return ra == rb and ma == "644" and ma != mb
    if ctx.cache_type == "hardlink" and ra == rb and ra[:2] == ["n1", "0B"] and ma == "644" and ma != mb:
        # an empty file is copied, never hard-linked (N40): dvc's fresh copy loses the executable bit too
        return True  # (seed 61701 sequence 84)
    return ra == rb and ma in ("644", "744") and ma != mb and (int(ma, 8) & 0o100) == (int(mb, 8) & 0o100)


def _cwd_of(line: str) -> str:
    return line.split("cd ../", 1)[1].split(" ", 1)[0] if "cd ../" in line else "repo"


def n52_cloud_status_names_one_of_the_same_content_outputs(entry, div, ctx: Ctx) -> bool:
    """N52: ``status -c --json`` with several outputs of the same content (one object): both report the
    object once, under the name of one of them; dvc picks by directory-listing order (its walk is not
    sorted), tide the first in path order (seed 61601 sequence 115)."""
    kind, line, a, b = entry
    if kind != "json" or "status -c --json" not in line or not isinstance(a, dict) or not isinstance(b, dict):
        return False
    where = ctx.pair.a.root / _cwd_of(line)
    outs = _dvc_outs(where)
    # N28 in the same report (seed 66101 sequence 888): a directory output whose manifest is nowhere, which
    # only tide names ("missing"), is left out before the objects are compared
    b = {k: v for k, v in b.items() if k in a or v != "missing" or not _manifest_nowhere(where, outs.get(k, ""))}
    oids = {k: _object_named(where, outs, k) for k in set(a) | set(b)}
    if any(oids[k] is None for k in set(a) ^ set(b)):
        return False
    return sorted((oids[k] or k, v) for k, v in a.items()) == sorted((oids[k] or k, v) for k, v in b.items())


def _manifest_nowhere(where: Path, oid: str) -> bool:
    """Whether ``oid`` is a directory's manifest that neither ``where``'s cache nor the sequence's remote
    (``../remote``) holds (nothing could list the directory)."""
    rel = Path("files/md5") / oid[:2] / oid[2:]
    return oid.endswith(".dir") and not (where / ".dvc/cache" / rel).exists() and not (
        where.parent / "remote" / rel).exists()


def _object_named(where: Path, outs: dict[str, str], name: str) -> str | None:
    """The md5 ``status -c`` names ``name`` by: an output's, or (seed 61801 sequence 187) a file's inside a
    directory output, read from that directory's manifest in the cache."""
    if name in outs:
        return outs[name]
    for top, oid in outs.items():
        if oid.endswith(".dir") and name.startswith(top + "/"):
            try:
                listing = json.loads((where / ".dvc/cache/files/md5" / oid[:2] / oid[2:]).read_text())
            except (OSError, ValueError):
                return None
            rel = name[len(top) + 1:]
            return next((e.get("md5") for e in listing if isinstance(e, dict) and e.get("relpath") == rel), None)
    return None


def n53_reflink_only_checkout_copies_after_a_failure(entry, div, ctx: Ctx) -> bool:
    """N53: ``cache.type reflink`` alone on a file system without reflinks: after the first file it fails to
    link, dvc copies the others (it empties its own list of link types, dvc-objects' ``_try_links``, and
    falls back to its default ``reflink, copy``); tide fails each alike and names the fix (N6). Only dvc then
    has those files; its ``status``/``diff`` report them (seed 61601 sequence 113, 61701 sequence 195).
    N67: the reverse where the workspace held a file of a tracked output (``checkout --force`` over a changed
    one): both fail, dvc deleted it before its link failed (the changes lost, nothing in their place), tide,
    writing each file to a temporary name then renaming it, kept it (seed 61801, 47). In ``diff --json`` a kept
    directory's files that tide pairs with deleted ones of the same content as renames are, in dvc's report
    (where the directory is gone), those deletions alone (seed 68001, 1268)."""
    if ctx.cache_type != "reflink" or div.op.kind not in LINKING_OPS:
        return False
    # a clone's files too: ``pull`` in a fresh clone copies after its first failure alike (seed 66401, 1953)
    copied = {k for k, a, b in div.state if _ws_path(k) is not None and b is None and str(a).startswith("file ")}
    copied |= {f"ws:{p}" for p in _kept_by_tide_only(div, ctx)}
    kind, key, a, b = entry
    if kind == "state":
        return key in copied
    if kind == "json" and " -c" not in key and ("status --json" in key or "diff --json" in key):
        paths = {_ws_path(k) for k in copied}
        if not paths:
            return False
        if "diff --json" in key and isinstance(a, dict) and isinstance(b, dict):
            def under(p: str) -> bool:
                return any(p.rstrip("/") == q or p.startswith(q + "/") for q in paths)

            a, b = _unpair_renames(a, under), _unpair_renames(b, under)
        return _without_paths(a, paths) == _without_paths(b, paths)
    return False


def n78_commit_writes_gitignore_lines_in_path_order(entry, div, ctx: Ctx) -> bool:
    """N78: ``commit`` recording several ``.dvc`` files whose ``.gitignore`` entries were missing writes them
    back in path order; dvc in directory-listing order (its index walks directories unsorted): the same lines
    in another order (seed 67001 sequence 165's fix)."""
    kind, key, a, b = entry
    path = _ws_path(key) if kind == "state" else None
    if div.op.kind != "commit" or not a or not b or path is None or posixpath.basename(path) != ".gitignore":
        return False
    where = key[: key.index("ws:")].rstrip("/") or "repo"
    try:
        x = (ctx.pair.a.root / where / path).read_bytes()
        y = (ctx.pair.b.root / where / path).read_bytes()
    except OSError:
        return False
    return x != y and sorted(x.splitlines()) == sorted(y.splitlines())


def _ws_path(key: str) -> str | None:
    """The path of a workspace entry of the repository (``ws:P``) or of a clone (``c1/ws:P``), else None."""
    m = re.fullmatch(r"(?:c\d+/)?ws:(.*)", key, re.S)
    return m.group(1) if m else None


def _kept_by_tide_only(div, ctx: Ctx) -> set[str]:
    """N67: files of outputs dvc still tracks that only tide has after a step where a tool line failed in
    both tools and no tool line's exit status differs (a failed link: dvc had deleted the file first)."""
    tool = [rc for ln, rc in zip(div.op.lines, div.rcs, strict=False) if ln.argv]
    if not any(a != 0 and b != 0 for a, b in tool) or _op_exits(div):
        return set()
    outs = _dvc_outs(ctx.repo)
    kept = {k[3:] for k, a, b in div.state if k.startswith("ws:") and a is None and str(b).startswith("file ")}
    kept = {p for p in kept if any(p == o or p.startswith(o + "/") for o in outs)}
    # the directories holding a kept file of a directory output, which dvc removed with it (seed 63101, 22)
    dirs = {k[3:] for k, a, b in div.state if k.startswith("ws:") and a is None and str(b).startswith("dir ")}
    return kept | {d for d in dirs if any(p.startswith(d + "/") for p in kept)
                   and any(d == o or d.startswith(o + "/") for o in outs)}


def corrupt_objects(root: Path) -> set[str]:
    """Oids of the objects in ``root``'s cache whose content no longer matches their name (written through a
    link: root ignores their read-only mode)."""
    import hashlib

    cache = root / ".dvc" / "cache" / "files" / "md5"
    bad = set()
    for p in cache.glob("??/*") if cache.is_dir() else ():
        oid = p.parent.name + p.name
        try:
            digest = hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest()
        except OSError:
            continue
        if digest != oid.removesuffix(".dir"):
            bad.add(oid)
    return bad


def n54_after_an_object_was_corrupted(div, ctx: Ctx) -> bool:
    """N54: once a cache object on dvc's side no longer matches its name (rewritten through a hard or
    symbolic link by root, who ignores its read-only mode), each tool goes on by its own rules: the tool
    that linked an output trusts its state database (unchanged), the other hashes the bytes (modified);
    dvc's ``commit`` refuses, tide's stores the content again (N61); links and pulls differ. Any divergence
    from then on is this one and the sequence stops (seed 61601: 128; 61701: 336, 997; 61801: 42, 903,
    1599; 63501: 25, where dvc's status deleted the object in the step that diverged). Corrupt caches are the
    crash and fuzz parts' subject."""
    if getattr(ctx.pair, "corrupted", False):  # seen after an earlier step's op (engine.Pair.step)
        return True
    roots = [ctx.pair.a.root / c for c in ["repo", *getattr(ctx.pair.a, "clones", [])]]
    return any(corrupt_objects(r) for r in roots if r.is_dir())


def n58_checkout_removes_the_emptied_directories(entry, div, ctx: Ctx) -> bool:
    """N58: a stale output removed by ``checkout`` (after ``git checkout``) whose links dvc recorded file by
    file (``add D/f`` of a file inside a tracked directory D re-adds D and records D/f): dvc removes the
    files and leaves D's directories empty; tide removes D (seed 61701 sequence 317). Where dvc's record of
    D's other files was dropped by that ``add``, it leaves those files too: each an untracked copy of an
    object its cache holds, so tide's removal loses nothing (seed 64001 sequence 126)."""
    kind, key, a, b = entry
    if div.op.kind not in LINKING_OPS or kind != "state" or not key.startswith("ws:") or b is not None:
        return False
    rel = key[3:]
    p = ctx.repo / rel
    parts = rel.split("/")
    outs = _dvc_outs(ctx.repo)
    if any("/".join(parts[:i]) in outs for i in range(1, len(parts) + 1)):
        return False  # dvc still tracks it
    if str(a).startswith("dir ") and p.is_dir() and not p.is_symlink():
        left = [q for q in p.rglob("*") if q.is_file() or q.is_symlink()]
    elif str(a).startswith("file ") and p.is_file() and not p.is_symlink():
        left = [p]
    else:
        return False
    cache = ctx.repo / ".dvc" / "cache" / "files" / "md5"
    return all(not q.is_symlink() and (m := _md5_of(q)) is not None and (cache / m[:2] / m[2:]).is_file()
               for q in left)


def n59_diff_lists_no_entries_of_a_collected_manifest(entry, div, ctx: Ctx) -> bool:
    """N59 (mixed): ``diff --json`` against a commit whose directory manifest ``gc`` removed from the cache:
    both report the directory ``not in cache``; dvc also lists its files where its own data index (under
    ``.dvc/tmp/index``) still remembers the tree, which tide neither reads nor writes (seed 61701 sequence
    868)."""
    kind, line, a, b = entry
    if kind != "json" or "diff --json" not in line or not isinstance(a, dict) or not isinstance(b, dict):
        return False
    gone = [e.get("path") for e in b.get("not in cache") or [] if isinstance(e, dict)]
    dirs = [d for d in gone if isinstance(d, str) and d.endswith("/")]
    if not dirs:
        return False
    for cat in set(a) | set(b):
        xa = [e.get("path") if isinstance(e, dict) else e for e in a.get(cat) or []]
        xb = [e.get("path") if isinstance(e, dict) else e for e in b.get(cat) or []]
        if any(p not in xa for p in xb):
            return False
        if any(not (isinstance(p, str) and any(p.startswith(d) for d in dirs)) for p in xa if p not in xb):
            return False
    return True


def n70_move_onto_a_directory_is_refused(div, ctx: Ctx) -> bool:
    """N70: ``move`` whose destination is an existing directory (``move f d`` where ``d/f`` is a directory), or a
    directory output moved onto an existing file: tide refuses (exit 1, nothing changes); dvc's ``fs.move``
    renames the data to a temporary name and moves that into the directory (exit 0, the output's data now
    ``d/f/f.<random>.tmp``), or fails half-way (exit 255, the directory left as ``x.<random>.tmp``). Only dvc's
    move leaves such a name (seed 61801 sequence 59, once tide replaced an untracked file there as dvc)."""
    if div.op.kind != "move" or not div.op.info:
        return False
    tool = [rc for ln, rc in zip(div.op.lines, div.rcs, strict=False) if ln.argv]
    if not tool or not all(b != 0 for _, b in tool):
        return False
    src, dst = div.op.info.get("src"), div.op.info.get("dst")
    if not isinstance(src, str) or not isinstance(dst, str):
        return False
    d = ctx.repo / posixpath.normpath(dst)
    for t in (d / posixpath.basename(posixpath.normpath(src)), d):
        pattern = f"{_glob_escape(t.name)}.*.tmp"
        if (t.is_dir() and any(t.glob(pattern))) or (t.parent.is_dir() and any(t.parent.glob(pattern))):
            return True
    return False


def _glob_escape(name: str) -> str:
    import glob

    return glob.escape(name)


def n72_status_writes_no_legacy_manifest(entry, div, ctx: Ctx) -> bool:
    """N72: a directory output a ``dvc.yaml`` stage declares but its ``dvc.lock`` entry does not record (the
    stage ran before the output was added to it): dvc takes it for a 2.x output (``md5-dos2unix``, no
    ``hash:``) and, whenever it hashes it (``status``, ``repro``, ``commit``...), writes its ``.dir`` manifest
    into the 2.x cache layout (``.dvc/cache/xx/yyy.dir``), an object nothing names; tide's ``status`` writes
    nothing. The tester writes no 2.x files, so a 2.x-layout ``.dir`` object only dvc has, whose content is a
    manifest matching its name, is this (seed 61801 sequence 603)."""
    import json
    import re

    kind, key, a, b = entry
    m = re.fullmatch(r"cache:([0-9a-f]{2})/([0-9a-f]{30})\.dir", key) if kind == "state" else None
    if m is None or b is not None or not isinstance(a, str) or not a.endswith(f" md5={m[1]}{m[2]}"):
        return False
    try:
        doc = json.loads((ctx.repo / ".dvc" / "cache" / m[1] / f"{m[2]}.dir").read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(doc, list) and all(isinstance(e, dict) and {"md5", "relpath"} <= set(e) for e in doc)


def n43_gc_keeps_what_an_uncached_manifest_may_name(entry, div, ctx: Ctx) -> bool:
    """N43's other half: ``gc -w -f`` while a tracked directory's ``.dir`` manifest is in no cache (``add
    --no-commit D``): dvc deletes what it cannot tell from garbage (``-f``); tide reads the manifest from the
    workspace where D hashes to it and keeps its files' objects, or else deletes nothing and fails (seed
    62001: 952, and 519 where D was deleted)."""
    if div.op.kind != "gc":
        return False
    kind, key, a, b = entry
    if not ((kind == "exit" and " gc " in f" {key} " and a == 0 and b != 0)
            or (kind == "state" and key.startswith("cache:files/") and a is None and b is not None)):
        return False
    cache = ctx.repo / ".dvc" / "cache" / "files" / "md5"
    return any(m.endswith(".dir") and not (cache / m[:2] / m[2:]).exists() for m in _dvc_outs(ctx.repo).values())


# --- findings being fixed ---------------------------------------------------------------------------
def _corrupt_file_errors(obj, ours: bool):
    """``obj`` (a ``metrics``/``params`` ``show``/``diff --json`` report) with the message of each
    ``*FileCorruptedError`` replaced by None; None when one of dvc's (``ours`` False) does not have the
    shape N74 explains."""
    if isinstance(obj, dict):
        if set(obj) == {"type", "msg"} and str(obj["type"]).endswith("FileCorruptedError"):
            m = re.fullmatch(r"unable to read: '((?:\.\./)+)[^']*', (JSON|YAML|TOML) file structure is corrupted",
                             str(obj["msg"]))
            if not ours and m is None:
                return None
            return {"type": obj["type"], "msg": None}
        out = {}
        for k, v in obj.items():
            out[k] = _corrupt_file_errors(v, ours)
            if out[k] is None and v is not None:
                return None
        return out
    return obj


def n74_corrupt_metrics_file_message(entry, div, ctx: Ctx) -> bool:
    """N74: ``metrics``/``params`` ``show``/``diff --json`` of a file that does not parse: both report dvc's
    error type (``JSONFileCorruptedError``...); dvc's message names the path relative to the working
    directory of the file's repository-absolute name (``'../../../m.json'``, outside the repository),
    tide's names the file relative to the repository and says why (``m.json: invalid JSON (line 2): Extra
    data``). Only the messages of such errors differ (seed 63001, 43)."""
    kind, line, a, b = entry
    if kind != "json" or not re.search(r"(metrics|params) (show|diff)", line):
        return False
    x, y = _corrupt_file_errors(a, False), _corrupt_file_errors(b, True)
    return x is not None and x == y and a != b


def _tracked_dir_entries(where: Path) -> tuple[dict[str, str], set[str]]:
    """({path of a file inside a directory output (of a ``.dvc`` file or a stage in dvc.lock): its md5}, the
    md5s every output records itself, in ``.dvc`` files and dvc.lock), read from ``where``'s .dvc files,
    dvc.lock files and cached manifests."""
    outs = _dvc_outs(where)
    in_dirs: dict[str, str] = {}
    for top, oid in outs.items():
        if not oid.endswith(".dir"):
            continue
        try:
            listing = json.loads((where / ".dvc/cache/files/md5" / oid[:2] / oid[2:]).read_text())
        except (OSError, ValueError):
            continue
        in_dirs.update((f"{top}/{e['relpath']}", str(e.get("md5"))) for e in listing
                       if isinstance(e, dict) and isinstance(e.get("relpath"), str))
    return in_dirs, set(outs.values())


def n17_status_leaves_a_tracked_directorys_object_mode(entry, div, ctx: Ctx) -> bool:
    """N17 (deliberate, docs/versioning.md): an object of a tracked directory (a ``.dvc`` file's or a stage's
    directory output), its mode changed through its link (``chmod u+w`` or ``+x`` of a symlinked or
    hardlinked file), is made read-only (444) again by dvc's next ``status`` (it checks every object of every
    tracked directory); tide's ``status`` leaves its mode once it has seen the directory complete (seed
    69101 sequence 504: a stage's directory). Content is the same on both sides, and the object is no
    output's own (a file output's object and a manifest are protected again by tide too: those stay NEW)."""
    kind, key, a, b = entry
    if kind != "state" or not a or not b:
        return False
    in_dirs, own = _tracked_dir_entries(ctx.repo)
    if key.startswith("ws:") and a.startswith("file ") and b.startswith("file "):
        # the workspace file hard-linked to that object shares its inode, so its mode (seed 61701, 265)
        (_, ma, na, *ra), (_, mb, nb, *rb) = a.split(" "), b.split(" ")
        return ma == "444" and mb != "444" and na == nb != "n1" and ra == rb and key[3:] in in_dirs
    if not key.startswith("cache:files/md5/"):
        return False
    (ma, oka, *ra), (mb, okb, *rb) = a.split(" "), b.split(" ")
    oid = "".join(key[len("cache:files/md5/"):].split("/"))
    return (ma == "444" and mb != "444" and oka == okb == "ok" and ra == rb
            and oid in in_dirs.values() and oid not in own)


def _uncached_outs(where: Path) -> set[str]:
    """The paths of the ``cache: false`` outputs (outs, metrics, plots) of the stages in ``where``'s dvc.yaml
    files, relative to ``where``."""
    found = set()
    for _f, base, doc in _yaml_files(where, "dvc.yaml"):
        for st in (doc.get("stages") or {}).values() if isinstance(doc, dict) else ():
            for kind in ("outs", "metrics", "plots"):
                for o in (st.get(kind) or []) if isinstance(st, dict) else ():
                    if isinstance(o, dict) and len(o) == 1:
                        (path, opts), = o.items()
                        if isinstance(opts, dict) and opts.get("cache") is False:
                            found.add(path if base == "." else f"{base}/{path}")
    return found


def n79_run_cache_restores_an_uncached_output_as_a_copy(entry, div, ctx: Ctx) -> bool:
    """N79 (deliberate, docs/versioning.md): ``repro`` restoring a stage from the run cache ("is cached -
    skipping run, checking out outputs") links every output from the cache, a ``cache: false`` one too, in
    dvc (its run-cache stage declares them all cached): with a symlink or hardlink cache the uncached output
    becomes a read-only link to its object, and editing it after ``chmod u+w`` corrupts the cache (issue 27's
    finding 1). tide writes it as the plain writable copy a run leaves (seed 68001 sequence 1895)."""
    kind, key, a, b = entry
    if (kind != "state" or ctx.cache_type not in ("symlink", "hardlink") or not key.startswith("ws:")
            or not a or not b or not b.startswith("file 644 n1 ")
            or not any(ln.argv and ln.argv[0] == "repro" for ln in div.op.lines)):
        return False
    md5 = b.rpartition(" md5=")[2]
    if ctx.cache_type == "symlink":
        linked = a == f"link -> <ROOT>/repo/.dvc/cache/files/md5/{md5[:2]}/{md5[2:]}"
    else:
        pa, pb = a.split(" "), b.split(" ")  # the same content, hard-linked (read-only) in dvc only
        linked = len(pa) == 5 and pa[:2] == ["file", "444"] and pa[2] != "n1" and pa[3:] == pb[3:]
    return linked and key[3:] in _uncached_outs(ctx.repo)


def _lock_stages(path: Path) -> dict | None:
    doc = _yaml_doc(path)
    stages = doc.get("stages") if isinstance(doc, dict) else None
    return stages if isinstance(stages, dict) else None


def _feeds(up: dict, down: dict) -> bool:
    """Whether a stage's lock entry ``down`` depends on an output of ``up`` (a path equal or below one)."""
    outs = [str(o.get("path")) for o in up.get("outs") or [] if isinstance(o, dict)]
    deps = [str(d.get("path")) for d in down.get("deps") or [] if isinstance(d, dict)]
    return any(d == o or d.startswith(o + "/") or o.startswith(d + "/") for d in deps for o in outs)


def n80_lock_orders_independent_stages_as_dvc_yaml(entry, div, ctx: Ctx) -> bool:
    """N80 (deliberate, docs/versioning.md): the first ``repro`` of stages that do not depend on each other
    writes their dvc.lock entries in the order they ran: tide's is dvc.yaml's, dvc's the order its graph
    walk meets them, which follows Python's per-process string hashing and so changes from run to run (seed
    68001 sequence 1802: s2 before s1 in two replays of five). The same entries, only independent stages
    in another order."""
    kind, key, a, b = entry
    if kind != "state" or not key.startswith("ws:") or not key.endswith("dvc.lock") or not a or not b:
        return False
    x, y = (_lock_stages(side.root / "repo" / key[3:]) for side in (ctx.pair.a, ctx.pair.b))
    if x is None or y is None or x != y or list(x) == list(y):
        return False
    pos = {name: i for i, name in enumerate(y)}
    names = list(x)
    return all(not (_feeds(x[m], x[n]) or _feeds(x[n], x[m]))
               for i, m in enumerate(names) for n in names[i + 1:] if pos[m] > pos[n])


# Findings being fixed: one predicate per finding, removed once its fix is merged (issue 27's ten findings
# were fixed and their entries removed in the merge that brought them: a regression of any is NEW again).
KNOWN: tuple[Known, ...] = ()

DELIBERATE: tuple[Known, ...] = (
    Known("deliberate N7: pull with objects missing leaves no dangling symlink", True, True,
          n7_pull_leaves_no_dangling_link),
    Known("deliberate N7: pull with objects missing leaves no dangling symlink (both fail)", True, False,
          n7_no_dangling_link_when_both_fail),
    Known("deliberate N12: checkout keeps an output the user untracked with remove", True, False,
          n12_checkout_keeps_an_untracked_output),
    Known("deliberate N49: status/diff report the output N12 kept", True, False,
          n12_reports_of_the_kept_output),
    Known("deliberate N46: checkout keeps an output whose data is not in the cache", True, False,
          n46_checkout_keeps_an_output_not_in_the_cache),
    Known("deliberate N6: reflink-only repro records the stage", True, True, n6_reflink_only_repro_records_the_stage),
    Known("deliberate N19: reflink-only move completes", True, True, n19_reflink_only_move_completes),
    Known("deliberate N15: add or commit of several targets is all or nothing", True, True,
          n15_add_of_several_targets_is_all_or_nothing),
    Known("deliberate N16: move caches no tree nothing names", True, True, n16_move_caches_no_extra_tree),
    Known("deliberate N28: status -c names a directory whose manifest is nowhere missing", False, False,
          n28_cloud_status_names_a_missing_directory),
    Known("deliberate N27: checkout keeps an output the other tool wrote (mixed)", True, False,
          n27_each_tool_removes_only_what_it_wrote),
    Known("deliberate N27: status/diff report the output N27 kept (mixed)", True, False,
          n27_reports_of_the_kept_output),
    Known("deliberate N27: a kept output's link to a shared object (mixed)", True, False,
          n27_links_to_the_kept_output),
    Known("deliberate N31: add keeps the file's mode", True, False, n31_add_keeps_the_files_mode),
    Known("deliberate N7: status/diff/checkout fail on dvc's dangling link", False, False,
          n7_reports_fail_on_the_dangling_link),
    Known("deliberate N52: status -c names one of the same-content outputs", False, False,
          n52_cloud_status_names_one_of_the_same_content_outputs),
    Known("deliberate N53: reflink-only checkout: dvc copies after its first failure, deletes a changed file (N67)",
          True, False, n53_reflink_only_checkout_copies_after_a_failure),
    Known("deliberate N58: dvc leaves parts of a stale output it removed file by file", True, False,
          n58_checkout_removes_the_emptied_directories),
    Known("deliberate N59: diff lists no entries of a collected manifest (mixed)", False, False,
          n59_diff_lists_no_entries_of_a_collected_manifest),
    Known("deliberate N54: the tools part ways after a cache object was corrupted", True, True,
          n54_after_an_object_was_corrupted),
    Known("deliberate N70: move onto an existing directory is refused", True, True,
          n70_move_onto_a_directory_is_refused),
    Known("deliberate N72: status writes no 2.x-layout manifest of an output dvc.lock lacks", False, False,
          n72_status_writes_no_legacy_manifest),
    Known("deliberate N74: metrics/params --json name a corrupt file by its path in the repository", False,
          False, n74_corrupt_metrics_file_message),
    Known("deliberate N43: gc keeps what an uncached directory manifest may name", True, False,
          n43_gc_keeps_what_an_uncached_manifest_may_name),
    Known("deliberate N78: commit writes .gitignore lines in path order", False, False,
          n78_commit_writes_gitignore_lines_in_path_order),
    Known("deliberate N17: status leaves the mode of a tracked directory's object made writable through a link",
          True, False, n17_status_leaves_a_tracked_directorys_object_mode),
    Known("deliberate N79: a stage restored from the run cache gets its uncached outputs as plain copies", True,
          False, n79_run_cache_restores_an_uncached_output_as_a_copy),
    Known("deliberate N80: dvc.lock holds independent stages in dvc.yaml's order", True, False,
          n80_lock_orders_independent_stages_as_dvc_yaml),
)


def entries(div) -> list[tuple]:
    return ([("exit", *e) for e in div.exits] + [("json", *o) for o in div.outputs]
            + [("state", *s) for s in div.state])


def classify(div, ctx: Ctx) -> tuple[list[Known], list[tuple]]:
    """(the known findings that explain part of ``div``, the entries none explains)."""
    listed = KNOWN + DELIBERATE
    for k in listed:
        if k.whole_step and k.match(div, ctx):
            return [k], []
    found: list[Known] = []
    rest = []
    for e in entries(div):
        k = next((k for k in listed if not k.whole_step and k.match(e, div, ctx)), None)
        if k is None:
            rest.append(e)
        elif k not in found:
            found.append(k)
    return found, rest
