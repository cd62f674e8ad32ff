"""Stateful fakes of the cloud APIs tide drives over REST, following their documented shapes:
GCP Compute v1 (instances insert/get/delete, aggregatedList with label filter, zoneOperations.wait),
Azure Resource Manager (networkInterfaces and virtualMachines PUT/GET/DELETE, list with nextLink),
Kubernetes batch/v1 Jobs (create, list with labelSelector and continue, delete). Each records calls
and can be told to fail one operation."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    app = None

    def log_message(self, *a) -> None:
        pass

    def _do(self) -> None:
        u = urlparse(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        body = json.loads(raw) if raw else None
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        status, out = self.app.handle(self.command, u.path, q, body, dict(self.headers))
        data = b"" if out is None else (out if isinstance(out, bytes) else json.dumps(out).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _do


class Base:
    token = "fake-token"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []
        self.fail: set[str] = set()   # operation names to answer with 500 (persistently)

    def handle(self, method, path, q, body, headers):
        with self.lock:
            self.calls.append((method, path))
            if headers.get("Authorization") != f"Bearer {self.token}":
                return 401, {"error": {"message": "unauthenticated"}}
            return self.route(method, path, q, body)


class SpotMetadata:
    def __init__(self) -> None:
        self.notice = False
        self.hits = 0

    def handle(self, method, path, q, body, headers):
        self.hits += 1
        if self.notice:
            return 200, {"action": "terminate", "time": "2030-01-01T00:00:00Z"}
        return 404, None


class GcpFake(Base):
    def __init__(self) -> None:
        super().__init__()
        self.instances: dict[tuple[str, str], dict] = {}
        self.ops: dict[str, dict] = {}

    def _op(self, kind: str, zone: str, error: str = "") -> dict:
        op = {"kind": "compute#operation", "name": f"op-{len(self.ops)}", "operationType": kind,
              "zone": f"zones/{zone}", "status": "RUNNING"}
        if error:
            op["error"] = {"errors": [{"code": "QUOTA", "message": error}]}
        self.ops[op["name"]] = op
        return op

    def route(self, method, path, q, body):
        parts = path.strip("/").split("/")  # projects/P/zones/Z/instances[/N] | projects/P/aggregated/instances
        if parts[2:4] == ["aggregated", "instances"]:
            if "list" in self.fail:
                return 500, {"error": {"message": "backend error"}}
            key, _, val = q.get("filter", "").partition("=")
            label = key.removeprefix("labels.")
            items: dict[str, dict] = {}
            for (zone, _), inst in self.instances.items():
                if inst["labels"].get(label) == val:
                    items.setdefault(f"zones/{zone}", {"instances": []})["instances"].append(inst)
            return 200, {"items": items}
        zone = parts[3]
        if parts[4] == "operations":
            op = self.ops[parts[5]]
            op["status"] = "DONE"
            return 200, op
        if method == "POST":
            if "insert" in self.fail:
                return 500, {"error": {"message": "backend error"}}
            inst = dict(body, zone=f"projects/p/zones/{zone}", status="RUNNING",
                        networkInterfaces=[{"networkIP": "10.0.0.2", "accessConfigs": [{"natIP": "203.0.113.5"}]}])
            if (zone, body["name"]) in self.instances:
                return 409, {"error": {"message": "already exists"}}
            self.instances[(zone, body["name"])] = inst
            return 200, self._op("insert", zone, "quota exceeded" if "insert-op" in self.fail else "")
        name = parts[5]
        if method == "GET":
            inst = self.instances.get((zone, name))
            return (200, inst) if inst else (404, {"error": {"message": "not found"}})
        if method == "DELETE":
            if "delete" in self.fail:
                return 500, {"error": {"message": "backend error"}}
            if self.instances.pop((zone, name), None) is None:
                return 404, {"error": {"message": "not found"}}
            return 200, self._op("delete", zone)
        return 405, None


class AzureFake(Base):
    def __init__(self) -> None:
        super().__init__()
        self.vms: dict[str, dict] = {}
        self.nics: dict[str, dict] = {}
        self.page = 2

    def route(self, method, path, q, body):
        if "api-version" not in q and "skip" not in q:
            return 400, {"error": {"code": "MissingApiVersionParameter", "message": "api-version missing"}}
        parts = path.strip("/").split("/")
        kind = parts[-2] if len(parts) % 2 == 0 else parts[-1]
        name = parts[-1] if len(parts) % 2 == 0 else None
        store = self.vms if "virtualMachines" in path else self.nics
        if name is None and method == "GET":  # list with paging through nextLink
            items = sorted(store.values(), key=lambda v: v["name"])
            start = int(q.get("skip", 0))
            out = {"value": items[start:start + self.page]}
            if start + self.page < len(items):
                out["nextLink"] = f"{path}?api-version=x&skip={start + self.page}"
            return 200, out
        if method == "PUT":
            if f"put-{kind}" in self.fail:
                return 500, {"error": {"code": "InternalError", "message": "backend error"}}
            res = dict(body, name=name, id=path)
            if kind == "virtualMachines":
                res["properties"] = dict(body["properties"], provisioningState="Succeeded",
                                         instanceView={"statuses": [{"code": "PowerState/running"}]})
            store[name] = res
            return 201, res
        if method == "GET":
            return (200, store[name]) if name in store else (404, {"error": {"code": "NotFound", "message": "nf"}})
        if method == "DELETE":
            vm = store.pop(name, None)
            if vm is None:
                return 204, None
            if kind == "virtualMachines":
                for nic in vm["properties"]["networkProfile"]["networkInterfaces"]:
                    if nic["properties"].get("deleteOption") == "Delete":
                        self.nics.pop(nic["id"].rsplit("/", 1)[-1], None)
            return 202, None
        return 405, None


class K8sFake(Base):
    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[str, dict] = {}
        self.page = 2

    def route(self, method, path, q, body):
        parts = path.strip("/").split("/")  # apis/batch/v1/namespaces/NS/jobs[/NAME]
        if parts[:3] != ["apis", "batch", "v1"] or parts[5] != "jobs":
            return 404, {"kind": "Status", "message": "not found"}
        if len(parts) == 6 and method == "POST":
            name = body["metadata"]["name"]
            if name in self.jobs:
                return 409, {"kind": "Status", "message": "already exists"}
            job = json.loads(json.dumps(body))
            job["metadata"]["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            job["metadata"]["namespace"] = parts[4]
            job["status"] = {"active": 1}
            self.jobs[name] = job
            return 201, job
        if len(parts) == 6 and method == "GET":
            key, _, val = q.get("labelSelector", "").partition("=")
            items = [j for _, j in sorted(self.jobs.items()) if j["metadata"]["labels"].get(key) == val]
            start = int(q.get("continue") or 0)
            meta = {"continue": str(start + self.page)} if start + self.page < len(items) else {}
            return 200, {"kind": "JobList", "items": items[start:start + self.page], "metadata": meta}
        name = parts[6]
        if method == "DELETE":
            if self.jobs.pop(name, None) is None:
                return 404, {"kind": "Status", "message": "not found"}
            return 200, {"kind": "Status", "status": "Success"}
        if method == "GET":
            return (200, self.jobs[name]) if name in self.jobs else (404, {"kind": "Status"})
        return 405, None

    def finish(self, name: str) -> None:
        self.jobs[name]["status"] = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
