"""``kubernetes``: one batch/v1 Job per runner, through the Kubernetes REST API.

The Job runs the startup script in the foreground (``TIDE_FOREGROUND=1``: the watchdog is the
container's main process). ``activeDeadlineSeconds`` is the max runtime (enforced by the cluster),
``backoffLimit: 0`` and ``restartPolicy: Never`` keep a finished runner finished, and
``ttlSecondsAfterFinished`` lets the cluster delete it. ``automountServiceAccountToken: false``:
the job gets no cluster credentials.

Cluster access: the current context of ``$KUBECONFIG`` (or ``~/.kube/config``): server, bearer
token, CA data or ``insecure-skip-tls-verify``; ``TIDE_K8S_NAMESPACE`` overrides the namespace.
"""

from __future__ import annotations

import base64
import os
import tempfile
from typing import Any

from tide.core.errors import RunnerError
from tide.runners import catalog
from tide.runners.base import (
    TAG_LAUNCH,
    TAG_MANAGED,
    TAG_NAME,
    Capabilities,
    Machine,
    RunnerSpec,
    deadline_from,
    tags_for,
    undone_on_failure,
)
from tide.runners.rest import Rest

CAPABILITIES = Capabilities(gpu=True, native_max_runtime=True, terminate_on_shutdown=True, poweroff="")


def resources(kind: str) -> dict[str, Any]:
    parts = kind.split("/")
    if len(parts) < 2:
        raise RunnerError(f"kubernetes: type '{kind}' must be CPU/MEMORY[/GPUS], e.g. 4/16Gi/1")
    res = {"cpu": parts[0], "memory": parts[1]}
    if len(parts) > 2 and parts[2] not in ("", "0"):
        res["nvidia.com/gpu"] = parts[2]
    return {"requests": dict(res), "limits": dict(res)}


def _label(v: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]", "-", v)[:63].strip("-_.") or "x"


class KubernetesProvisioner:
    kind = "kubernetes"
    capabilities = CAPABILITIES

    def __init__(self, server: str, token: str, namespace: str = "default", verify: Any = True) -> None:
        self.ns = namespace
        self.api = Rest(server.rstrip("/"), token, where=f"kubernetes {namespace}", verify=verify)

    def _jobs(self) -> str:
        return f"/apis/batch/v1/namespaces/{self.ns}/jobs"

    def body(self, spec: RunnerSpec, user_data: str, launch_id: str) -> dict[str, Any]:
        place = catalog.resolve("kubernetes", spec.region, spec.type, spec.gpu)
        tags = tags_for(spec, launch_id, spec.deadline())
        labels = {k: _label(v) for k, v in tags.items() if k in (TAG_MANAGED, TAG_NAME, TAG_LAUNCH)}
        job_spec: dict[str, Any] = {
            "backoffLimit": 0, "ttlSecondsAfterFinished": 300,
            "template": {"metadata": {"labels": labels}, "spec": {
                "restartPolicy": "Never", "automountServiceAccountToken": False,
                "terminationGracePeriodSeconds": 30,
                "containers": [{
                    "name": "runner", "image": spec.image or catalog.IMAGES["kubernetes"],
                    "command": ["bash", "-c", user_data],
                    "env": [{"name": "TIDE_FOREGROUND", "value": "1"}, {"name": "TIDE_HOME", "value": "/tide"},
                            {"name": "TIDE_POWEROFF", "value": ""}],
                    "resources": resources(place.type),
                }],
            }},
        }
        if spec.max_runtime:
            job_spec["activeDeadlineSeconds"] = int(spec.max_runtime)
        selector = dict(p.split("=", 1) for p in spec.option("kubernetes_node_selector").split(",") if "=" in p)
        if selector:
            job_spec["template"]["spec"]["nodeSelector"] = selector
        if spec.permission_set:
            job_spec["template"]["spec"]["serviceAccountName"] = spec.permission_set
            job_spec["template"]["spec"]["automountServiceAccountToken"] = True
        return {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": spec.name, "labels": labels, "annotations": {
                    f"tide.dev/{k}": v for k, v in tags.items()}},
                "spec": job_spec}

    def launch(self, spec: RunnerSpec, user_data: str, launch_id: str) -> Machine:
        with undone_on_failure(lambda: self.cleanup(launch_id)):
            job = self.api.request("POST", self._jobs(), json=self.body(spec, user_data, launch_id))
            return self._machine(job)

    def _machine(self, job: dict) -> Machine:
        meta = job.get("metadata", {})
        ann = {k.split("/", 1)[1]: v for k, v in (meta.get("annotations") or {}).items() if k.startswith("tide.dev/")}
        st = job.get("status") or {}
        done = any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
                   for c in st.get("conditions") or [])
        if meta.get("deletionTimestamp"):
            state = "stopping"
        elif done:
            state = "stopped"
        elif st.get("active"):
            state = "running"
        else:
            state = "pending"
        reason = next((c.get("reason", "") for c in st.get("conditions") or [] if c.get("status") == "True"), "")
        created = meta.get("creationTimestamp", "")
        launched = 0.0
        if created:
            from datetime import datetime

            launched = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
        return Machine(id=meta["name"], name=ann.get(TAG_NAME, meta["name"]), cloud="kubernetes", state=state,
                       region=self.ns, launched_at=launched, deadline=deadline_from(ann), reason=reason,
                       job_ended=done, tags={**ann, **(meta.get("labels") or {})})

    def _list(self, selector: str) -> list[Machine]:
        out: list[Machine] = []
        cont = ""
        while True:
            params = {"labelSelector": selector}
            if cont:
                params["continue"] = cont
            resp = self.api.request("GET", self._jobs(), params=params)
            out.extend(self._machine(j) for j in resp.get("items", []))
            cont = (resp.get("metadata") or {}).get("continue") or ""
            if not cont:
                return out

    def list(self) -> list[Machine]:
        return self._list(f"{TAG_MANAGED}=1")

    def terminate(self, machine_id: str) -> None:
        self.api.request("DELETE", f"{self._jobs()}/{machine_id}", ok404=True,
                         json={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"})

    def cleanup(self, launch_id: str) -> None:
        for m in self._list(f"{TAG_LAUNCH}={_label(launch_id)}"):
            self.terminate(m.id)


def from_kubeconfig(path: str, namespace: str = "") -> KubernetesProvisioner:
    from tide.core import yamlio

    if not os.path.exists(path):
        raise RunnerError(f"kubernetes: no kubeconfig at {path}: set KUBECONFIG")
    cfg = yamlio.load_file(path) or {}
    ctx_name = cfg.get("current-context")
    ctx = next((c["context"] for c in cfg.get("contexts", []) if c.get("name") == ctx_name), None)
    if not ctx:
        raise RunnerError(f"kubernetes: {path}: no current context")
    cluster = next((c["cluster"] for c in cfg.get("clusters", []) if c.get("name") == ctx.get("cluster")), {})
    user = next((u["user"] for u in cfg.get("users", []) if u.get("name") == ctx.get("user")), {})
    if not cluster.get("server"):
        raise RunnerError(f"kubernetes: {path}: the current context has no server")
    verify: Any = True
    if cluster.get("insecure-skip-tls-verify"):
        verify = False
    elif cluster.get("certificate-authority-data"):
        fd, ca = tempfile.mkstemp(prefix="tide-k8s-ca-", suffix=".pem")
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64decode(cluster["certificate-authority-data"]))
        verify = ca
    elif cluster.get("certificate-authority"):
        verify = cluster["certificate-authority"]
    return KubernetesProvisioner(cluster["server"], user.get("token", ""),
                                 namespace or ctx.get("namespace") or "default", verify)


def make(env: Any = None, **_: object) -> KubernetesProvisioner:
    get = env.get if env is not None else (lambda k, d=None: d)
    path = get("KUBECONFIG") or os.path.join(get("HOME") or os.path.expanduser("~"), ".kube", "config")
    return from_kubeconfig(path.split(os.pathsep)[0], get("TIDE_K8S_NAMESPACE") or "")
