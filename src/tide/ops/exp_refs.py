"""Experiment refs as dvc 3 writes them: ``refs/exps/<baseline[:2]>/<baseline[2:]>/<name>``.

Each ref points at a commit whose parent is the baseline commit (the commit the experiment started
from); the commit holds the experiment's git-tracked files (params, dvc.lock, metrics...). dvc keeps
its own bookkeeping under ``refs/exps/{exec,apply,celery,temp}`` and ``refs/exps/stash``: those are
not experiments and are skipped (a ref there must never be read as one, nor written by tide).
"""

from __future__ import annotations

from tide.core.errors import TideError, UsageError
from tide.core.values import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time of exp show)
if TYPE_CHECKING:
    from tide.core.git import Git

NAMESPACE = "refs/exps"
QUEUE_DIR = "tide-queue"  # under .dvc/tmp: the queue's entries, logs and copies (ops/exp_queue.py)
_SKIP = ("refs/exps/exec/", "refs/exps/apply/", "refs/exps/celery/", "refs/exps/temp/")
_STASHES = ("refs/exps/stash", "refs/exps/celery/stash")
_HEX = frozenset("0123456789abcdef")


class ExperimentError(TideError):
    pass


class ExpRef(Value):
    """An experiment: its baseline commit (full id) and name. Immutable, compared and hashed by value
    (a ``Value``: ``dataclasses`` costs ``exp show`` ~8 ms of start-up)."""

    __slots__ = ("baseline", "name")
    baseline: str
    name: str

    @property
    def ref(self) -> str:
        return f"{NAMESPACE}/{self.baseline[:2]}/{self.baseline[2:]}/{self.name}"

    @classmethod
    def parse(cls, ref: str) -> ExpRef | None:
        """The experiment a ref names; None for dvc's bookkeeping refs and anything malformed."""
        if ref in _STASHES or ref.startswith(_SKIP):
            return None
        parts = ref.split("/")
        if len(parts) != 5 or "/".join(parts[:2]) != NAMESPACE or not _is_sha(parts[2] + parts[3]):
            return None
        return cls(parts[2] + parts[3], parts[4])


def _is_sha(s: str) -> bool:
    """A full commit id (40 lowercase hex digits)."""
    return len(s) == 40 and _HEX.issuperset(s)


def all_refs(git: Git) -> dict[ExpRef, str]:
    """Every experiment ref -> its commit."""
    out: dict[ExpRef, str] = {}
    for ref, sha in git.refs(NAMESPACE + "/").items():
        info = ExpRef.parse(ref)
        if info is not None:
            out[info] = sha
    return out


def by_baseline(git: Git) -> dict[str, dict[ExpRef, str]]:
    out: dict[str, dict[ExpRef, str]] = {}
    for info, sha in all_refs(git).items():
        out.setdefault(info.baseline, {})[info] = sha
    return out


def check_name(git: Git, name: str) -> str:
    """dvc's rule: a name git accepts in a ref, without '/'."""
    ok = git.run("check-ref-format", f"{NAMESPACE}/00/{'0' * 38}/{name}", check=False).returncode == 0
    if not name or "/" in name or name.startswith("-") or not ok:
        raise UsageError(f"invalid experiment name '{name}': it must be a valid git ref name without '/'")
    return name


def resolve(git: Git, names: list[str], head: str | None = None) -> dict[str, tuple[ExpRef, str]]:
    """Each of ``names`` (an experiment name, a full ``refs/exps/...`` ref, or an experiment commit id
    or prefix) -> (ref, commit). A name used under several baselines resolves to the one of HEAD, as
    dvc's; otherwise it is ambiguous. Unknown names raise."""
    refs = all_refs(git)
    head = head if head is not None else (git.resolve("HEAD") if git.has_commits() else "")
    out: dict[str, tuple[ExpRef, str]] = {}
    for n in names:
        found = [(i, s) for i, s in refs.items() if i.ref == n or i.name == n]
        if not found and 4 <= len(n) <= 40 and _HEX.issuperset(n):
            found = [(i, s) for i, s in refs.items() if s.startswith(n)]
        if len(found) > 1:
            at_head = [f for f in found if f[0].baseline == head]
            if len(at_head) != 1:
                shown = ", ".join(sorted(i.ref for i, _ in found))
                raise ExperimentError(f"ambiguous experiment name '{n}': it matches {shown}; name the full ref")
            found = at_head
        if not found:
            raise ExperimentError(f"'{n}' does not name an experiment")
        out[n] = found[0]
    return out



def resolve_any(git: Git, rev: str) -> str:
    """dvc's ``resolve_rev``: a git revision, else an experiment name (or ref, or commit prefix) -> commit."""
    try:
        return git.resolve(rev)
    except TideError:
        if rev == "HEAD" or rev.startswith("refs/"):
            raise
    try:
        return resolve(git, [rev])[rev][1]
    except ExperimentError as exc:
        if "ambiguous" in str(exc):
            raise
        raise ExperimentError(f"unknown Git revision '{rev}'") from None


def baseline_of(git: Git, rev: str) -> str | None:
    """dvc's ``experiments.get_baseline``: the baseline commit of the experiment ``rev`` names (by name,
    ref or commit), None when it is no experiment's commit."""
    sha = resolve_any(git, rev)
    found = sorted(info.baseline for info, tip in all_refs(git).items() if tip == sha)
    return found[0] if found else None


def reader(repo, rev: str):
    """``revfs.reader_for`` where ``rev`` may also name an experiment (as every dvc command that reads a
    revision resolves it); the reader keeps the name it was given (labels, messages)."""
    from tide.pipeline.revfs import WORKSPACE, RevReader, reader_for

    if rev == WORKSPACE or repo.git is None:
        return reader_for(repo, rev)
    rd = RevReader(repo, resolve_any(repo.git, rev))
    rd.rev = rev
    return rd

# Names as dvc's: "<adjective>-<noun>" (our own word lists; only the shape matters to dvc).
_ADJECTIVES = (
    "amber", "azure", "brave", "brisk", "calm", "civic", "crisp", "curly", "dusty", "eager", "early", "fancy",
    "fleet", "fresh", "funky", "gaunt", "gentle", "glad", "grand", "hardy", "hasty", "humid", "jolly", "keen",
    "lanky", "lucid", "lunar", "merry", "misty", "noble", "oaken", "olive", "plush", "proud", "quiet", "rapid",
    "rocky", "royal", "rusty", "sandy", "sharp", "shiny", "silky", "sleek", "smart", "snowy", "solar", "sonic",
    "spicy", "stout", "sunny", "swift", "tidal", "timid", "vivid", "warm", "wavy", "windy", "witty", "zesty",
)
_NOUNS = (
    "acre", "anvil", "arch", "aspen", "badge", "bay", "beam", "bell", "birch", "bolt", "brook", "cairn", "cape",
    "cedar", "cliff", "comet", "coral", "crane", "creek", "delta", "dune", "elm", "fern", "fjord", "flint",
    "forge", "gale", "glen", "grove", "harp", "heron", "hill", "inlet", "isle", "kite", "lark", "ledge", "loom",
    "maple", "marsh", "mesa", "moss", "oak", "orbit", "otter", "peak", "pine", "plume", "quartz", "reef", "ridge",
    "sage", "shoal", "slate", "spire", "stone", "tern", "thorn", "vale", "wren",
)


def random_name(git: Git, baseline: str, taken: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    import random  # here: exp show never names an experiment

    rng = random.Random()  # not the global generator: pipelines often seed that one
    existing = {i.name for i in all_refs(git) if i.baseline == baseline} | set(taken)
    for _ in range(1000):
        name = f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}"
        if name not in existing:
            return name
    return f"exp-{rng.getrandbits(32):08x}"
