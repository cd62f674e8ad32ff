"""``gcp``: Compute Engine instances through the Compute REST API v1 (``instances.insert``,
``aggregatedList``, ``delete``, ``zoneOperations.wait``).

The deadline is enforced by GCP itself (``scheduling.maxRunDuration`` with
``instanceTerminationAction: DELETE``), spot uses ``provisioningModel: SPOT``, and the startup
script travels in the ``startup-script`` metadata key. Without ``--cloud-permission-set`` the
instance gets NO service account, so jobs hold no Google credentials at all.
"""

from __future__ import annotations

import re
import time
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
    SpotNotice,
    deadline_from,
    tags_for,
    undone_on_failure,
)
from tide.runners.rest import Rest

ENDPOINT = "https://compute.googleapis.com/compute/v1"
CAPABILITIES = Capabilities(
    spot=True, gpu=True, native_max_runtime=True, terminate_on_shutdown=False, user_data_limit=256 * 1024,
    ssh_user="ubuntu", poweroff="shutdown -h now",
    spot_notice=SpotNotice(url="http://metadata.google.internal/computeMetadata/v1/instance/preempted",
                           kind="body-true", headers=(("Metadata-Flavor", "Google"),)),
)
_STATE = {"PROVISIONING": "pending", "STAGING": "pending", "RUNNING": "running", "STOPPING": "stopping",
          "SUSPENDING": "stopping", "REPAIRING": "pending", "TERMINATED": "stopped", "STOPPED": "stopped",
          "SUSPENDED": "stopped"}


def label_value(v: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", v.lower())[:63]


class GcpProvisioner:
    kind = "gcp"
    capabilities = CAPABILITIES

    def __init__(self, project: str, zone: str, token: str, endpoint: str = ENDPOINT,
                 wait_timeout: float = 300) -> None:
        if not project:
            raise RunnerError("gcp: no project: set GOOGLE_CLOUD_PROJECT (or CLOUDSDK_CORE_PROJECT)")
        self.project = project
        self.zone = catalog.REGIONS["gcp"].get(zone, zone)
        self.api = Rest(endpoint.rstrip("/"), token, where=f"gcp {project}")
        self.wait_timeout = wait_timeout

    def _p(self, path: str) -> str:
        return f"/projects/{self.project}{path}"

    def _wait(self, op: dict, zone: str) -> None:
        end = time.monotonic() + self.wait_timeout
        while op.get("status") != "DONE":
            if time.monotonic() > end:
                raise RunnerError(f"gcp: operation {op.get('name')} not done after {self.wait_timeout:.0f}s")
            op = self.api.request("POST", self._p(f"/zones/{zone}/operations/{op['name']}/wait"))
        errors = (op.get("error") or {}).get("errors") or []
        if errors:
            raise RunnerError(f"gcp: {op.get('operationType', 'operation')} failed: {errors[0].get('message')}")

    def body(self, spec: RunnerSpec, user_data: str, launch_id: str) -> dict[str, Any]:
        place = catalog.resolve("gcp", spec.region, spec.type, spec.gpu)
        machine, _, acc = place.type.partition("+")
        zone = self.zone
        labels = {k: label_value(v) for k, v in tags_for(spec, launch_id, spec.deadline()).items()
                  if re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", k)}
        sched: dict[str, Any] = {"automaticRestart": False, "onHostMaintenance": "TERMINATE",
                                 "instanceTerminationAction": "DELETE"}
        if spec.spot:
            sched["provisioningModel"] = "SPOT"
        if spec.max_runtime:
            sched["maxRunDuration"] = {"seconds": str(int(spec.max_runtime))}
        body: dict[str, Any] = {
            "name": spec.name,
            "machineType": f"zones/{zone}/machineTypes/{machine}",
            "labels": labels,
            "metadata": {"items": [{"key": "startup-script", "value": user_data},
                                   {"key": "tide-labels", "value": ",".join(spec.labels)}]},
            "disks": [{"boot": True, "autoDelete": True, "initializeParams": {
                "sourceImage": spec.image or catalog.IMAGES["gcp"], "diskSizeGb": str(spec.hdd_size)}}],
            "networkInterfaces": [{"network": spec.option("gcp_network", "global/networks/default"),
                                   "accessConfigs": [{"type": "ONE_TO_ONE_NAT", "name": "External NAT"}]}],
            "scheduling": sched,
            "serviceAccounts": [],
        }
        if acc:
            acc_type, _, count = acc.partition("*")
            body["guestAccelerators"] = [{"acceleratorType": f"zones/{zone}/acceleratorTypes/{acc_type}",
                                          "acceleratorCount": int(count or 1)}]
        if spec.permission_set:
            email, _, rest = spec.permission_set.partition(",")
            scopes = rest.split("=", 1)[1].split(",") if rest.startswith("scopes=") else [
                "https://www.googleapis.com/auth/cloud-platform"]
            body["serviceAccounts"] = [{"email": email, "scopes": scopes}]
        return body

    def launch(self, spec: RunnerSpec, user_data: str, launch_id: str) -> Machine:
        with undone_on_failure(lambda: self.cleanup(launch_id)):
            op = self.api.request("POST", self._p(f"/zones/{self.zone}/instances"),
                                  json=self.body(spec, user_data, launch_id))
            self._wait(op, self.zone)
            inst = self.api.request("GET", self._p(f"/zones/{self.zone}/instances/{spec.name}"))
            return self._machine(inst)

    def _machine(self, inst: dict) -> Machine:
        labels = inst.get("labels") or {}
        zone = inst.get("zone", self.zone).rsplit("/", 1)[-1]
        state = _STATE.get(inst.get("status", ""), "pending")
        nics = inst.get("networkInterfaces") or [{}]
        access = (nics[0].get("accessConfigs") or [{}])[0]
        return Machine(
            id=f"{zone}/{inst['name']}", name=labels.get(TAG_NAME, inst["name"]), cloud="gcp", state=state,
            region=zone, type=inst.get("machineType", "").rsplit("/", 1)[-1],
            spot=(inst.get("scheduling") or {}).get("provisioningModel") == "SPOT",
            deadline=deadline_from(labels), address=access.get("natIP") or nics[0].get("networkIP", ""),
            reason=inst.get("statusMessage", ""), job_ended=state == "stopped", tags=labels,
        )

    def _list(self, flt: str) -> list[Machine]:
        out: list[Machine] = []
        token = None
        while True:
            params = {"filter": flt}
            if token:
                params["pageToken"] = token
            resp = self.api.request("GET", self._p("/aggregated/instances"), params=params)
            for scoped in (resp.get("items") or {}).values():
                out.extend(self._machine(i) for i in scoped.get("instances", []))
            token = resp.get("nextPageToken")
            if not token:
                return out

    def list(self) -> list[Machine]:
        return self._list(f"labels.{TAG_MANAGED}=1")

    def terminate(self, machine_id: str) -> None:
        zone, _, name = machine_id.rpartition("/")
        zone = zone or self.zone
        op = self.api.request("DELETE", self._p(f"/zones/{zone}/instances/{name}"), ok404=True)
        if op:
            self._wait(op, zone)

    def cleanup(self, launch_id: str) -> None:
        for m in self._list(f"labels.{TAG_LAUNCH}={label_value(launch_id)}"):
            self.terminate(m.id)


def make(env: Any = None, region: str = "us-west", **_: object) -> GcpProvisioner:
    get = env.get if env is not None else (lambda k, d=None: d)
    token = get("GOOGLE_OAUTH_ACCESS_TOKEN") or get("CLOUDSDK_AUTH_ACCESS_TOKEN") or ""
    if not token:
        try:
            import google.auth
            import google.auth.transport.requests

            creds, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
            creds.refresh(google.auth.transport.requests.Request())
            token = creds.token
        except Exception:  # any failure means: no usable credentials
            raise RunnerError("gcp: no credentials: set GOOGLE_OAUTH_ACCESS_TOKEN "
                              "(gcloud auth print-access-token) or install google-auth")
    project = get("GOOGLE_CLOUD_PROJECT") or get("CLOUDSDK_CORE_PROJECT") or ""
    return GcpProvisioner(project, region, token, endpoint=get("TIDE_GCP_ENDPOINT") or ENDPOINT)
