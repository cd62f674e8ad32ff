"""The embedded ``local`` forge: a bare git repository plus review data on disk.

For machines with no forge at all. The git remote is a bare repository (a path or ``file://``
URL); pull requests, comments, checks and uploaded files live beside the git data in
``<bare>/tide-forge/`` as JSON files (format in docs/forge.md, version 1):

    tide-forge/FORMAT                      "tide-local-forge 1"
    tide-forge/ids/<kind>/<n>              id reservations (created with O_EXCL: safe for concurrent writers)
    tide-forge/pulls/<n>.json              {"number", "title", "body", "source", "target", "state",
                                            "created", "updated", "merged_sha", "merge_method"}
    tide-forge/comments/<kind>/<ref>/<id>.json   {"id", "body", "created", "updated"}; kind = pr | issue | commit
    tide-forge/checks/<sha>/<id>.json      {"id", "title", "summary", "conclusion", "created"}
    tide-forge/assets/<sha256>/<name>      uploaded files, content-addressed

Every file is written to a temporary name and renamed. The data is rendered as a static HTML site in
``tide-forge/site/`` after every write of a PR, comment or check (``tide forge show`` renders it too, or
elsewhere with ``-o``), so the URLs this driver returns point at pages that exist.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from tide.core.errors import ForgeError, MissingError
from tide.core.fsutil import atomic_write_bytes
from tide.core.git import Git
from tide.forge.base import (
    Capabilities,
    Comment,
    PullRequest,
    Runner,
    RunnerRegistration,
    Target,
    Upload,
    unsupported,
)

FORMAT = "tide-local-forge 1"
DATA_DIR = "tide-forge"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LocalForge:
    name = "local"
    capabilities = Capabilities(
        commit_comments=True, commit_comment_update=True, issue_comments=True, native_upload=True,
        check_runs=True, commit_status=True, auto_merge=False, merge_methods=frozenset({"merge", "squash"}),
    )

    def __init__(self, bare_path: str) -> None:
        path = os.path.abspath(os.path.expanduser(bare_path))
        if not os.path.isdir(path):
            raise MissingError(f"local forge: the bare repository '{path}' does not exist")
        if not (os.path.isfile(os.path.join(path, "HEAD")) and os.path.isdir(os.path.join(path, "objects"))):
            raise ForgeError(f"local forge: '{path}' is not a bare git repository")
        self.bare = path
        self.root = Path(path) / DATA_DIR
        self.web_url = self.site_url("index.html")

    # --- storage helpers --------------------------------------------------------------------
    def _init(self) -> None:
        fmt = self.root / "FORMAT"
        if fmt.exists():
            found = fmt.read_text().strip()
            if found != FORMAT:
                raise ForgeError(f"local forge: {fmt} says '{found}', this tide reads '{FORMAT}'")
            return
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(fmt, (FORMAT + "\n").encode())

    def _reserve(self, kind: str) -> int:
        self._init()
        d = self.root / "ids" / kind
        d.mkdir(parents=True, exist_ok=True)
        n = len(os.listdir(d)) + 1
        while True:
            try:
                fd = os.open(d / str(n), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                os.close(fd)
                return n
            except FileExistsError:
                n += 1

    def _write(self, path: Path, data: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())

    @staticmethod
    def _read(path: Path) -> dict:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MissingError(f"local forge: {path} does not exist")
        except ValueError:
            raise ForgeError(f"local forge: {path} is not valid JSON")

    def _publish(self, target: Target) -> None:
        """Rewrite the HTML page the returned URL points at (it exists as soon as the URL is printed) and the
        index; the other pages stay as they are, so a write costs the same on day 1 and on day 365 (found
        by the soak: re-rendering every page made each PR and comment slower as they piled up)."""
        from tide.forge.site import render

        render(self, pages={self.page_of(target)})

    def site_url(self, page: str) -> str:
        return (self.root / "site" / page).as_uri()

    def page_of(self, target: Target) -> str:
        return f"{target.kind}-{_SAFE_NAME.sub('_', target.ref)}.html"

    # --- Forge protocol ---------------------------------------------------------------------
    def git_auth(self) -> tuple[str, str] | None:
        return None

    def commit_url(self, sha: str) -> str:
        return self.site_url(self.page_of(Target("commit", sha)))

    def _comment_dir(self, target: Target) -> Path:
        if target.kind not in ("pr", "issue", "commit"):
            raise ForgeError(f"local forge: unknown comment target '{target}'")
        if target.kind == "pr" and not (self.root / "pulls" / f"{target.ref}.json").exists():
            raise MissingError(f"local forge: pull request #{target.ref} does not exist")
        return self.root / "comments" / target.kind / _SAFE_NAME.sub("_", target.ref)

    def _comment(self, target: Target, data: dict) -> Comment:
        url = f"{self.site_url(self.page_of(target))}#comment-{data['id']}"
        return Comment(str(data["id"]), data["body"], url, data.get("created", ""))

    def list_comments(self, target: Target) -> list[Comment]:
        d = self._comment_dir(target)
        if not d.is_dir():
            return []
        files = sorted((p for p in d.glob("*.json")), key=lambda p: int(p.stem))
        return [self._comment(target, self._read(p)) for p in files]

    def create_comment(self, target: Target, body: str) -> Comment:
        d = self._comment_dir(target)
        n = self._reserve("comment")
        t = now()  # one time: a comment never edited shows no "(edited)"
        data = {"id": n, "body": body, "created": t, "updated": t}
        self._write(d / f"{n}.json", data)
        self._publish(target)
        return self._comment(target, data)

    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment:
        path = self._comment_dir(target) / f"{int(comment.id)}.json"
        data = self._read(path)
        data.update(body=body, updated=now())
        self._write(path, data)
        self._publish(target)
        return self._comment(target, data)

    def _pr(self, data: dict) -> PullRequest:
        n = data["number"]
        head = self._rev(data["source"]) if data["state"] == "open" else data.get("merged_sha", "")
        return PullRequest(n, self.site_url(f"pr-{n}.html"), data["source"], data["target"], data["title"],
                           data["state"], head or "")

    def _rev(self, branch: str) -> str:
        proc = Git(self.bare).run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else ""

    def _pulls(self) -> list[dict]:
        d = self.root / "pulls"
        if not d.is_dir():
            return []
        return [self._read(p) for p in sorted(d.glob("*.json"), key=lambda p: int(p.stem))]

    def prs_for_commit(self, sha: str) -> list[PullRequest]:
        git = Git(self.bare)
        out = []
        for data in self._pulls():
            if data["state"] != "open":
                continue
            head, base = self._rev(data["source"]), self._rev(data["target"])
            in_head = head and git.run("merge-base", "--is-ancestor", sha, head, check=False).returncode == 0
            in_base = base and git.run("merge-base", "--is-ancestor", sha, base, check=False).returncode == 0
            if in_head and not in_base:  # the PR's own commits, as GitHub answers for open PRs
                out.append(self._pr(data))
        return out

    def find_pr(self, source: str, target: str) -> PullRequest | None:
        for data in self._pulls():
            if data["state"] == "open" and data["source"] == source and data["target"] == target:
                return self._pr(data)
        return None

    def get_pr(self, number: int) -> PullRequest:
        return self._pr(self._read(self.root / "pulls" / f"{int(number)}.json"))

    def create_pr(self, source: str, target: str, title: str, body: str) -> PullRequest:
        for branch in (source, target):
            if not self._rev(branch):
                raise ForgeError(f"local forge: branch '{branch}' does not exist in {self.bare}")
        n = self._reserve("pr")
        t = now()
        data = {"number": n, "title": title, "body": body, "source": source, "target": target, "state": "open",
                "created": t, "updated": t, "merged_sha": "", "merge_method": ""}
        self._write(self.root / "pulls" / f"{n}.json", data)
        self._publish(Target("pr", str(n)))
        return self._pr(data)

    def update_pr(self, pr: PullRequest, title: str, body: str) -> PullRequest:
        path = self.root / "pulls" / f"{pr.number}.json"
        data = self._read(path)
        data.update(title=title, body=body, updated=now())
        self._write(path, data)
        self._publish(Target("pr", str(pr.number)))
        return self._pr(data)

    def merge_pr(self, pr: PullRequest, method: str, auto: bool) -> str:
        if method not in self.capabilities.merge_methods:
            raise unsupported("local", f"merge method '{method}'")
        path = self.root / "pulls" / f"{pr.number}.json"
        data = self._read(path)
        if data["state"] != "open":
            raise ForgeError(f"local forge: pull request #{pr.number} is {data['state']}")
        git = Git(self.bare)
        src, dst = self._rev(data["source"]), self._rev(data["target"])
        if not src or not dst:
            raise ForgeError(f"local forge: cannot merge #{pr.number}: a branch is missing")
        ff = git.run("merge-base", "--is-ancestor", dst, src, check=False).returncode == 0
        msg = f"Merge pull request #{pr.number} from {data['source']}\n\n{data['title']}\n"
        if ff and method == "merge":
            new = src
        else:
            proc = git.run("merge-tree", "--write-tree", dst, src, check=False)
            if proc.returncode != 0:
                raise ForgeError(f"local forge: pull request #{pr.number} has conflicts with {data['target']}")
            tree = proc.stdout.decode().split()[0]
            parents = ["-p", dst] + (["-p", src] if method == "merge" else [])
            new = git.out("commit-tree", tree, *parents, "-m", msg).strip()
        git.run("update-ref", f"refs/heads/{data['target']}", new, dst)
        data.update(state="merged", merged_sha=new, merge_method=method, updated=now())
        self._write(path, data)
        self._publish(Target("pr", str(pr.number)))
        return "merged"

    def upload(self, name: str, data: bytes, mime: str, target: Target | None = None) -> Upload:
        self._init()
        digest = hashlib.sha256(data).hexdigest()
        safe = _SAFE_NAME.sub("_", os.path.basename(name)) or "file"
        path = self.root / "assets" / digest / safe
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, data)
        return Upload(path.as_uri(), safe)

    def create_check(self, sha: str, title: str, summary: str, conclusion: str, status: str = "completed") -> str:
        n = self._reserve("check")
        record = {"id": n, "title": title, "summary": summary, "conclusion": conclusion, "created": now()}
        if status != "completed":  # a pending check has no conclusion yet
            record.update(status=status, conclusion="")
        self._write(self.root / "checks" / sha / f"{n}.json", record)
        self._publish(Target("commit", sha))
        return f"{self.commit_url(sha)}#check-{n}"

    def runner_registration(self, name: str, labels: tuple[str, ...]) -> RunnerRegistration:
        raise unsupported("local", "self-hosted runner registration")

    def list_runners(self) -> list[Runner]:
        raise unsupported("local", "listing self-hosted runners")

    def remove_runner(self, runner_id: str) -> None:
        raise unsupported("local", "removing self-hosted runners")

    def close(self) -> None:
        pass

    # --- reading for `tide forge show` --------------------------------------------------------
    def snapshot(self) -> dict:
        """Everything stored, for rendering: pulls, comments per target, checks per commit."""
        comments: dict[str, list[dict]] = {}
        cdir = self.root / "comments"
        if cdir.is_dir():
            for kind_dir in sorted(cdir.iterdir()):
                for ref_dir in sorted(kind_dir.iterdir()):
                    items = sorted(ref_dir.glob("*.json"), key=lambda p: int(p.stem))
                    comments[f"{kind_dir.name}/{ref_dir.name}"] = [self._read(p) for p in items]
        checks: dict[str, list[dict]] = {}
        kdir = self.root / "checks"
        if kdir.is_dir():
            for sha_dir in sorted(kdir.iterdir()):
                items = sorted(sha_dir.glob("*.json"), key=lambda p: int(p.stem))
                checks[sha_dir.name] = [self._read(p) for p in items]
        return {"pulls": self._pulls(), "comments": comments, "checks": checks}


def init_bare(path: str) -> str:
    """Create a bare repository to serve as a local forge (``tide forge init``)."""
    path = os.path.abspath(path)
    if os.path.exists(os.path.join(path, "HEAD")):
        return path
    os.makedirs(path, exist_ok=True)
    Git(path).run("init", "-q", "--bare", "-b", "main", path)
    return path
