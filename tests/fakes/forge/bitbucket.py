"""A stateful fake of Bitbucket Cloud REST API 2.0 (developer.atlassian.com/cloud/bitbucket/rest).

Auth: ``Authorization: Bearer <token>`` or ``Basic base64(user:app_password)``; a bad one answers
401 ``{"type": "error", "error": {"message": "Unauthorized"}}``. Rate limit: 429 with
``Retry-After``. Pagination: ``pagelen``/``page`` with a ``next`` URL in the page body.
"""

from __future__ import annotations

import re

from .server import FakeForge, Reply, multipart_file


def err(status: int, message: str) -> Reply:
    return Reply(status, {"type": "error", "error": {"message": message}})


class FakeBitbucket(FakeForge):
    per_page = 10

    def setup(self) -> None:
        self.repo = "work/demo"
        self.comments: dict[int, dict] = {}
        self.pulls: dict[int, dict] = {}
        self.statuses: list[dict] = []
        self.downloads: dict[str, bytes] = {}
        self.next_number = 0
        r = r"/repositories/(?P<w>[^/]+)/(?P<s>[^/]+)"
        kinds = r"(?P<k>pullrequests|issues|commit)/(?P<ref>\w+)"
        self.route("GET", r + "/" + kinds + r"/comments", self.list_comments)
        self.route("POST", r + "/" + kinds + r"/comments", self.create_comment)
        self.route("PUT", r + "/" + kinds + r"/comments/(?P<id>\d+)", self.update_comment)
        self.route("GET", r + r"/commit/(?P<sha>\w+)/pullrequests", self.commit_pulls)
        self.route("GET", r + r"/pullrequests", self.list_pulls)
        self.route("POST", r + r"/pullrequests", self.create_pull)
        self.route("PUT", r + r"/pullrequests/(?P<n>\d+)", self.update_pull)
        self.route("POST", r + r"/pullrequests/(?P<n>\d+)/merge", self.merge_pull)
        self.route("POST", r + r"/downloads", self.upload)
        self.route("POST", r + r"/commit/(?P<sha>\w+)/statuses/build", self.status)

    def authorized(self, headers: dict) -> bool:
        import base64

        auth = headers.get("authorization", "")
        return auth in (f"Bearer {self.token}", "Basic " + base64.b64encode(f"bot:{self.token}".encode()).decode())

    def unauthorized(self) -> Reply:
        return err(401, "Unauthorized")

    def rate_limited(self) -> Reply:
        return Reply(429, {"type": "error", "error": {"message": "Rate limit for this resource has been exceeded"}},
                     {"Retry-After": "1"})

    def not_found(self) -> Reply:
        return err(404, "Resource not found")

    def web(self, path: str) -> str:
        return f"https://bitbucket.example/{self.repo}/{path}"

    def _paged(self, items, q, path):
        chunk, page, per, last = self.page(items, q, path)
        body = {"pagelen": per, "size": len(items), "page": page, "values": chunk}
        if page < last:
            qs = "&".join(f"{k}={v}" for k, v in {**q, "page": page + 1}.items())
            body["next"] = f"{self.base_url}{path}?{qs}"
        return Reply(200, body)

    def _target_ok(self, m) -> bool:
        return m["k"] != "pullrequests" or int(m["ref"]) in self.pulls

    def list_comments(self, m, q, d):
        if not self._target_ok(m):
            return self.not_found()
        items = [c for c in sorted(self.comments.values(), key=lambda c: c["id"]) if c["t"] == (m["k"], m["ref"])]
        return self._paged([{k: v for k, v in c.items() if k != "t"} for c in items], q, m.group(0))

    def create_comment(self, m, q, d):
        if not self._target_ok(m):
            return self.not_found()
        raw = ((d or {}).get("content") or {}).get("raw")
        if not raw:
            return err(400, "content.raw: This field is required.")
        cid = self.new_id()
        c = {"id": cid, "t": (m["k"], m["ref"]), "type": f"{m['k'][:-1]}_comment", "content": {"raw": raw},
             "deleted": False, "created_on": f"2024-01-01T00:00:{cid % 60:02d}+00:00",
             "links": {"html": {"href": self.web(f"{m['k']}/{m['ref']}#comment-{cid}")}}}
        self.comments[cid] = c
        return Reply(201, {k: v for k, v in c.items() if k != "t"})

    def update_comment(self, m, q, d):
        c = self.comments.get(int(m["id"]))
        if c is None or c["t"] != (m["k"], m["ref"]):
            return self.not_found()
        c["content"] = {"raw": d["content"]["raw"]}
        return Reply(200, {k: v for k, v in c.items() if k != "t"})

    def _pull(self, p):
        head = self.branch_sha(p["source"]) if p["state"] == "OPEN" else p.get("merge_sha", "")
        return {"id": p["id"], "title": p["title"], "description": p["description"], "state": p["state"],
                "links": {"html": {"href": self.web(f"pull-requests/{p['id']}")}},
                "source": {"branch": {"name": p["source"]}, "commit": {"hash": head[:12]}},
                "destination": {"branch": {"name": p["destination"]}}}

    def commit_pulls(self, m, q, d):
        items = [self._pull(p) for p in self.pulls.values()
                 if self.branch_sha(p["source"]) and self.contains(self.branch_sha(p["source"]), m["sha"])
                 and not self.contains(self.branch_sha(p["destination"]), m["sha"])]
        return self._paged(items, q, m.group(0))

    def list_pulls(self, m, q, d):
        conds = dict(re.findall(r'(\w+(?:\.\w+)*)\s*=\s*"([^"]*)"', q.get("q", "")))
        state = conds.get("state", q.get("state", "OPEN"))
        items = [self._pull(p) for p in sorted(self.pulls.values(), key=lambda p: p["id"])
                 if p["state"] == state
                 and conds.get("source.branch.name", p["source"]) == p["source"]
                 and conds.get("destination.branch.name", p["destination"]) == p["destination"]]
        return self._paged(items, q, m.group(0))

    def create_pull(self, m, q, d):
        src = d["source"]["branch"]["name"]
        dst = (d.get("destination") or {}).get("branch", {}).get("name", "main")
        if not d.get("title"):
            return err(400, "title: This field is required.")
        if not self.branch_sha(src):
            return err(400, f"source: Branch not found: {src}")
        for p in self.pulls.values():
            if p["state"] == "OPEN" and p["source"] == src and p["destination"] == dst:
                return err(400, "There are no changes to be pulled")  # Bitbucket's answer to duplicate PRs
        self.next_number += 1
        p = {"id": self.next_number, "title": d["title"], "description": d.get("description", ""),
             "source": src, "destination": dst, "state": "OPEN"}
        self.pulls[p["id"]] = p
        return Reply(201, self._pull(p))

    def update_pull(self, m, q, d):
        p = self.pulls.get(int(m["n"]))
        if not p:
            return self.not_found()
        p.update({k: v for k, v in d.items() if k in ("title", "description")})
        return Reply(200, self._pull(p))

    def merge_pull(self, m, q, d):
        p = self.pulls.get(int(m["n"]))
        if not p:
            return self.not_found()
        if d.get("merge_strategy") not in ("merge_commit", "squash", "fast_forward"):
            return err(400, "merge_strategy: invalid")
        src, dst = self.branch_sha(p["source"]), self.branch_sha(p["destination"])
        if not self.contains(src, dst):
            return err(555, "Merge conflict")
        self.git("update-ref", f"refs/heads/{p['destination']}", src, dst)
        p.update(state="MERGED", merge_sha=src, strategy=d["merge_strategy"])
        return Reply(200, self._pull(p))

    def upload(self, m, q, d):
        name, content = multipart_file(d)
        self.downloads[name] = content
        return Reply(201)

    def status(self, m, q, d):
        if d.get("state") not in ("SUCCESSFUL", "FAILED", "INPROGRESS", "STOPPED") or not d.get("url"):
            return err(400, "state or url: invalid")
        self.statuses.append({"sha": m["sha"], **d})
        return Reply(201, d)
