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
from tide.forge.answer import Answer
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
                for n in disc.objs("notes", []):
                    if not n.flag("system"):
                        out.append(self._note(target, n, f"{disc.id('id')}:"))
            return sorted(out, key=lambda c: (c.created, c.id))
        items = self.api.pages(self._notes_path(target), params={"per_page": 100, "sort": "asc",
                                                                  "order_by": "created_at"},
                               what="list notes")
        return [self._note(target, n) for n in items if not n.flag("system")]

    def _note(self, target: Target, n: Answer, disc: str = "", comment_id: str = "") -> Comment:
        """A note as a Comment; on commits its id is ``DISCUSSION:NOTE`` (``disc`` holds the prefix)."""
        note_id = n.id("id")
        return Comment(comment_id or disc + note_id, n.str("body", ""), self._note_url(target, note_id),
                       n.str("created_at", ""))

    def create_comment(self, target: Target, body: str) -> Comment:
        if target.kind == "commit":
            d = self.api.answer("POST", f"{self._p}/repository/commits/{target.ref}/discussions",
                                json={"body": body}, what="comment on a commit")
            notes = d.objs("notes")
            if not notes:
                raise ForgeError("gitlab: comment on a commit: unexpected answer from the API: 'notes' is empty")
            return self._note(target, notes[0], f"{d.id('id')}:")
        n = self.api.answer("POST", self._notes_path(target), json={"body": body}, what=f"comment on {target}")
        return self._note(target, n)

    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment:
        if target.kind == "commit":
            disc, note = comment.id.split(":")
            n = self.api.answer("PUT", f"{self._p}/repository/commits/{target.ref}/discussions/{disc}/notes/{note}",
                                json={"body": body}, what="update a commit comment")
            return self._note(target, n, comment_id=comment.id)
        n = self.api.answer("PUT", f"{self._notes_path(target)}/{comment.id}", json={"body": body},
                            what=f"update note {comment.id}")
        return self._note(target, n)

    # --- merge requests ---------------------------------------------------------------------
    @staticmethod
    def _mr(d: Answer) -> PullRequest:
        return PullRequest(d.int("iid"), d.str("web_url"), d.str("source_branch"), d.str("target_branch"),
                           d.str("title", ""), STATE.get(d.str("state", "opened"), "open"), d.str("sha", ""))

    def prs_for_commit(self, sha: str) -> list[PullRequest]:
        items = self.api.pages(f"{self._p}/repository/commits/{sha}/merge_requests", params={"per_page": 100},
                               what="find merge requests of a commit")
        return sorted((self._mr(d) for d in items if d.str("state", "") == "opened"), key=lambda p: p.number)

    def find_pr(self, source: str, target: str) -> PullRequest | None:
        items = self.api.pages(f"{self._p}/merge_requests", params={
            "state": "opened", "source_branch": source, "target_branch": target, "per_page": 100},
            what="list merge requests")
        for d in items:
            mr = self._mr(d)
            if mr.source == source and mr.target == target:
                return mr
        return None

    def create_pr(self, source: str, target: str, title: str, body: str) -> PullRequest:
        return self._mr(self.api.answer("POST", f"{self._p}/merge_requests", json={
            "source_branch": source, "target_branch": target, "title": title, "description": body},
            what="create merge request"))

    def update_pr(self, pr: PullRequest, title: str, body: str) -> PullRequest:
        return self._mr(self.api.answer("PUT", f"{self._p}/merge_requests/{pr.number}",
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
                d = self.api.answer_of(resp, f"set auto-merge on !{pr.number}")
                return "merged" if d.str("state", "") == "merged" else "auto"
        self.api.json("PUT", path, json=payload, what=f"merge !{pr.number}")
        return "merged"

    # --- files and checks -------------------------------------------------------------------
    def upload(self, name: str, data: bytes, mime: str, target: Target | None = None) -> Upload:
        d = self.api.answer("POST", f"{self._p}/uploads", files={"file": (name, data, mime)}, what=f"upload {name}")
        # the relative /uploads/... URL renders inside notes of this project; make it absolute for elsewhere
        url = d.str("url", "")
        return Upload(url if url.startswith("/uploads/") else d.str("full_path", url), name)

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
        proj = self.api.answer("GET", self._p, what="read the project")
        d = self.api.answer("POST", "/user/runners", json={
            "runner_type": "project_type", "project_id": proj.int("id"), "description": name,
            "tag_list": ",".join(labels), "run_untagged": not labels}, what="create a runner")
        return RunnerRegistration(d.str("token"), self.web_base, "authentication", d.str("token_expires_at", ""),
                                  d.id("id"))

    def list_runners(self) -> list[Runner]:
        out = []
        for r in self.api.pages(f"{self._p}/runners", params={"per_page": 100}, what="list runners"):
            rid = r.id("id")
            detail = self.api.answer("GET", f"/runners/{rid}", what="read a runner")
            jobs = self.api.json("GET", f"/runners/{rid}/jobs", params={"status": "running", "per_page": 1},
                                 what="list a runner's jobs")
            out.append(Runner(rid, r.str("description", "") or r.str("name", ""),
                              tuple(detail.strs("tag_list")), r.str("status", "") == "online", bool(jobs)))
        return out

    def remove_runner(self, runner_id: str) -> None:
        self.api.request("DELETE", f"/runners/{runner_id}", what=f"remove runner {runner_id}")

    def close(self) -> None:
        self.api.close()
