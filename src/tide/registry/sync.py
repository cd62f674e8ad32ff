"""Converge the registry's tags with the forge's: the local repository and the forge remote hold the
same registry tags (``NAME@vX``, ``NAME#STAGE#N``...), pointing at the same tag objects.

Every registry step ends with :func:`converge`: it compares the local registry tags with the
remote's (``git ls-remote``), pushes what the remote lacks, fetches what the local repository
lacks, and says what it repaired. A tag that exists on both sides with different contents is
never overwritten: that is an error for a person to settle. A refused push is an error, so a run
that could not publish its tags fails instead of reporting success.
"""

from __future__ import annotations

from dataclasses import dataclass

from tide.core.errors import GitError
from tide.core.git import Git
from tide.registry import tags as T


@dataclass(frozen=True)
class TagDiff:
    remote: str
    only_local: tuple[str, ...]      # registry tags the forge lacks
    only_remote: tuple[str, ...]     # registry tags the local repository lacks
    differ: tuple[str, ...]          # same name, other tag object

    @property
    def agree(self) -> bool:
        return not (self.only_local or self.only_remote or self.differ)

    def lines(self) -> list[str]:
        out = [f"tag {t} is local only: the forge remote '{self.remote}' lacks it" for t in self.only_local]
        out += [f"tag {t} is on the forge remote '{self.remote}' only" for t in self.only_remote]
        out += [f"tag {t} differs between the local repository and the forge remote '{self.remote}'"
                for t in self.differ]
        return out


def _registry(name: str, artifact: str | None) -> bool:
    parsed = T.parse(name)
    return parsed is not None and (artifact is None or parsed.artifact == artifact)


def local_tags(git: Git, artifact: str | None = None) -> dict[str, str]:
    """Registry tags of the local repository -> the object each names (the tag object when annotated)."""
    out = {}
    for line in git.out("for-each-ref", "refs/tags", "--format=%(objectname) %(refname:strip=2)").splitlines():
        sha, _, name = line.partition(" ")
        if _registry(name, artifact):
            out[name] = sha
    return out


def remote_tags(git: Git, remote: str, artifact: str | None = None) -> dict[str, str]:
    """Registry tags of ``remote`` (GitError when it cannot be read)."""
    proc = git.run("ls-remote", "--tags", "--refs", remote, check=False)
    if proc.returncode != 0:
        raise GitError(f"cannot read the tags of the forge remote '{remote}': {_reason(proc)}")
    out = {}
    for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
        sha, _, ref = line.partition("\t")
        name = ref.removeprefix("refs/tags/")
        if ref.startswith("refs/tags/") and _registry(name, artifact):
            out[name] = sha
    return out


def _reason(proc) -> str:
    """The informative line of a failed git network command: the remote's own message (a hook's),
    else git's fatal/error line, else the last line."""
    lines = [ln.strip() for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
    for prefix in ("remote:", "fatal:", "error:"):
        hits = [ln for ln in lines if ln.startswith(prefix) and ln != prefix]
        if hits:
            return hits[0]
    return lines[-1] if lines else f"exit code {proc.returncode}"


def compare(git: Git, remote: str, artifact: str | None = None) -> TagDiff:
    loc, rem = local_tags(git, artifact), remote_tags(git, remote, artifact)
    return TagDiff(remote, tuple(sorted(set(loc) - set(rem))), tuple(sorted(set(rem) - set(loc))),
                   tuple(sorted(t for t in set(loc) & set(rem) if loc[t] != rem[t])))


def converge(git: Git, remote: str, artifact: str | None = None, just_made: tuple[str, ...] = ()) -> list[str]:
    """Push the registry tags the forge lacks and fetch those the local repository lacks; one line per
    repair (tags in ``just_made`` were created by this step: pushing them is no repair). GitError
    when a push is refused or a tag differs on the two sides."""
    diff = compare(git, remote, artifact)
    if diff.differ:
        raise GitError(diff.lines()[len(diff.only_local) + len(diff.only_remote)]
                       + "; compare them ('git show TAG') and delete the wrong one")
    said = []
    if diff.only_local:
        proc = git.run("push", "-q", "--porcelain", remote, *(f"refs/tags/{t}:refs/tags/{t}" for t in diff.only_local),
                       check=False)
        if proc.returncode != 0:
            rejected = [ln.split("\t")[1].split(":")[0].removeprefix("refs/tags/")
                        for ln in proc.stdout.decode(errors="replace").splitlines() if ln.startswith("!\t")]
            what = ", ".join(rejected) or ", ".join(diff.only_local)
            raise GitError(f"the forge remote '{remote}' refused the registry tag(s) {what}: "
                           f"{_reason(proc)}; re-run to push them")
        said += [f"pushed {t} (the forge lacked it)" for t in diff.only_local if t not in just_made]
    if diff.only_remote:
        git.run("fetch", "-q", "--no-tags", remote, *(f"refs/tags/{t}:refs/tags/{t}" for t in diff.only_remote))
        said += [f"fetched {t} from the forge" for t in diff.only_remote]
    return said
