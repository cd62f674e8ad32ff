"""A stateful fake of the GitHub REST API v3 (the endpoints tide uses), per docs.github.com/rest.

Served under ``/api/v3`` like GitHub Enterprise Server. Auth: ``Authorization: Bearer|token <t>``;
bad credentials answer 401 ``{"message": "Bad credentials", ...}``. Rate limits answer 403 with
``x-ratelimit-remaining: 0`` and ``Retry-After`` (secondary rate limit). Pagination: ``per_page``
(default 30, max 100) and ``page`` with RFC 8288 ``Link`` headers.
"""

from __future__ import annotations

import base64
import re

from .server import FakeForge, Reply

DOCS = "https://docs.github.com/rest"


class FakeGitHub(FakeForge):
    outside_prefix = ("/api/graphql",)

    def setup(self) -> None:
        self.repo = "octo/demo"
        self.comments: dict[int, dict] = {}      # id -> {"target": ("issue"|"commit", ref), ...}
        self.pulls: dict[int, dict] = {}
        self.checks: list[dict] = []
        self.runners: dict[int, dict] = {}
        self.contents: dict[tuple[str, str], bytes] = {}
        self.refs: set[str] = set()
        self.auto_merge_enabled: dict[int, str] = {}
        self.allow_auto_merge = True
        self.next_number = 0
        r = "/repos/(?P<o>[^/]+)/(?P<r>[^/]+)"
        self.route("GET", r + r"/issues/(?P<n>\d+)/comments", self.list_issue_comments)
        self.route("POST", r + r"/issues/(?P<n>\d+)/comments", self.create_issue_comment)
        self.route("PATCH", r + r"/issues/comments/(?P<id>\d+)", self.update_comment)
        self.route("GET", r + r"/commits/(?P<sha>\w+)/comments", self.list_commit_comments)
        self.route("POST", r + r"/commits/(?P<sha>\w+)/comments", self.create_commit_comment)
        self.route("PATCH", r + r"/comments/(?P<id>\d+)", self.update_comment)
        self.route("GET", r + r"/commits/(?P<sha>\w+)/pulls", self.commit_pulls)
        self.route("GET", r + r"/pulls", self.list_pulls)
        self.route("POST", r + r"/pulls", self.create_pull)
        self.route("GET", r + r"/pulls/(?P<n>\d+)", self.get_pull)
        self.route("PATCH", r + r"/pulls/(?P<n>\d+)", self.update_pull)
        self.route("PUT", r + r"/pulls/(?P<n>\d+)/merge", self.merge_pull)
        self.route("POST", r + r"/check-runs", self.create_check)
        self.route("POST", r + r"/actions/runners/registration-token", self.registration_token)
        self.route("GET", r + r"/actions/runners", self.list_runners)
        self.route("DELETE", r + r"/actions/runners/(?P<id>\d+)", self.delete_runner)
        self.route("GET", r + r"/contents/(?P<path>.+)", self.get_contents)
        self.route("PUT", r + r"/contents/(?P<path>.+)", self.put_contents)
        self.route("GET", r + r"/git/ref/heads/(?P<b>.+)", self.get_ref)
        self.route("POST", r + r"/git/(?P<kind>blobs|trees|commits)", self.git_object)
        self.route("POST", r + r"/git/refs", self.create_ref)
        self.route("POST", r"(/api)?/graphql", self.graphql)

    # protocol ---------------------------------------------------------------------------------
    def authorized(self, headers: dict) -> bool:
        return headers.get("authorization", "") in (f"Bearer {self.token}", f"token {self.token}")

    def unauthorized(self) -> Reply:
        return Reply(401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})

    def rate_limited(self) -> Reply:
        return Reply(403, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes.",
                           "documentation_url": DOCS}, {"Retry-After": "1", "x-ratelimit-remaining": "0"})

    def not_found(self) -> Reply:
        return Reply(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

    def web(self, path: str) -> str:
        return f"https://github.example/{self.repo}/{path}"

    def _check_repo(self, m) -> Reply | None:
        if f"{m['o']}/{m['r']}" != self.repo:
            return self.not_found()
        return None

    # comments ---------------------------------------------------------------------------------
    def _list(self, target, query, path):
        items = [c["json"] for c in sorted(self.comments.values(), key=lambda c: c["json"]["id"])
                 if c["target"] == target]
        chunk, page, _, last = self.page(items, query, path)
        return Reply(200, chunk, self.link_header(path, query, page, last))

    def _create(self, target, data, url):
        if not data or not isinstance(data.get("body"), str) or not data["body"]:
            return Reply(422, {"message": "Validation Failed", "errors": [{"resource": "IssueComment",
                               "code": "missing_field", "field": "body"}], "documentation_url": DOCS})
        cid = self.new_id()
        j = {"id": cid, "body": data["body"], "html_url": f"{url}#issuecomment-{cid}",
             "created_at": f"2024-01-01T00:00:{cid % 60:02d}Z", "user": {"login": "bot"}}
        self.comments[cid] = {"target": target, "json": j}
        return Reply(201, j)

    def list_issue_comments(self, m, q, d):
        if (n := int(m["n"])) not in self.pulls and n < 900:
            return self.not_found()
        return self._check_repo(m) or self._list(("issue", m["n"]), q, m.group(0))

    def create_issue_comment(self, m, q, d):
        if (n := int(m["n"])) not in self.pulls and n < 900:
            return self.not_found()
        return self._check_repo(m) or self._create(("issue", m["n"]), d, self.web(f"pull/{m['n']}"))

    def list_commit_comments(self, m, q, d):
        return self._check_repo(m) or self._list(("commit", m["sha"]), q, m.group(0))

    def create_commit_comment(self, m, q, d):
        return self._check_repo(m) or self._create(("commit", m["sha"]), d, self.web(f"commit/{m['sha']}"))

    def update_comment(self, m, q, d):
        c = self.comments.get(int(m["id"]))
        if c is None:
            return self.not_found()
        kind = "commit" if "/issues/" not in m.group(0) else "issue"
        if c["target"][0] != kind:
            return self.not_found()
        c["json"]["body"] = d["body"]
        return Reply(200, c["json"])

    # pulls ------------------------------------------------------------------------------------
    def _pull_json(self, p):
        head_sha = self.branch_sha(p["head"]) if p["state"] == "open" else p.get("merge_sha", "")
        return {"number": p["number"], "html_url": self.web(f"pull/{p['number']}"), "state": p["state"],
                "title": p["title"], "body": p["body"], "node_id": f"PR_{p['number']}",
                "merged_at": p.get("merged_at"), "head": {"ref": p["head"], "sha": head_sha},
                "base": {"ref": p["base"], "sha": self.branch_sha(p["base"])}}

    def commit_pulls(self, m, q, d):
        out = []
        for p in self.pulls.values():
            if p["state"] != "open":
                continue
            head, base = self.branch_sha(p["head"]), self.branch_sha(p["base"])
            if head and self.contains(head, m["sha"]) and not (base and self.contains(base, m["sha"])):
                out.append(self._pull_json(p))
        chunk, page, _, last = self.page(out, q, m.group(0))
        return Reply(200, chunk, self.link_header(m.group(0), q, page, last))

    def list_pulls(self, m, q, d):
        out = [self._pull_json(p) for p in sorted(self.pulls.values(), key=lambda p: p["number"])
               if q.get("state", "open") in ("all", p["state"])
               and (not q.get("head") or q["head"] == f"{m['o']}:{p['head']}")
               and (not q.get("base") or q["base"] == p["base"])]
        chunk, page, _, last = self.page(out, q, m.group(0))
        return Reply(200, chunk, self.link_header(m.group(0), q, page, last))

    def create_pull(self, m, q, d):
        for key in ("head", "base", "title"):
            if not d.get(key):
                return Reply(422, {"message": "Validation Failed", "errors": [
                    {"resource": "PullRequest", "code": "missing_field", "field": key}], "documentation_url": DOCS})
        if not self.branch_sha(d["head"]):
            return Reply(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": "head", "code": "invalid"}], "documentation_url": DOCS})
        for p in self.pulls.values():
            if p["state"] == "open" and p["head"] == d["head"] and p["base"] == d["base"]:
                return Reply(422, {"message": "Validation Failed", "errors": [{"resource": "PullRequest",
                    "code": "custom", "message": f"A pull request already exists for octo:{d['head']}."}],
                    "documentation_url": DOCS})
        self.next_number += 1
        p = {"number": self.next_number, "head": d["head"], "base": d["base"], "title": d["title"],
             "body": d.get("body", ""), "state": "open"}
        self.pulls[p["number"]] = p
        return Reply(201, self._pull_json(p))

    def get_pull(self, m, q, d):
        p = self.pulls.get(int(m["n"]))
        return Reply(200, self._pull_json(p)) if p else self.not_found()

    def update_pull(self, m, q, d):
        p = self.pulls.get(int(m["n"]))
        if not p:
            return self.not_found()
        p.update({k: v for k, v in d.items() if k in ("title", "body")})
        return Reply(200, self._pull_json(p))

    def merge_pull(self, m, q, d):
        p = self.pulls.get(int(m["n"]))
        if not p:
            return self.not_found()
        if p["state"] != "open":
            return Reply(405, {"message": "Pull Request is not mergeable", "documentation_url": DOCS})
        head, base = self.branch_sha(p["head"]), self.branch_sha(p["base"])
        if not self.contains(head, base):
            return Reply(405, {"message": "Pull Request is not mergeable", "documentation_url": DOCS})
        self.git("update-ref", f"refs/heads/{p['base']}", head, base)  # fast-forward stands in for a merge
        p.update(state="closed", merged_at="2024-01-01T00:00:00Z", merge_sha=head, method=d.get("merge_method"))
        return Reply(200, {"sha": head, "merged": True, "message": "Pull Request successfully merged"})

    def graphql(self, m, q, d):
        query = d.get("query", "")
        if "enablePullRequestAutoMerge" not in query:
            return Reply(200, {"errors": [{"message": "unsupported by the fake"}]})
        node, method = d["variables"]["id"], d["variables"]["method"]
        n = int(node.split("_")[1])
        if not self.allow_auto_merge:
            return Reply(200, {"data": {"enablePullRequestAutoMerge": None}, "errors": [
                {"type": "UNPROCESSABLE", "message": "Pull request Pull request is in clean status"}]})
        self.auto_merge_enabled[n] = method
        return Reply(200, {"data": {"enablePullRequestAutoMerge": {"clientMutationId": None}}})

    # checks, runners, contents -----------------------------------------------------------------
    def create_check(self, m, q, d):
        # docs: status queued|in_progress|completed (default queued); a conclusion is required when
        # completed and, when given, marks the run completed
        status = d.get("status", "queued")
        if status not in ("queued", "in_progress", "completed"):
            return Reply(422, {"message": "Invalid request.", "documentation_url": DOCS})
        if "conclusion" in d or status == "completed":
            if d.get("conclusion") not in ("success", "failure", "neutral", "cancelled", "skipped", "timed_out",
                                           "action_required"):
                return Reply(422, {"message": "Invalid request.", "documentation_url": DOCS})
            status = "completed"
        cid = self.new_id()
        self.checks.append({"id": cid, **d, "status": status})
        return Reply(201, {"id": cid, "html_url": self.web(f"runs/{cid}"), "status": status,
                           "conclusion": d.get("conclusion"), "name": d["name"], "head_sha": d["head_sha"]})

    def registration_token(self, m, q, d):
        return Reply(201, {"token": f"AABF3JGZDX3P5PMEXLND6TS{self.new_id()}",
                           "expires_at": "2030-01-22T12:13:35.123-08:00"})

    def list_runners(self, m, q, d):
        items = [self.runners[k] for k in sorted(self.runners)]
        chunk, page, _, last = self.page(items, q, m.group(0))
        return Reply(200, {"total_count": len(items), "runners": chunk}, self.link_header(m.group(0), q, page, last))

    def delete_runner(self, m, q, d):
        if int(m["id"]) not in self.runners:
            return self.not_found()
        del self.runners[int(m["id"])]
        return Reply(204)

    def add_runner(self, name: str, labels: list[str], status: str = "online", busy: bool = False) -> int:
        rid = self.new_id()
        self.runners[rid] = {"id": rid, "name": name, "os": "linux", "status": status, "busy": busy,
                             "labels": [{"id": i, "name": lab, "type": "custom"} for i, lab in enumerate(labels)]}
        return rid

    def get_contents(self, m, q, d):
        key = (q.get("ref", "main"), m["path"])
        if key not in self.contents:
            return self.not_found()
        return Reply(200, {"type": "file", "path": m["path"], "sha": "x",
                           "content": base64.b64encode(self.contents[key]).decode()})

    def put_contents(self, m, q, d):
        branch = d.get("branch", "main")
        if f"refs/heads/{branch}" not in self.refs:
            return Reply(404, {"message": f"Branch {branch} not found", "documentation_url": DOCS})
        self.contents[(branch, m["path"])] = base64.b64decode(d["content"])
        return Reply(201, {"content": {"path": m["path"], "sha": "y"}})

    def get_ref(self, m, q, d):
        ref = f"refs/heads/{m['b']}"
        return Reply(200, {"ref": ref, "object": {"sha": "c0ffee"}}) if ref in self.refs else self.not_found()

    def git_object(self, m, q, d):
        return Reply(201, {"sha": f"{m['kind']}{self.new_id()}"})

    def create_ref(self, m, q, d):
        if not re.match(r"^refs/heads/.+", d.get("ref", "")):
            return Reply(422, {"message": "Reference name is not valid", "documentation_url": DOCS})
        if d["ref"] in self.refs:
            return Reply(422, {"message": "Reference already exists", "documentation_url": DOCS})
        self.refs.add(d["ref"])
        return Reply(201, {"ref": d["ref"], "object": {"sha": d["sha"]}})
