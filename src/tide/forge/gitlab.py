"""GitLab (gitlab.com and self-hosted, including installs under a sub-path) through REST API v4.

API base: ``CI_API_V4_URL`` in GitLab CI, ``forge.api_url`` in tide.yaml, else found by probing
``<prefix>/api/v4/version`` for each path prefix of the repository URL (a GitLab at
``https://host/gitlab/group/project`` answers at ``/gitlab/api/v4``). Auth: ``PRIVATE-TOKEN``.

Commit comments go through the commit *discussions* API, whose notes can be edited (the plain
commit-comments API cannot edit, which is why CML refused to update them). Notes are listed
oldest first (``sort=asc``) over every page, so the newest watermarked note is the one updated.
"""

from __future__ import annotations

from tide.core.errors import ForgeError
from tide.forge.base import (
    Capabilities,
    Comment,
    PullRequest,
    Runner,
    RunnerRegistration,
    Target,
    Upload,
    check_state,
    summary_line,
)
from tide.forge.detect import project_id
from tide.forge.http import Api, forge_api, gitlab_next

STATE = {"opened": "open", "merged": "merged", "closed": "closed", "locked": "closed"}
STATUS = {"success": "success", "failure": "failed", "neutral": "success", "cancelled": "canceled",
          "skipped": "skipped", "timed_out": "failed", "action_required": "failed", "queued": "pending",
          "in_progress": "running"}


class GitLabForge:
    name = "gitlab"
    capabilities = Capabilities(
        pr_noun="merge request", commit_comments=True, commit_comment_update=True, native_upload=True,
        check_runs=False, commit_status=True, auto_merge=True, merge_methods=frozenset({"merge", "squash"}),
        skip_ci_in_title=True, runner_tokens=True, runner_admin=True, runner_token_kind="authentication",
    )

    def __init__(self, *, repo: str, web_base: str, api_url: str, token: str, verify: bool = True) -> None:
        self._token = token
        self._verify = verify
        web_base = (web_base or "https://gitlab.com").rstrip("/")
        repo = repo.strip("/")
        if not api_url:
            web_base, repo, api_url = self._discover(web_base, repo)
        self.api = self._client(api_url)
        self.repo = repo
        self.web_base = web_base
        self.web_url = f"{web_base}/{repo}"
        self._p = f"/projects/{project_id(repo)}"

    def _client(self, api_url: str) -> Api:
        return forge_api("gitlab", api_url, {"PRIVATE-TOKEN": self._token}, secrets=(self._token,),
                         verify=self._verify, page_next=gitlab_next)

    def _discover(self, web_base: str, repo: str) -> tuple[str, str, str]:
        """Find the API under the host root or a sub-path: returns (web base, project path, API URL)."""
        parts = repo.split("/")
        for i in range(0, len(parts) - 1):
            prefix = "/".join(parts[:i])
            base = f"{web_base}/{prefix}".rstrip("/")
            api = self._client(f"{base}/api/v4")
            try:
                resp = api.request("GET", "/version", ok=(401, 403, 404), what="probe the API")
            finally:
                api.close()
            if resp.status_code == 404 or "json" not in resp.headers.get("content-type", ""):
                continue
            if resp.status_code == 401:
                raise ForgeError(f"gitlab: authentication failed (HTTP 401) at {base}/api/v4: check the token")
            return base, "/".join(parts[i:]), f"{base}/api/v4"
        raise ForgeError(f"gitlab: no GitLab API found for {web_base}/{repo} (set forge.api_url in tide.yaml)")

    def git_auth(self) -> tuple[str, str] | None:
        return ("oauth2", self._token)

    def commit_url(self, sha: str) -> str:
        return f"{self.web_url}/-/commit/{sha}"

    # --- comments ---------------------------------------------------------------------------
    def _notes_path(self, target: Target) -> str:
        kind = {"pr": "merge_requests", "issue": "issues"}[target.kind]
        return f"{self._p}/{kind}/{target.ref}/notes"

    def _note_url(self, target: Target, note_id: object) -> str:
        if target.kind == "commit":
            return f"{self.commit_url(target.ref)}#note_{note_id}"
        kind = {"pr": "merge_requests", "issue": "issues"}[target.kind]
        return f"{self.web_url}/-/{kind}/{target.ref}#note_{note_id}"

    def list_comments(self, target: Target) -> list[Comment]:
        if target.kind == "commit":
            out = []
            for disc in self.api.pages(f"{self._p}/repository/commits/{target.ref}/discussions",
                                       params={"per_page": 100}, what="list commit comments"):
                for n in disc.get("notes", []):
                    if not n.get("system"):
                        out.append(Comment(f"{disc['id']}:{n['id']}", n.get("body", ""),
                                           self._note_url(target, n["id"]), n.get("created_at", "")))
            return sorted(out, key=lambda c: (c.created, c.id))
        items = self.api.pages(self._notes_path(target), params={"per_page": 100, "sort": "asc",
                                                                  "order_by": "created_at"},
                               what="list notes")
        return [Comment(str(n["id"]), n.get("body", ""), self._note_url(target, n["id"]), n.get("created_at", ""))
                for n in items if not n.get("system")]

    def create_comment(self, target: Target, body: str) -> Comment:
        if target.kind == "commit":
            d = self.api.json("POST", f"{self._p}/repository/commits/{target.ref}/discussions", json={"body": body},
                              what="comment on a commit")
            n = d["notes"][0]
            return Comment(f"{d['id']}:{n['id']}", n["body"], self._note_url(target, n["id"]), n.get("created_at", ""))
        n = self.api.json("POST", self._notes_path(target), json={"body": body}, what=f"comment on {target}")
        return Comment(str(n["id"]), n["body"], self._note_url(target, n["id"]), n.get("created_at", ""))

    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment:
        if target.kind == "commit":
            disc, note = comment.id.split(":")
            n = self.api.json("PUT", f"{self._p}/repository/commits/{target.ref}/discussions/{disc}/notes/{note}",
                              json={"body": body}, what="update a commit comment")
            return Comment(comment.id, n["body"], self._note_url(target, n["id"]), n.get("created_at", ""))
        n = self.api.json("PUT", f"{self._notes_path(target)}/{comment.id}", json={"body": body},
                          what=f"update note {comment.id}")
        return Comment(str(n["id"]), n["body"], self._note_url(target, n["id"]), n.get("created_at", ""))

    # --- merge requests ---------------------------------------------------------------------
    @staticmethod
    def _mr(d: dict) -> PullRequest:
        return PullRequest(d["iid"], d["web_url"], d["source_branch"], d["target_branch"], d.get("title", ""),
                           STATE.get(d.get("state", "opened"), "open"), d.get("sha") or "")

    def prs_for_commit(self, sha: str) -> list[PullRequest]:
        items = self.api.pages(f"{self._p}/repository/commits/{sha}/merge_requests", params={"per_page": 100},
                               what="find merge requests of a commit")
        return sorted((self._mr(d) for d in items if d.get("state") == "opened"), key=lambda p: p.number)

    def find_pr(self, source: str, target: str) -> PullRequest | None:
        items = self.api.pages(f"{self._p}/merge_requests", params={
            "state": "opened", "source_branch": source, "target_branch": target, "per_page": 100},
            what="list merge requests")
        for d in items:
            if d["source_branch"] == source and d["target_branch"] == target:
                return self._mr(d)
        return None

    def create_pr(self, source: str, target: str, title: str, body: str) -> PullRequest:
        return self._mr(self.api.json("POST", f"{self._p}/merge_requests", json={
            "source_branch": source, "target_branch": target, "title": title, "description": body},
            what="create merge request"))

    def update_pr(self, pr: PullRequest, title: str, body: str) -> PullRequest:
        return self._mr(self.api.json("PUT", f"{self._p}/merge_requests/{pr.number}",
                                      json={"title": title, "description": body},
                                      what=f"update merge request !{pr.number}"))

    def merge_pr(self, pr: PullRequest, method: str, auto: bool) -> str:
        if method not in self.capabilities.merge_methods:
            raise ForgeError("gitlab: the project's merge method decides about rebasing: use --merge or --squash")
        path = f"{self._p}/merge_requests/{pr.number}/merge"
        payload = {"squash": method == "squash"}
        if auto:
            resp = self.api.request("PUT", path, json={**payload, "merge_when_pipeline_succeeds": True,
                                                       "auto_merge": True}, ok=(405, 406, 422),
                                    what=f"set auto-merge on !{pr.number}")
            if resp.is_success:
                d = resp.json()
                return "merged" if d.get("state") == "merged" else "auto"
        self.api.json("PUT", path, json=payload, what=f"merge !{pr.number}")
        return "merged"

    # --- files and checks -------------------------------------------------------------------
    def upload(self, name: str, data: bytes, mime: str, target: Target | None = None) -> Upload:
        d = self.api.json("POST", f"{self._p}/uploads", files={"file": (name, data, mime)}, what=f"upload {name}")
        # the relative /uploads/... URL renders inside notes of this project; make it absolute for elsewhere
        url = d.get("url", "")
        return Upload(url if url.startswith("/uploads/") else d.get("full_path", url), name)

    def create_check(self, sha: str, title: str, summary: str, conclusion: str, status: str = "completed") -> str:
        shown = conclusion if status == "completed" else status
        note = self.create_comment(Target("commit", sha), f"**{title}**: {shown}\n\n{summary}")
        self.api.json("POST", f"{self._p}/statuses/{sha}", json={
            "state": check_state(STATUS, conclusion, status),
            "name": title, "description": summary_line(summary, conclusion),
            "target_url": note.url},
            what="set commit status")
        return note.url

    # --- runners ----------------------------------------------------------------------------
    def runner_registration(self, name: str, labels: tuple[str, ...]) -> RunnerRegistration:
        proj = self.api.json("GET", self._p, what="read the project")
        d = self.api.json("POST", "/user/runners", json={
            "runner_type": "project_type", "project_id": proj["id"], "description": name,
            "tag_list": ",".join(labels), "run_untagged": not labels}, what="create a runner")
        return RunnerRegistration(d["token"], self.web_base, "authentication", d.get("token_expires_at") or "",
                                  str(d["id"]))

    def list_runners(self) -> list[Runner]:
        out = []
        for r in self.api.pages(f"{self._p}/runners", params={"per_page": 100}, what="list runners"):
            detail = self.api.json("GET", f"/runners/{r['id']}", what="read a runner")
            jobs = self.api.json("GET", f"/runners/{r['id']}/jobs", params={"status": "running", "per_page": 1})
            out.append(Runner(str(r["id"]), r.get("description") or r.get("name") or "",
                              tuple(detail.get("tag_list", [])), r.get("status") == "online", bool(jobs)))
        return out

    def remove_runner(self, runner_id: str) -> None:
        self.api.request("DELETE", f"/runners/{runner_id}", what=f"remove runner {runner_id}")

    def close(self) -> None:
        self.api.close()
