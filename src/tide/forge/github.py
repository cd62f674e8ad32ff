"""GitHub (github.com and GitHub Enterprise Server) through the REST API v3 and one GraphQL mutation.

API base: ``https://api.github.com``, or ``https://<host>/api/v3`` on Enterprise Server (GraphQL
at ``/api/graphql``). Uploads: GitHub has no upload API, so files are committed through the
contents API to the repository's ``tide-assets`` branch (content-addressed paths) and linked
with ``?raw=true``; they stay as private as the repository.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

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
    unsupported,
)
from tide.forge.http import forge_api

ASSETS_BRANCH = "tide-assets"
AUTO_MERGE_FALLBACK = ("clean status", "can't enable auto-merge", "protected branch rules not configured",
                       "auto merge is not allowed", "pull request is in clean status")


class GitHubForge:
    name = "github"
    capabilities = Capabilities(
        commit_comments=True, commit_comment_update=True, native_upload=True, check_runs=True, commit_status=True,
        auto_merge=True, merge_methods=frozenset({"merge", "rebase", "squash"}), runner_tokens=True,
        runner_admin=True, runner_token_kind="registration",
    )

    def __init__(self, *, repo: str, web_base: str, api_url: str, token: str, verify: bool = True) -> None:
        check_repo("github", repo)
        self.repo = repo
        web_base = (web_base or "https://github.com").rstrip("/")
        if not api_url:
            api_url = "https://api.github.com" if web_base == "https://github.com" else f"{web_base}/api/v3"
        self.api_url = api_url.rstrip("/")
        self.graphql_url = (
            self.api_url[: -len("/api/v3")] + "/api/graphql" if self.api_url.endswith("/api/v3")
            else self.api_url + "/graphql"
        )
        self.web_url = f"{web_base}/{repo}"
        self._token = token
        self.api = forge_api(
            "github", self.api_url,
            {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
             "X-GitHub-Api-Version": "2022-11-28"},
            secrets=(token,), verify=verify,
        )
        self._base = f"/repos/{repo}"

    def git_auth(self) -> tuple[str, str] | None:
        return ("x-access-token", self._token)

    def commit_url(self, sha: str) -> str:
        return f"{self.web_url}/commit/{sha}"

    # --- comments ---------------------------------------------------------------------------
    def _comments_path(self, target: Target) -> str:
        if target.kind == "commit":
            return f"{self._base}/commits/{target.ref}/comments"
        return f"{self._base}/issues/{target.ref}/comments"

    @staticmethod
    def _comment(d: Answer) -> Comment:
        return Comment(d.id("id"), d.str("body", ""), d.str("html_url", ""), d.str("created_at", ""))

    def list_comments(self, target: Target) -> list[Comment]:
        items = self.api.pages(self._comments_path(target), params={"per_page": 100}, what="list comments")
        return [self._comment(d) for d in items]

    def create_comment(self, target: Target, body: str) -> Comment:
        return self._comment(self.api.answer("POST", self._comments_path(target), json={"body": body},
                                             what=f"comment on {target}"))

    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment:
        path = f"{self._base}/comments/{comment.id}" if target.kind == "commit" else \
            f"{self._base}/issues/comments/{comment.id}"
        return self._comment(self.api.answer("PATCH", path, json={"body": body}, what=f"update comment {comment.id}"))

    # --- pull requests ----------------------------------------------------------------------
    @staticmethod
    def _pr(d: Answer) -> PullRequest:
        state = "merged" if d.has("merged_at") else d.str("state", "open")
        head = d.obj("head")
        return PullRequest(d.int("number"), d.str("html_url"), head.str("ref"), d.obj("base").str("ref"),
                           d.str("title", ""), state, head.str("sha", ""), d.str("node_id", ""))

    def prs_for_commit(self, sha: str) -> list[PullRequest]:
        items = self.api.pages(f"{self._base}/commits/{sha}/pulls", params={"per_page": 100},
                               what="find pull requests of a commit")
        return sorted((self._pr(d) for d in items if d.str("state", "") == "open"), key=lambda p: p.number)

    def find_pr(self, source: str, target: str) -> PullRequest | None:
        owner = self.repo.split("/")[0]
        items = self.api.pages(f"{self._base}/pulls", params={"state": "open", "head": f"{owner}:{source}",
                                                               "base": target, "per_page": 100},
                               what="list pull requests")
        for d in items:
            pr = self._pr(d)
            if pr.source == source and pr.target == target:
                return pr
        return None

    def create_pr(self, source: str, target: str, title: str, body: str) -> PullRequest:
        return self._pr(self.api.answer("POST", f"{self._base}/pulls",
                                        json={"head": source, "base": target, "title": title, "body": body},
                                        what="create pull request"))

    def update_pr(self, pr: PullRequest, title: str, body: str) -> PullRequest:
        return self._pr(self.api.answer("PATCH", f"{self._base}/pulls/{pr.number}",
                                        json={"title": title, "body": body}, what=f"update pull request #{pr.number}"))

    def merge_pr(self, pr: PullRequest, method: str, auto: bool) -> str:
        if auto:
            node = pr.node_id or self.api.answer("GET", f"{self._base}/pulls/{pr.number}",
                                                 what=f"read pull request #{pr.number}").str("node_id")
            query = ("mutation($id: ID!, $method: PullRequestMergeMethod!) { enablePullRequestAutoMerge("
                     "input: {pullRequestId: $id, mergeMethod: $method}) { clientMutationId } }")
            data = self.api.answer("POST", self.graphql_url, json={"query": query,
                                   "variables": {"id": node, "method": method.upper()}}, what="enable auto-merge")
            errors = data.list("errors", [])
            if not errors:
                return "auto"
            msg = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
            if not any(k in msg.lower() for k in AUTO_MERGE_FALLBACK):
                raise ForgeError(f"github: enable auto-merge failed: {msg}")
        self.api.json("PUT", f"{self._base}/pulls/{pr.number}/merge", json={"merge_method": method},
                      what=f"merge pull request #{pr.number}")
        return "merged"

    # --- files and checks -------------------------------------------------------------------
    def _ensure_assets_branch(self) -> None:
        resp = self.api.request("GET", f"{self._base}/git/ref/heads/{ASSETS_BRANCH}", ok=(404,))
        if resp.status_code != 404:
            return
        # an orphan branch holding only a README, so the assets never mix with the project's tree
        blob = self.api.answer("POST", f"{self._base}/git/blobs", json={
            "content": "Files published by tide for reports (tide asset publish).\n", "encoding": "utf-8"},
            what="create the assets branch")
        tree = self.api.answer("POST", f"{self._base}/git/trees", json={
            "tree": [{"path": "README.md", "mode": "100644", "type": "blob", "sha": blob.str("sha")}]},
            what="create the assets branch")
        commit = self.api.answer("POST", f"{self._base}/git/commits", json={
            "message": "tide assets", "tree": tree.str("sha"), "parents": []}, what="create the assets branch")
        self.api.request("POST", f"{self._base}/git/refs", ok=(422,), json={
            "ref": f"refs/heads/{ASSETS_BRANCH}", "sha": commit.str("sha")}, what="create the assets branch")

    def upload(self, name: str, data: bytes, mime: str, target: Target | None = None) -> Upload:
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        path = f"{digest[:2]}/{digest}/{name}"
        url = f"{self.web_url}/blob/{ASSETS_BRANCH}/{quote(path)}?raw=true"
        api_path = f"{self._base}/contents/{quote(path)}"
        if self.api.request("GET", api_path, params={"ref": ASSETS_BRANCH}, ok=(404,)).status_code == 200:
            return Upload(url, name)
        self._ensure_assets_branch()
        self.api.json("PUT", api_path, json={
            "message": f"tide asset {name}", "branch": ASSETS_BRANCH,
            "content": base64.b64encode(data).decode()}, what=f"upload {name}")
        return Upload(url, name)

    def create_check(self, sha: str, title: str, summary: str, conclusion: str, status: str = "completed") -> str:
        if len(summary) > 65535:
            summary = summary[:65000] + "\n\n… (truncated: GitHub keeps 65535 characters)"
        body = {"name": title, "head_sha": sha, "status": status, "output": {"title": title, "summary": summary}}
        if status == "completed":  # GitHub: a conclusion marks the run completed, so only then
            body["conclusion"] = conclusion
        d = self.api.answer("POST", f"{self._base}/check-runs", json=body, what="create check run")
        return d.str("html_url", "") or d.str("url", "")

    # --- runners ----------------------------------------------------------------------------
    def runner_registration(self, name: str, labels: tuple[str, ...]) -> RunnerRegistration:
        d = self.api.answer("POST", f"{self._base}/actions/runners/registration-token",
                            what="mint a runner registration token")
        return RunnerRegistration(d.str("token"), self.web_url, "registration", d.str("expires_at", ""))

    def list_runners(self) -> list[Runner]:
        items = self.api.pages(f"{self._base}/actions/runners", params={"per_page": 100}, key="runners",
                               what="list runners")
        return [Runner(d.id("id"), d.str("name"), tuple(lab.str("name") for lab in d.objs("labels", [])),
                       d.str("status", "") == "online", d.flag("busy")) for d in items]

    def remove_runner(self, runner_id: str) -> None:
        self.api.request("DELETE", f"{self._base}/actions/runners/{runner_id}", what=f"remove runner {runner_id}")

    def close(self) -> None:
        self.api.close()


__all__ = ["GitHubForge", "unsupported"]
