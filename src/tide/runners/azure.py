"""``azure``: virtual machines through Azure Resource Manager's REST API.

A launch creates a network interface in the configured subnet, then the VM (custom data = the
startup script, spot with ``evictionPolicy: Delete``, OS disk and NIC with ``deleteOption:
Delete``), and waits for ``provisioningState: Succeeded``. Both carry tide's tags; a failure deletes
both. The VM gets no managed identity unless ``--cloud-permission-set`` names one.

Settings: ``AZURE_SUBSCRIPTION_ID``, ``AZURE_RESOURCE_GROUP`` (default ``tide-runners``),
``AZURE_SUBNET_ID``; token from ``AZURE_ACCESS_TOKEN`` (``az account get-access-token``) or
azure-identity when installed.
"""

from __future__ import annotations

import base64
import subprocess
import tempfile
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

ENDPOINT = "https://management.azure.com"
COMPUTE_API = "2024-03-01"
NETWORK_API = "2023-09-01"
CAPABILITIES = Capabilities(
    spot=True, spot_price=True, gpu=True, terminate_on_shutdown=False, user_data_limit=64 * 1024,
    ssh_user="ubuntu", poweroff="shutdown -h now",
    spot_notice=SpotNotice(url="http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01",
                           kind="azure-events", headers=(("Metadata", "true"),)),
)
_POWER = {"running": "running", "starting": "pending", "stopping": "stopping", "stopped": "stopped",
          "deallocating": "stopping", "deallocated": "stopped"}


def public_key(private_path: str) -> str:
    try:
        if private_path:
            return subprocess.run(["ssh-keygen", "-y", "-f", private_path], capture_output=True, check=True,
                                  text=True).stdout.strip()
        with tempfile.TemporaryDirectory() as d:  # a throwaway key: Azure insists on one
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/k"], check=True,
                           capture_output=True)
            with open(f"{d}/k.pub") as f:
                return f.read().strip()
    except (OSError, subprocess.CalledProcessError):
        raise RunnerError(f"azure: cannot read an SSH key from '{private_path or 'ssh-keygen'}'")


class AzureProvisioner:
    kind = "azure"
    capabilities = CAPABILITIES

    def __init__(self, subscription: str, resource_group: str, location: str, token: str, subnet_id: str = "",
                 endpoint: str = ENDPOINT, wait_timeout: float = 600, poll: float = 2.0) -> None:
        if not subscription:
            raise RunnerError("azure: no subscription: set AZURE_SUBSCRIPTION_ID")
        self.rg_path = f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers"
        self.location = catalog.REGIONS["azure"].get(location, location)
        self.subnet_id = subnet_id
        self.api = Rest(endpoint.rstrip("/"), token, where=f"azure {resource_group}")
        self.wait_timeout = wait_timeout
        self.poll = poll

    def _vm(self, name: str) -> str:
        return f"{self.rg_path}/Microsoft.Compute/virtualMachines/{name}"

    def _nic(self, name: str) -> str:
        return f"{self.rg_path}/Microsoft.Network/networkInterfaces/{name}-nic"

    def vm_body(self, spec: RunnerSpec, user_data: str, launch_id: str, nic_id: str) -> dict[str, Any]:
        place = catalog.resolve("azure", spec.region, spec.type, spec.gpu)
        pub, offer, sku, version = (spec.image or catalog.IMAGES["azure"]).split(":")
        props: dict[str, Any] = {
            "hardwareProfile": {"vmSize": place.type},
            "storageProfile": {
                "imageReference": {"publisher": pub, "offer": offer, "sku": sku, "version": version},
                "osDisk": {"createOption": "FromImage", "deleteOption": "Delete", "diskSizeGB": int(spec.hdd_size),
                           "managedDisk": {"storageAccountType": "StandardSSD_LRS"}},
            },
            "osProfile": {
                "computerName": spec.name, "adminUsername": "ubuntu",
                "customData": base64.b64encode(user_data.encode()).decode(),
                "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                    {"path": "/home/ubuntu/.ssh/authorized_keys", "keyData": public_key(spec.ssh_private)}]}},
            },
            "networkProfile": {"networkInterfaces": [{"id": nic_id, "properties": {"primary": True,
                                                                                  "deleteOption": "Delete"}}]},
        }
        if spec.spot:
            props["priority"] = "Spot"
            props["evictionPolicy"] = "Delete"
            props["billingProfile"] = {"maxPrice": spec.spot_price if spec.spot_price > 0 else -1}
        body: dict[str, Any] = {"location": self.location, "tags": tags_for(spec, launch_id, spec.deadline()),
                                "properties": props}
        if spec.permission_set:
            body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {spec.permission_set: {}}}
        return body

    def launch(self, spec: RunnerSpec, user_data: str, launch_id: str) -> Machine:
        if not self.subnet_id:
            raise RunnerError("azure: no subnet: set AZURE_SUBNET_ID (the runner's NIC goes there)")
        tags = tags_for(spec, launch_id, spec.deadline())

        def delete_nic() -> None:
            self.api.request("DELETE", self._nic(spec.name), params={"api-version": NETWORK_API}, ok404=True)

        with undone_on_failure(lambda: self.cleanup(launch_id), delete_nic):
            nic = self.api.request("PUT", self._nic(spec.name), params={"api-version": NETWORK_API}, json={
                "location": self.location, "tags": tags, "properties": {"ipConfigurations": [{
                    "name": "ipconfig1", "properties": {"subnet": {"id": self.subnet_id},
                                                        "privateIPAllocationMethod": "Dynamic"}}]}})
            nic_id = nic.get("id") or self._nic(spec.name)
            self.api.request("PUT", self._vm(spec.name), params={"api-version": COMPUTE_API},
                             json=self.vm_body(spec, user_data, launch_id, nic_id))
            return self._wait(spec.name)

    def _wait(self, name: str) -> Machine:
        end = time.monotonic() + self.wait_timeout
        while True:
            vm = self.api.request("GET", self._vm(name), params={"api-version": COMPUTE_API})
            ps = vm.get("properties", {}).get("provisioningState")
            if ps == "Succeeded":
                return self._machine(vm)
            if ps in ("Failed", "Canceled"):
                raise RunnerError(f"azure: VM {name} provisioning {ps.lower()}")
            if time.monotonic() > end:
                raise RunnerError(f"azure: VM {name} not provisioned after {self.wait_timeout:.0f}s")
            time.sleep(self.poll)

    def _machine(self, vm: dict) -> Machine:
        tags = vm.get("tags") or {}
        props = vm.get("properties", {})
        statuses = (props.get("instanceView") or {}).get("statuses") or []
        power = next((s["code"].split("/", 1)[1] for s in statuses if s.get("code", "").startswith("PowerState/")),
                     "")
        state = _POWER.get(power, "running" if props.get("provisioningState") == "Succeeded" else "pending")
        if props.get("provisioningState") == "Deleting":
            state = "stopping"
        return Machine(
            id=vm["name"], name=tags.get(TAG_NAME, vm["name"]), cloud="azure", state=state,
            region=vm.get("location", self.location), type=props.get("hardwareProfile", {}).get("vmSize", ""),
            spot=props.get("priority") == "Spot", deadline=deadline_from(tags), job_ended=state == "stopped",
            tags=tags,
        )

    def _list(self) -> list[Machine]:
        out = []
        path: str | None = f"{self.rg_path}/Microsoft.Compute/virtualMachines"
        params: dict | None = {"api-version": COMPUTE_API, "$expand": "instanceView"}
        while path:
            resp = self.api.request("GET", path, params=params)
            for vm in resp.get("value", []):
                if (vm.get("tags") or {}).get(TAG_MANAGED) == "1":
                    out.append(self._machine(vm))
            nxt = resp.get("nextLink") or ""
            path, params = (nxt.replace(self.api.base_url, "", 1), None) if nxt else (None, None)
        return out

    def list(self) -> list[Machine]:
        return self._list()

    def terminate(self, machine_id: str) -> None:
        self.api.request("DELETE", self._vm(machine_id), params={"api-version": COMPUTE_API}, ok404=True)

    def cleanup(self, launch_id: str) -> None:
        for m in self._list():
            if m.tags.get(TAG_LAUNCH) == launch_id:
                self.terminate(m.id)


def make(env: Any = None, region: str = "us-west", **_: object) -> AzureProvisioner:
    get = env.get if env is not None else (lambda k, d=None: d)
    token = get("AZURE_ACCESS_TOKEN") or ""
    if not token:
        try:
            from azure.identity import DefaultAzureCredential

            token = DefaultAzureCredential().get_token("https://management.azure.com/.default").token
        except Exception:  # any failure means: no usable credentials
            raise RunnerError("azure: no credentials: set AZURE_ACCESS_TOKEN "
                              "(az account get-access-token) or install azure-identity")
    return AzureProvisioner(get("AZURE_SUBSCRIPTION_ID") or "", get("AZURE_RESOURCE_GROUP") or "tide-runners",
                            region, token, subnet_id=get("AZURE_SUBNET_ID") or "",
                            endpoint=get("TIDE_AZURE_ENDPOINT") or ENDPOINT)
