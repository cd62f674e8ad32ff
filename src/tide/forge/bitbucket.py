"""Bitbucket Cloud through REST API 2.0 (``https://api.bitbucket.org/2.0``).

Auth: a token that is base64 ``user:app_password`` (CML's convention) is sent as HTTP Basic;
anything else is sent as a Bearer access token (repository/workspace access tokens). Pagination
follows the ``next`` URL of each page. There is no auto-merge, so merge flags merge at once.
Uploads go to the repository's Downloads. Self-hosted runners are managed only through an
undocumented internal API, so the runner capabilities are false.
"""

from __future__ import annotations

import base64
import binascii

from tide.forge.answer import Answer
from tide.forge.base import (
    Capabilities,
    Comment,
    PullRequest,
    Runner,
    RunnerRegistration,
    Target,
    Upload,
    check_repo,
    check_state,
    summary_line,
    unsupported,
)
from tide.forge.http import bitbucket_next, forge_api

STATE = {"OPEN": "open", "MERGED": "merged", "DECLINED": "closed", "SUPERSEDED": "closed"}
STRATEGY = {"merge": "merge_commit", "squash": "squash", "rebase": "fast_forward"}
STATUS = {"success": "SUCCESSFUL", "failure": "FAILED", "neutral": "SUCCESSFUL", "cancelled": "STOPPED",
          "skipped": "STOPPED", "timed_out": "FAILED", "action_required": "FAILED", "queued": "INPROGRESS",
          "in_progress": "INPROGRESS"}


def basic_pair(token: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if ":" not in decoded:
        return None
    user, _, password = decoded.partition(":")
    return (user, password) if user and password else None


class BitbucketForge:
    name = "bitbucket"
    capabilities = Capabilities(
        commit_comments=True, commit_comment_update=True, native_upload=True, check_runs=False, commit_status=True,
        auto_merge=False, merge_methods=frozenset({"merge", "squash", "rebase"}),
    )

    def __init__(self, *, repo: str, web_base: str, api_url: str, token: str, verify: bool = True) -> None:
        check_repo("bitbucket", repo, "WORKSPACE/SLUG")
        self.repo = repo
        self.web_url = f"{(web_base or 'https://bitbucket.org').rstrip('/')}/{repo}"
        pair = basic_pair(token)
        self._auth = pair or ("x-token-auth", token)
        auth = f"Basic {token}" if pair else f"Bearer {token}"
        secrets = (token, pair[1]) if pair else (token,)
        self.api = forge_api("bitbucket", api_url or "https://api.bitbucket.org/2.0",
                             {"Authorization": auth, "Accept": "application/json"}, secrets=secrets, verify=verify,
                             page_key="values", page_next=bitbucket_next)
        self._r = f"/repositories/{repo}"

    def git_auth(self) -> tuple[str, str] | None:
        return self._auth

    def commit_url(self, sha: str) -> str:
        return f"{self.web_url}/commits/{sha}"

    def _cpath(self, target: Target) -> str:
        kind = {"pr": "pullrequests", "issue": "issues", "commit": "commit"}[target.kind]
        return f"{self._r}/{kind}/{target.ref}/comments"

    @staticmethod
    def _comment(d: Answer) -> Comment:
        return Comment(d.id("id"), d.obj("content", None).str("raw", ""),
                       d.obj("links", None).obj("html", None).str("href", ""), d.str("created_on", ""))

    def list_comments(self, target: Target) -> list[Comment]:
        items = self.api.pages(self._cpath(target), params={"pagelen": 100, "sort": "created_on"},
                               what="list comments")
        return [self._comment(d) for d in items if not d.flag("deleted")]

    def create_comment(self, target: Target, body: str) -> Comment:
        return self._comment(self.api.answer("POST", self._cpath(target), json={"content": {"raw": body}},
                                             what=f"comment on {target}"))

    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment:
        return self._comment(self.api.answer("PUT", f"{self._cpath(target)}/{comment.id}",
                                             json={"content": {"raw": body}}, what=f"update comment {comment.id}"))

    @staticmethod
    def _pr(d: Answer) -> PullRequest:
        source = d.obj("source")
        return PullRequest(d.int("id"), d.obj("links").obj("html").str("href"), source.obj("branch").str("name"),
                           d.obj("destination").obj("branch").str("name"), d.str("title", ""),
                           STATE.get(d.str("state", ""), "open"), source.obj("commit", None).str("hash", ""))

    def _prs(self, path: str, params: dict) -> list[PullRequest]:
        return [self._pr(d) for d in self.api.pages(path, params=params, what="list pull requests")]

    def prs_for_commit(self, sha: str) -> list[PullRequest]:
        prs = self._prs(f"{self._r}/commit/{sha}/pullrequests", {"pagelen": 50})
        return sorted((p for p in prs if p.state == "open"), key=lambda p: p.number)

    def find_pr(self, source: str, target: str) -> PullRequest | None:
        q = f'source.branch.name="{source}" AND destination.branch.name="{target}" AND state="OPEN"'
        return next((p for p in self._prs(f"{self._r}/pullrequests", {"q": q, "pagelen": 50})
                     if p.source == source and p.target == target), None)

    def create_pr(self, source: str, target: str, title: str, body: str) -> PullRequest:
        return self._pr(self.api.answer("POST", f"{self._r}/pullrequests", json={
            "title": title, "description": body, "source": {"branch": {"name": source}},
            "destination": {"branch": {"name": target}}, "close_source_branch": True}, what="create pull request"))

    def update_pr(self, pr: PullRequest, title: str, body: str) -> PullRequest:
        return self._pr(self.api.answer("PUT", f"{self._r}/pullrequests/{pr.number}",
                                        json={"title": title, "description": body},
                                        what=f"update pull request #{pr.number}"))

    def merge_pr(self, pr: PullRequest, method: str, auto: bool) -> str:
        self.api.json("POST", f"{self._r}/pullrequests/{pr.number}/merge", json={
            "merge_strategy": STRATEGY[method], "close_source_branch": True}, what=f"merge pull request #{pr.number}")
        return "merged"

    def upload(self, name: str, data: bytes, mime: str, target: Target | None = None) -> Upload:
        import hashlib

        stored = f"tide-{hashlib.sha256(data).hexdigest()[:16]}-{name}"
        self.api.request("POST", f"{self._r}/downloads", files={"files": (stored, data, mime)},
                         what=f"upload {name}")
        return Upload(f"{self.web_url}/downloads/{stored}", name)

    def create_check(self, sha: str, title: str, summary: str, conclusion: str, status: str = "completed") -> str:
        shown = conclusion if status == "completed" else status
        note = self.create_comment(Target("commit", sha), f"**{title}**: {shown}\n\n{summary}")
        key = "tide-" + "".join(c if c.isalnum() else "-" for c in title.lower())[:30]
        self.api.json("POST", f"{self._r}/commit/{sha}/statuses/build", json={
            "key": key, "state": check_state(STATUS, conclusion, status),
            "name": title, "description": summary_line(summary, conclusion),
            "url": note.url or self.commit_url(sha)}, what="set commit status")
        return note.url or self.commit_url(sha)

    def runner_registration(self, name: str, labels: tuple[str, ...]) -> RunnerRegistration:
        raise unsupported("bitbucket", "runner registration (Bitbucket documents no runner API)")

    def list_runners(self) -> list[Runner]:
        raise unsupported("bitbucket", "listing runners (Bitbucket documents no runner API)")

    def remove_runner(self, runner_id: str) -> None:
        raise unsupported("bitbucket", "removing runners (Bitbucket documents no runner API)")

    def close(self) -> None:
        self.api.close()
