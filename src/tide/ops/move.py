"""``tide move``: rename a tracked output together with its ``.dvc`` file."""

from __future__ import annotations

import os

from tide.core.errors import MissingError, PathError
from tide.ops.add import check_overlap, check_pipelines, resolve_target
from tide.ops.index import collect, declared_outs
from tide.workspace import gitignore, pointers
from tide.workspace.pointers import PointerFile
from tide.workspace.repo import Repo


def move(repo: Repo, src: str, dst: str, cwd: str | None = None) -> tuple[str, list[str]]:
    """Returns the new pointer file and the files to stage in git."""
    cwd = cwd or os.getcwd()
    with repo.lock():
        with repo.ignore_journal.command():  # a failure takes back the .gitignore entries written (dvc's scm_context)
            s = resolve_target(repo, src, cwd)
            ptr = s + pointers.SUFFIX
            if not os.path.isfile(ptr):
                raise MissingError(f"'{src}' is not tracked by a .dvc file")
            d = resolve_target(repo, dst, cwd)
            if os.path.isdir(d) and not os.path.islink(d) or dst.endswith(("/", os.sep)):
                d = os.path.join(d, os.path.basename(s))
            # as dvc (fs.move renames over it): an untracked file or symlink at the destination is replaced;
            # a directory there, or any destination of a directory, is refused (dvc moves the data into that
            # directory under a temporary name, or fails half-way: "File exists")
            if os.path.isdir(d) and not os.path.islink(d) or os.path.lexists(d) and os.path.isdir(s):
                raise PathError(f"'{dst}' exists already")
            pf = pointers.load(ptr, repo.root)
            if len(pf.outs) != 1 or pf.outs[0].abspath != s:
                raise PathError(f"'{repo.rel(ptr)}' does not track exactly '{src}'")
            new_ptr = d + pointers.SUFFIX
            if os.path.exists(new_ptr):
                raise PathError(f"'{repo.rel(new_ptr)}' exists already")
            if not os.path.isdir(os.path.dirname(d)):  # as in dvc: the destination's directory must exist
                raise PathError(
                    f"failed to move '{src}' -> '{dst}': directory '{repo.rel(os.path.dirname(d))}' does not exist"
                )
            # as dvc: the new .dvc file must not be git-ignored, the new output must not overlap another one,
            # and the pipelines' graph must be valid
            gitignore.refuse_ignored_files(repo.root, [new_ptr], repo.git)
            others = [t for t in collect(repo) + declared_outs(repo) if t.source != ptr]
            check_overlap(repo, d, others, new_ptr)
            check_pipelines(repo)
            if os.path.lexists(s):
                os.rename(s, d)
            out = pf.outs[0].replace(path=os.path.basename(d), abspath=d)
            # dvc's order (Output.move): the old entry goes, the new one is written, the output committed,
            # then the .dvc files; a failure from there on takes back the new entry only (dvc's scm_context)
            old_gi = gitignore.remove(repo.root, s)
            new_gi = gitignore.add(repo.ignore_journal, [d], repo.git) if out.use_cache else []
            if out.md5 and out.use_cache:
                # the renamed files keep their inodes and mtimes: their known hashes move with them
                old_rel, new_rel = repo.rel(s), repo.rel(d)
                rows = repo.state.lookup_prefix(old_rel)
                repo.state.save_many((new_rel + k[len(old_rel):], *row) for k, row in rows.items())
                _commit_moved(repo, out)
                repo.state.save_links([(new_rel, out.md5)])
            PointerFile(new_ptr, (out,), dict(pf.top)).write()
            os.unlink(ptr)
            files = [repo.rel(new_ptr), repo.rel(ptr)] + ([old_gi] if old_gi else []) + new_gi
        if repo.autostage and repo.git is not None:
            repo.git.run("add", "-A", "--", *files)
    return repo.rel(new_ptr), sorted(set(files))


def _commit_moved(repo: Repo, out) -> None:
    """As dvc's ``Output.move`` (``save`` + ``commit``): a moved output whose workspace content is what its
    ``.dvc`` file records gets that content into the cache and is linked as the cache type says, so an
    output added with ``--no-commit`` is committed by the move (N36). A changed output is moved as recorded:
    dvc also caches and links its current content, an object no file names, which the next ``gc`` deletes
    under a symlinked workspace file (deliberate, N16)."""
    from tide.core.errors import MissingError
    from tide.ops.add import store
    from tide.workspace.checkout import checkout_out

    if not os.path.lexists(out.abspath):
        return  # dvc warns "missing" and moves the record
    try:
        res = repo.hasher.hash_path(out.abspath)
    except MissingError:
        return
    if res.md5 != out.md5:
        return
    store(repo, res, link=True)
    if repo.cache.link_types[0] in ("hardlink", "symlink"):
        checkout_out(out, repo.rel(out.abspath), repo.hasher, repo.cache, force=True)
