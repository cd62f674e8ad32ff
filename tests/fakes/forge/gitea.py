"""A stateful fake of the Gitea/Forgejo API v1 (docs.gitea.com/api), the endpoints tide uses.

Auth: ``Authorization: token <t>``; a bad token answers 401 ``{"message": "token is required",
"url": ...}``. Rate limit: 429 with ``Retry-After``. Pagination: ``page``/``limit`` with ``Link``
and ``X-Total-Count`` headers (default page size 30 here, like ``[api].DEFAULT_PAGING_NUM``).
"""

from __future__ import annotations

from .server import FakeForge, Reply, multipart_file

API_DOCS = "https://gitea.example/api/swagger"


class FakeGitea(FakeForge):
    def setup(self) -> None:
        self.repo = "org/demo"
        self.comments: dict[int, dict] = {}
        self.pulls: dict[int, dict] = {}
        self.statuses: list[dict] = []
        self.attachments: dict[str, bytes] = {}
        self.next_number = 0
        r = r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)"
        self.route("GET", r + r"/issues/(?P<n>\d+)/comments", self.list_comments)
        self.route("POST", r + r"/issues/(?P<n>\d+)/comments", self.create_comment)
        self.route("PATCH", r + r"/issues/comments/(?P<id>\d+)", self.update_comment)
        self.route("GET", r + r"/pulls", self.list_pulls)
        self.route("POST", r + r"/pulls", self.create_pull)
        self.route("GET", r + r"/pulls/(?P<n>\d+)", self.get_pull)
        self.route("PATCH", r + r"/pulls/(?P<n>\d+)", self.update_pull)
        self.route("POST", r + r"/pulls/(?P<n>\d+)/merge", self.merge_pull)
        self.route("POST", r + r"/issues/(?P<n>\d+)/assets", self.attach)
        self.route("POST", r + r"/statuses/(?P<sha>\w+)", self.status)
        self.route("GET", r + r"/actions/runners/registration-token", self.runner_token)

    def authorized(self, headers: dict) -> bool:
        return headers.get("authorization") == f"token {self.token}"

    def unauthorized(self) -> Reply:
        return Reply(401, {"message": "token is required", "url": API_DOCS})

    def rate_limited(self) -> Reply:
        return Reply(429, {"message": "rate limit exceeded", "url": API_DOCS}, {"Retry-After": "1"})

    def not_found(self) -> Reply:
        return Reply(404, {"errors": ["not found"], "message": "The target couldn't be found.", "url": API_DOCS})

    def web(self, path: str) -> str:
        return f"https://gitea.example/{self.repo}/{path}"

    def _paged(self, items, q, path):
        chunk, page, _, last = self.page(items, q, path)
        headers = {"X-Total-Count": str(len(items)), **self.link_header(path, q, page, last)}
        return Reply(200, chunk, headers)

    def _exists(self, n: str) -> bool:
        return int(n) in self.pulls or int(n) >= 900

    def list_comments(self, m, q, d):
        if not self._exists(m["n"]):
            return self.not_found()
        items = [c for c in sorted(self.comments.values(), key=lambda c: c["id"]) if c["issue"] == m["n"]]
        return self._paged([{k: v for k, v in c.items() if k != "issue"} for c in items], q, m.group(0))

    def create_comment(self, m, q, d):
        if not self._exists(m["n"]):
            return self.not_found()
        if not d.get("body"):
            return Reply(422, {"message": "[Body]: Required", "url": API_DOCS})
        cid = self.new_id()
        c = {"id": cid, "issue": m["n"], "body": d["body"], "html_url": self.web(f"pulls/{m['n']}#issuecomment-{cid}"),
             "created_at": "2024-01-01T00:00:00Z"}
        self.comments[cid] = c
        return Reply(201, {k: v for k, v in c.items() if k != "issue"})

    def update_comment(self, m, q, d):
        c = self.comments.get(int(m["id"]))
        if c is None:
            return self.not_found()
        c["body"] = d["body"]
        return Reply(200, {k: v for k, v in c.items() if k != "issue"})

    def _pull(self, p):
        merged = p["state"] == "closed" and p.get("merged", False)
        return {"number": p["number"], "html_url": self.web(f"pulls/{p['number']}"), "state": p["state"],
                "title": p["title"], "body": p["body"], "merged": merged,
                "head": {"ref": p["head"], "sha": self.branch_sha(p["head"]) if not merged else p["merge_sha"]},
                "base": {"ref": p["base"], "sha": self.branch_sha(p["base"])}}

    def list_pulls(self, m, q, d):
        items = [self._pull(p) for p in sorted(self.pulls.values(), key=lambda p: p["number"])
                 if q.get("state", "open") in ("all", p["state"])]
        return self._paged(items, q, m.group(0))

    def create_pull(self, m, q, d):
        if not self.branch_sha(d.get("head", "")):
            return self.not_found()
        for p in self.pulls.values():
            if p["state"] == "open" and p["head"] == d["head"] and p["base"] == d["base"]:
                return Reply(409, {"message": f"pull request already exists for these targets [id: {p['number']}]",
                                   "url": API_DOCS})
        self.next_number += 1
        p = {"number": self.next_number, "head": d["head"], "base": d["base"], "title": d.get("title", ""),
             "body": d.get("body", ""), "state": "open"}
        self.pulls[p["number"]] = p
        return Reply(201, self._pull(p))

    def get_pull(self, m, q, d):
        p = self.pulls.get(int(m["n"]))
        return Reply(200, self._pull(p)) if p else self.not_found()

    def update_pull(self, m, q, d):
        p = self.pulls.get(int(m["n"]))
        if not p:
            return self.not_found()
        p.update({k: v for k, v in d.items() if k in ("title", "body")})
        return Reply(201, self._pull(p))

    def merge_pull(self, m, q, d):
        p = self.pulls.get(int(m["n"]))
        if not p:
            return self.not_found()
        if d.get("Do") not in ("merge", "rebase", "rebase-merge", "squash", "fast-forward-only", "manually-merged"):
            return Reply(422, {"message": "[Do]: Required", "url": API_DOCS})
        if d.get("merge_when_checks_succeed"):
            p["auto_merge"] = d["Do"]
            return Reply(200)
        src, dst = self.branch_sha(p["head"]), self.branch_sha(p["base"])
        if not self.contains(src, dst):
            return Reply(405, {"message": "Please try again later", "url": API_DOCS})
        self.git("update-ref", f"refs/heads/{p['base']}", src, dst)
        p.update(state="closed", merged=True, merge_sha=src)
        return Reply(200)

    def attach(self, m, q, d):
        if not self._exists(m["n"]):
            return self.not_found()
        name, content = multipart_file(d)
        uuid = f"{self.new_id():032x}"
        self.attachments[uuid] = content
        return Reply(201, {"id": self.next_id, "name": q.get("name", name), "size": len(content), "uuid": uuid,
                           "browser_download_url": f"https://gitea.example/attachments/{uuid}"})

    def status(self, m, q, d):
        if d.get("state") not in ("pending", "success", "error", "failure", "warning"):
            return Reply(422, {"message": "[State]: invalid", "url": API_DOCS})
        self.statuses.append({"sha": m["sha"], **d})
        return Reply(201, {"id": self.new_id(), **d})

    def runner_token(self, m, q, d):
        return Reply(200, {"token": f"gitea-runner-{self.new_id()}"})
