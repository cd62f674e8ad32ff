"""A stateful fake of the GitLab REST API v4 (docs.gitlab.com/ee/api), served under a sub-path.

Auth: ``PRIVATE-TOKEN``; a bad token answers 401 ``{"message": "401 Unauthorized"}``. Rate
limits: 429 with ``Retry-After`` and ``RateLimit-*`` headers. Pagination: ``page``/``per_page``
with ``X-Next-Page``, ``X-Total-Pages`` and ``Link`` headers. Project ids are URL-encoded paths.
Notes default to newest first (GitLab's documented default ``sort=desc``), honouring ``sort=asc``.
"""

from __future__ import annotations

from urllib.parse import unquote

from .server import FakeForge, Reply, multipart_file


class FakeGitLab(FakeForge):
    def setup(self) -> None:
        self.project = "group/sub/demo"
        self.project_num = 42
        self.notes: dict[int, dict] = {}            # id -> {"target": (kind, ref), "json": {...}}
        self.discussions: dict[str, dict] = {}      # id -> {"sha", "notes": [ids]}
        self.mrs: dict[int, dict] = {}
        self.statuses: list[dict] = []
        self.uploads: dict[str, bytes] = {}
        self.runners: dict[int, dict] = {}
        self.has_pipeline = True
        self.next_iid = 0
        p = r"/projects/(?P<p>[^/]+)"
        self.route("GET", r"/version", lambda m, q, d: Reply(200, {"version": "16.11.0", "revision": "abc"}))
        self.route("GET", p, self.get_project)
        self.route("GET", p + r"/(?P<k>merge_requests|issues)/(?P<n>\d+)/notes", self.list_notes)
        self.route("POST", p + r"/(?P<k>merge_requests|issues)/(?P<n>\d+)/notes", self.create_note)
        self.route("PUT", p + r"/(?P<k>merge_requests|issues)/(?P<n>\d+)/notes/(?P<id>\d+)", self.update_note)
        self.route("GET", p + r"/repository/commits/(?P<sha>\w+)/discussions", self.list_discussions)
        self.route("POST", p + r"/repository/commits/(?P<sha>\w+)/discussions", self.create_discussion)
        self.route("PUT", p + r"/repository/commits/(?P<sha>\w+)/discussions/(?P<did>\w+)/notes/(?P<id>\d+)",
                   self.update_discussion_note)
        self.route("GET", p + r"/repository/commits/(?P<sha>\w+)/merge_requests", self.commit_mrs)
        self.route("GET", p + r"/merge_requests", self.list_mrs)
        self.route("POST", p + r"/merge_requests", self.create_mr)
        self.route("PUT", p + r"/merge_requests/(?P<n>\d+)", self.update_mr)
        self.route("PUT", p + r"/merge_requests/(?P<n>\d+)/merge", self.merge_mr)
        self.route("POST", p + r"/uploads", self.upload)
        self.route("POST", p + r"/statuses/(?P<sha>\w+)", self.status)
        self.route("GET", p + r"/runners", self.list_runners)
        self.route("POST", r"/user/runners", self.create_runner)
        self.route("GET", r"/runners/(?P<id>\d+)", self.get_runner)
        self.route("GET", r"/runners/(?P<id>\d+)/jobs", self.runner_jobs)
        self.route("DELETE", r"/runners/(?P<id>\d+)", self.delete_runner)

    def authorized(self, headers: dict) -> bool:
        return headers.get("private-token") == self.token

    def unauthorized(self) -> Reply:
        return Reply(401, {"message": "401 Unauthorized"})

    def rate_limited(self) -> Reply:
        return Reply(429, {"message": "Retry later"}, {"Retry-After": "1", "RateLimit-Remaining": "0"})

    def not_found(self) -> Reply:
        return Reply(404, {"message": "404 Not Found"})

    def web(self, path: str) -> str:
        return f"{self.base_url[: -len('/api/v4')]}/{self.project}/-/{path}"

    def _proj(self, m) -> bool:
        return unquote(m["p"]) in (self.project, str(self.project_num))

    def _paged(self, items, q, path) -> Reply:
        chunk, page, per, last = self.page(items, q, path)
        headers = {"X-Total-Pages": str(last), "X-Total": str(len(items)), "X-Page": str(page),
                   "X-Per-Page": str(per), "X-Next-Page": str(page + 1) if page < last else ""}
        headers.update(self.link_header(path, q, page, last))
        return Reply(200, chunk, headers)

    def get_project(self, m, q, d):
        if not self._proj(m):
            return Reply(404, {"message": "404 Project Not Found"})
        return Reply(200, {"id": self.project_num, "path_with_namespace": self.project, "web_url": self.web("")})

    # notes ------------------------------------------------------------------------------------
    def _note(self, body: str) -> dict:
        nid = self.new_id()
        return {"id": nid, "body": body, "system": False, "created_at": f"2024-01-01T00:{nid // 60 % 60:02d}:"
                f"{nid % 60:02d}.000Z", "author": {"username": "bot"}}

    def list_notes(self, m, q, d):
        if not self._proj(m) or (m["k"] == "merge_requests" and int(m["n"]) not in self.mrs):
            return Reply(404, {"message": "404 Not found"})
        items = [n["json"] for n in self.notes.values() if n["target"] == (m["k"], m["n"])]
        items.sort(key=lambda j: j["id"], reverse=q.get("sort", "desc") == "desc")
        return self._paged(items, q, m.group(0))

    def create_note(self, m, q, d):
        if not self._proj(m) or (m["k"] == "merge_requests" and int(m["n"]) not in self.mrs):
            return Reply(404, {"message": "404 Not found"})
        if not d or not d.get("body"):
            return Reply(400, {"message": "400 Bad request - Note {:note=>[\"can't be blank\"]}"})
        j = self._note(d["body"])
        self.notes[j["id"]] = {"target": (m["k"], m["n"]), "json": j}
        return Reply(201, j)

    def update_note(self, m, q, d):
        n = self.notes.get(int(m["id"]))
        if n is None or n["target"] != (m["k"], m["n"]):
            return Reply(404, {"message": "404 Note Not Found"})
        n["json"]["body"] = d["body"]
        return Reply(200, n["json"])

    def list_discussions(self, m, q, d):
        items = [{"id": did, "individual_note": True, "notes": [self.notes[i]["json"] for i in disc["notes"]]}
                 for did, disc in self.discussions.items() if disc["sha"] == m["sha"]]
        return self._paged(items, q, m.group(0))

    def create_discussion(self, m, q, d):
        j = self._note(d["body"])
        self.notes[j["id"]] = {"target": ("commit", m["sha"]), "json": j}
        did = f"{j['id']:040x}"
        self.discussions[did] = {"sha": m["sha"], "notes": [j["id"]]}
        return Reply(201, {"id": did, "individual_note": True, "notes": [j]})

    def update_discussion_note(self, m, q, d):
        disc = self.discussions.get(m["did"])
        if disc is None or int(m["id"]) not in disc["notes"]:
            return Reply(404, {"message": "404 Not found"})
        j = self.notes[int(m["id"])]["json"]
        j["body"] = d["body"]
        return Reply(200, j)

    # merge requests ---------------------------------------------------------------------------
    def _mr_json(self, mr):
        return {"iid": mr["iid"], "id": mr["iid"] + 5000, "web_url": self.web(f"merge_requests/{mr['iid']}"),
                "source_branch": mr["source"], "target_branch": mr["target"], "title": mr["title"],
                "description": mr["description"], "state": mr["state"],
                "sha": self.branch_sha(mr["source"]) if mr["state"] == "opened" else mr.get("merge_sha"),
                "merge_when_pipeline_succeeds": mr.get("mwps", False)}

    def commit_mrs(self, m, q, d):
        items = [self._mr_json(mr) for mr in self.mrs.values()
                 if self.branch_sha(mr["source"]) and self.contains(self.branch_sha(mr["source"]), m["sha"])
                 and not self.contains(self.branch_sha(mr["target"]), m["sha"])]
        return self._paged(items, q, m.group(0))

    def list_mrs(self, m, q, d):
        items = [self._mr_json(mr) for mr in sorted(self.mrs.values(), key=lambda x: -x["iid"])
                 if q.get("state", "all") in ("all", mr["state"])
                 and q.get("source_branch", mr["source"]) == mr["source"]
                 and q.get("target_branch", mr["target"]) == mr["target"]]
        return self._paged(items, q, m.group(0))

    def create_mr(self, m, q, d):
        if not d.get("title"):
            return Reply(400, {"message": "title is missing"})
        for mr in self.mrs.values():
            if mr["state"] == "opened" and mr["source"] == d["source_branch"] and mr["target"] == d["target_branch"]:
                return Reply(409, {"message": [f"Another open merge request already exists for this source branch: "
                                               f"!{mr['iid']}"]})
        if not self.branch_sha(d["source_branch"]):
            return Reply(422, {"message": {"source_branch": ["is invalid"]}})
        self.next_iid += 1
        mr = {"iid": self.next_iid, "source": d["source_branch"], "target": d["target_branch"],
              "title": d["title"], "description": d.get("description", ""), "state": "opened"}
        self.mrs[mr["iid"]] = mr
        return Reply(201, self._mr_json(mr))

    def update_mr(self, m, q, d):
        mr = self.mrs.get(int(m["n"]))
        if mr is None:
            return Reply(404, {"message": "404 Not found"})
        mr.update({"title": d.get("title", mr["title"]), "description": d.get("description", mr["description"])})
        return Reply(200, self._mr_json(mr))

    def merge_mr(self, m, q, d):
        mr = self.mrs.get(int(m["n"]))
        if mr is None:
            return Reply(404, {"message": "404 Not found"})
        if d and (d.get("merge_when_pipeline_succeeds") or d.get("auto_merge")):
            if not self.has_pipeline:
                return Reply(405, {"message": "405 Method Not Allowed"})
            mr["mwps"] = True
            mr["squash"] = bool(d.get("squash"))
            return Reply(200, self._mr_json(mr))
        src, dst = self.branch_sha(mr["source"]), self.branch_sha(mr["target"])
        if not self.contains(src, dst):
            return Reply(406, {"message": "Branch cannot be merged"})
        self.git("update-ref", f"refs/heads/{mr['target']}", src, dst)
        mr.update(state="merged", merge_sha=src, squash=bool(d and d.get("squash")))
        return Reply(200, self._mr_json(mr))

    # uploads, statuses, runners ---------------------------------------------------------------
    def upload(self, m, q, d):
        name, content = multipart_file(d)
        secret = f"{self.new_id():032x}"
        self.uploads[f"/uploads/{secret}/{name}"] = content
        return Reply(201, {"id": self.next_id, "alt": name, "url": f"/uploads/{secret}/{name}",
                           "full_path": f"/-/project/{self.project_num}/uploads/{secret}/{name}",
                           "markdown": f"![{name}](/uploads/{secret}/{name})"})

    def status(self, m, q, d):
        if d.get("state") not in ("pending", "running", "success", "failed", "canceled", "skipped"):
            return Reply(400, {"message": "state does not have a valid value"})
        self.statuses.append({"sha": m["sha"], **d})
        return Reply(201, {"id": self.new_id(), "sha": m["sha"], **d})

    def create_runner(self, m, q, d):
        if d.get("runner_type") != "project_type" or int(d.get("project_id", 0)) != self.project_num:
            return Reply(400, {"message": "400 Bad request - runner_type is invalid"})
        rid = self.new_id()
        self.runners[rid] = {"id": rid, "description": d.get("description", ""), "status": "never_contacted",
                             "tag_list": [t for t in d.get("tag_list", "").split(",") if t], "jobs": []}
        return Reply(201, {"id": rid, "token": f"glrt-{rid:020d}", "token_expires_at": None})

    def list_runners(self, m, q, d):
        items = [{"id": r["id"], "description": r["description"], "status": r["status"], "paused": False}
                 for r in self.runners.values()]
        return self._paged(items, q, m.group(0))

    def get_runner(self, m, q, d):
        r = self.runners.get(int(m["id"]))
        return Reply(200, {k: v for k, v in r.items() if k != "jobs"}) if r else self.not_found()

    def runner_jobs(self, m, q, d):
        r = self.runners.get(int(m["id"]))
        if r is None:
            return self.not_found()
        return self._paged([j for j in r["jobs"] if q.get("status", j["status"]) == j["status"]], q, m.group(0))

    def delete_runner(self, m, q, d):
        if self.runners.pop(int(m["id"]), None) is None:
            return self.not_found()
        return Reply(204)
