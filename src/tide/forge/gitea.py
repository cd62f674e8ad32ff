"""Gitea and Forgejo through their REST API v1 (``/api/v1``, ``Authorization: token <t>``).

Pull requests are issues, so PR and issue comments share the issue-comments endpoints. Gitea has
no commit comments: the commit target is unsupported (capability false) and checks become commit
statuses whose description is the report's first line. Uploads are issue/PR attachments.
"""

from __future__ import annotations

from tide.core.errors import ForgeError
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
from tide.forge.http import forge_api

STATUS = {"success": "success", "failure": "failure", "neutral": "warning", "cancelled": "error",
          "skipped": "warning", "timed_out": "error", "action_required": "failure", "queued": "pending",
          "in_progress": "pending"}


class GiteaForge:
    name = "gitea"
    capabilities = Capabilities(
        commit_comments=False, commit_comment_update=False, native_upload=True, upload_needs_target=True,
        check_runs=False, commit_status=True, auto_merge=True, merge_methods=frozenset({"merge", "rebase", "squash"}),
        runner_tokens=True, runner_admin=False, runner_token_kind="registration",
    )

    def __init__(self, *, repo: str, web_base: str, api_url: str, token: str, verify: bool = True) -> None:
        check_repo("gitea", repo)
        if not web_base:
            raise ForgeError("gitea: the server URL is unknown: set forge.server in tide.yaml or use --repo URL")
        self.repo = repo
        self.web_url = f"{web_base.rstrip('/')}/{repo}"
        self._token = token
        self.api = forge_api("gitea", api_url or f"{web_base.rstrip('/')}/api/v1",
                             {"Authorization": f"token {token}", "Accept": "application/json"},
                             secrets=(token,), verify=verify)
        self._r = f"/repos/{repo}"

    def git_auth(self) -> tuple[str, str] | None:
        return ("tide", self._token)

    def commit_url(self, sha: str) -> str:
        return f"{self.web_url}/commit/{sha}"

    def _issue(self, target: Target) -> str:
        if target.kind == "commit":
            raise unsupported("gitea", "commenting on commits")
        return target.ref

    @staticmethod
    def _comment(d: Answer) -> Comment:
        return Comment(str(d.int("id")), d.str("body", ""), d.str("html_url", ""), d.str("created_at", ""))

    def list_comments(self, target: Target) -> list[Comment]:
        items = self.api.pages(f"{self._r}/issues/{self._issue(target)}/comments", params={"limit": 50},
                               what="list comments")
        return sorted((self._comment(d) for d in items), key=lambda c: int(c.id))

    def create_comment(self, target: Target, body: str) -> Comment:
        return self._comment(self.api.answer("POST", f"{self._r}/issues/{self._issue(target)}/comments",
                                             json={"body": body}, what=f"comment on {target}"))

    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment:
        self._issue(target)
        return self._comment(self.api.answer("PATCH", f"{self._r}/issues/comments/{comment.id}",
                                             json={"body": body}, what=f"update comment {comment.id}"))

    @staticmethod
    def _pr(d: Answer) -> PullRequest:
        state = "merged" if d.flag("merged") else d.str("state", "open")
        head = d.obj("head")
        return PullRequest(d.int("number"), d.str("html_url"), head.str("ref"), d.obj("base").str("ref"),
                           d.str("title", ""), state, head.str("sha", ""))

    def _open_prs(self) -> list[PullRequest]:
        return [self._pr(d) for d in self.api.pages(f"{self._r}/pulls", params={"state": "open", "limit": 50},
                                                    what="list pull requests")]

    def prs_for_commit(self, sha: str) -> list[PullRequest]:
        return sorted((p for p in self._open_prs() if p.head_sha == sha), key=lambda p: p.number)

    def find_pr(self, source: str, target: str) -> PullRequest | None:
        return next((p for p in self._open_prs() if p.source == source and p.target == target), None)

    def create_pr(self, source: str, target: str, title: str, body: str) -> PullRequest:
        return self._pr(self.api.answer("POST", f"{self._r}/pulls", json={
            "head": source, "base": target, "title": title, "body": body}, what="create pull request"))

    def update_pr(self, pr: PullRequest, title: str, body: str) -> PullRequest:
        return self._pr(self.api.answer("PATCH", f"{self._r}/pulls/{pr.number}",
                                        json={"title": title, "body": body}, what=f"update pull request #{pr.number}"))

    def merge_pr(self, pr: PullRequest, method: str, auto: bool) -> str:
        payload = {"Do": method, "merge_when_checks_succeed": auto}
        self.api.request("POST", f"{self._r}/pulls/{pr.number}/merge", json=payload,
                         what=f"merge pull request #{pr.number}")
        if auto:
            d = self.api.answer("GET", f"{self._r}/pulls/{pr.number}", what=f"read pull request #{pr.number}")
            return "merged" if d.flag("merged") else "auto"
        return "merged"

    def upload(self, name: str, data: bytes, mime: str, target: Target | None = None) -> Upload:
        if target is None or target.kind == "commit":
            raise ForgeError("gitea: uploads are attachments of an issue or pull request: give one as the target")
        d = self.api.answer("POST", f"{self._r}/issues/{target.ref}/assets", params={"name": name},
                            files={"attachment": (name, data, mime)}, what=f"upload {name}")
        return Upload(d.str("browser_download_url"), name)

    def create_check(self, sha: str, title: str, summary: str, conclusion: str, status: str = "completed") -> str:
        self.api.json("POST", f"{self._r}/statuses/{sha}", json={
            "state": check_state(STATUS, conclusion, status),
            "context": title, "description": summary_line(summary, conclusion),
            "target_url": self.commit_url(sha)}, what="set commit status")
        return self.commit_url(sha)

    def runner_registration(self, name: str, labels: tuple[str, ...]) -> RunnerRegistration:
        d = self.api.answer("GET", f"{self._r}/actions/runners/registration-token", what="mint a runner token")
        return RunnerRegistration(d.str("token"), self.web_url.rsplit("/", 2)[0], "registration")

    def list_runners(self) -> list[Runner]:
        raise unsupported("gitea", "listing runners through the API")

    def remove_runner(self, runner_id: str) -> None:
        raise unsupported("gitea", "removing runners through the API")

    def close(self) -> None:
        self.api.close()
