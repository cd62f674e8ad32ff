"""The forge plugin family: one Protocol, capabilities as data, value objects.

A *forge* hosts the git repository and its review features (GitHub, GitLab, Bitbucket Cloud,
Gitea/Forgejo, or tide's embedded ``local`` forge). One driver module per forge implements
:class:`Forge`; callers look at :class:`Capabilities`, never at the driver's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

TARGET_KINDS = ("pr", "commit", "issue")
# a check's result, GitHub's words (check runs); commit-status forges map each to their own states
CONCLUSIONS = ("success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required")
CHECK_STATUSES = ("completed", "queued", "in_progress")   # only a completed check has a conclusion
MERGE_METHODS = ("merge", "rebase", "squash")


@dataclass(frozen=True)
class Capabilities:
    """What a forge can do. Callers branch on these fields, never on the driver name."""

    pr_noun: str = "pull request"          # what the forge calls a PR in messages
    commit_comments: bool = True           # comments on commits can be created and listed
    commit_comment_update: bool = True     # ... and edited in place
    issue_comments: bool = True
    native_upload: bool = False            # the forge stores uploaded files itself
    upload_needs_target: bool = False      # uploads attach to an issue/PR (Gitea)
    check_runs: bool = False               # rich check runs with a markdown summary (GitHub)
    commit_status: bool = False            # plain commit statuses (the fallback for checks)
    auto_merge: bool = False               # "merge when checks pass" exists
    merge_methods: frozenset[str] = frozenset({"merge"})
    skip_ci_in_title: bool = False         # the forge reads "[skip ci]" from the PR title too
    runner_tokens: bool = False            # can mint self-hosted runner registration tokens
    runner_admin: bool = False             # can list and remove self-hosted runners
    runner_token_kind: str = ""            # "registration" (GitHub, Gitea) | "authentication" (GitLab glrt-)


@dataclass(frozen=True)
class Target:
    """Where a comment goes: ``pr``/``issue`` with a number, or ``commit`` with a SHA."""

    kind: str
    ref: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.ref}"


@dataclass(frozen=True)
class Comment:
    id: str
    body: str
    url: str
    created: str = ""


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    source: str
    target: str
    title: str = ""
    state: str = "open"            # open | merged | closed
    head_sha: str = ""
    node_id: str = ""              # GitHub GraphQL id (auto-merge)


@dataclass(frozen=True)
class RunnerRegistration:
    """A credential a self-hosted runner agent uses to join the forge.

    ``kind`` is ``registration`` (GitHub ``config.sh --token``, Gitea ``act_runner register``) or
    ``authentication`` (GitLab ``glrt-`` token of a runner already created on the server, whose id is
    ``runner_id``). ``url`` is what the agent registers against.
    """

    token: str = field(repr=False)
    url: str
    kind: str
    expires_at: str = ""
    runner_id: str = ""

    def __str__(self) -> str:  # never print the secret
        return f"RunnerRegistration(kind={self.kind}, url={self.url}, runner_id={self.runner_id})"


@dataclass(frozen=True)
class Runner:
    id: str
    name: str
    labels: tuple[str, ...] = ()
    online: bool = False
    busy: bool = False


@dataclass(frozen=True)
class Upload:
    url: str       # what a markdown report links to
    name: str


class Forge(Protocol):
    """Contract every forge driver fulfils.

    - ``name`` is the key users type (``github``, ``gitlab``, ``bitbucket``, ``gitea``, ``local``);
      ``capabilities`` says what the driver supports. A method whose capability is False raises
      :class:`tide.core.errors.ForgeError` with a message naming the missing capability.
    - All list methods return *every* item (all pages), oldest first.
    - Errors are :class:`~tide.core.errors.ForgeError` with one line naming the forge, the
      operation and the forge's own message; the token never appears in them.
    - Transient failures (rate limits with ``Retry-After``, 5xx, connection resets) are retried
      with backoff inside the driver.
    - ``git_auth()`` gives the (username, password) pair git uses over HTTPS, or None when git
      needs no token (local paths, ssh).
    """

    name: str
    capabilities: Capabilities
    web_url: str

    def git_auth(self) -> tuple[str, str] | None: ...
    def commit_url(self, sha: str) -> str: ...

    # comments
    def list_comments(self, target: Target) -> list[Comment]: ...
    def create_comment(self, target: Target, body: str) -> Comment: ...
    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment: ...

    # pull requests
    def prs_for_commit(self, sha: str) -> list[PullRequest]: ...
    def find_pr(self, source: str, target: str) -> PullRequest | None: ...
    def create_pr(self, source: str, target: str, title: str, body: str) -> PullRequest: ...
    def update_pr(self, pr: PullRequest, title: str, body: str) -> PullRequest: ...
    def merge_pr(self, pr: PullRequest, method: str, auto: bool) -> str:
        """Merge with ``method``; with ``auto`` enable auto-merge if the forge has it.

        Returns ``"auto"`` when auto-merge was enabled, ``"merged"`` when merged now."""
        ...

    # files and checks
    def upload(self, name: str, data: bytes, mime: str, target: Target | None = None) -> Upload: ...
    def create_check(self, sha: str, title: str, summary: str, conclusion: str, status: str = "completed") -> str:
        """Record a check (run or commit status) for ``sha``; returns its URL. ``status`` is one of
        ``CHECK_STATUSES``; ``conclusion`` (one of ``CONCLUSIONS``) counts only when it is completed."""
        ...

    # self-hosted runners
    def runner_registration(self, name: str, labels: tuple[str, ...]) -> RunnerRegistration: ...
    def list_runners(self) -> list[Runner]: ...
    def remove_runner(self, runner_id: str) -> None: ...

    def close(self) -> None: ...


def check_repo(forge: str, repo: str, shape: str = "OWNER/NAME") -> None:
    """Refuse a repository path that is not two parts (``shape`` says what the forge calls them)."""
    if repo.count("/") != 1:
        from tide.core.errors import ForgeError

        raise ForgeError(f"{forge}: repository must be {shape}, got '{repo}'")


def check_state(states: dict[str, str], conclusion: str, status: str) -> str:
    """A commit-status forge's state for a check: ``states`` maps every conclusion and the pending
    statuses (queued, in_progress) to the forge's word."""
    return states[conclusion if status == "completed" else status]


def summary_line(summary: str, conclusion: str) -> str:
    """A check's one-line description: the report's first non-empty line without heading marks
    (else the conclusion), at most 250 characters as commit statuses allow."""
    return next((ln.strip("# ").strip() for ln in summary.splitlines() if ln.strip()), conclusion)[:250]


def unsupported(forge: str, what: str) -> Exception:
    from tide.core.errors import ForgeError

    return ForgeError(f"{forge}: {what} is not supported by this forge")

__all__ = [
    "TARGET_KINDS", "CONCLUSIONS", "CHECK_STATUSES", "check_state", "MERGE_METHODS", "Capabilities", "Target",
    "Comment", "PullRequest",
    "RunnerRegistration", "Runner", "Upload", "Forge", "check_repo", "summary_line", "unsupported",
]
