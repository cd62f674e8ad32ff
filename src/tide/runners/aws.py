"""``aws``: EC2 instances through boto3.

Every instance is created by ONE ``RunInstances`` call that already carries tide's tags, the
startup script (user data, gzip-compressed when over EC2's 16 KiB limit; cloud-init unpacks it),
``InstanceInitiatedShutdownBehavior=terminate`` (the watchdog's poweroff destroys the machine),
IMDSv2, a root volume deleted on termination, and for ``--cloud-spot`` a one-time spot request.
``ClientToken`` is the launch id, so a retried call never starts a second machine, and after any
failure the instances tagged with the launch id are terminated.

Credentials come from boto3's usual chain (environment, profile, instance role); they are used by
the launcher only and never written to the machine.
"""

from __future__ import annotations

import gzip
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

USER_DATA_LIMIT = 16384
CAPABILITIES = Capabilities(
    spot=True, spot_price=True, gpu=True, terminate_on_shutdown=True, user_data_limit=USER_DATA_LIMIT,
    ssh_user="ubuntu", poweroff="shutdown -h now",
    spot_notice=SpotNotice(url="http://169.254.169.254/latest/meta-data/spot/instance-action", kind="status",
                           token_url="http://169.254.169.254/latest/api/token",
                           token_header="X-aws-ec2-metadata-token"),
)
_STATE = {"pending": "pending", "running": "running", "stopping": "stopping", "stopped": "stopped",
          "shutting-down": "stopping", "terminated": "terminated"}
_ALIVE_FILTER = ["pending", "running", "stopping", "stopped", "shutting-down"]


def split_zone(name: str) -> tuple[str, str]:
    """``us-east-1a`` -> (``us-east-1``, ``us-east-1a``); a region -> (region, "")."""
    if re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+[a-z]", name):
        return name[:-1], name
    return name, ""


class AwsProvisioner:
    kind = "aws"
    capabilities = CAPABILITIES

    def __init__(self, region: str = "us-west", client: Any = None, wait_timeout: float = 300,
                 poll: float = 2.0) -> None:
        self.region, self.zone = split_zone(catalog.REGIONS["aws"].get(region, region))
        self._client = client
        self.wait_timeout = wait_timeout
        self.poll = poll

    @property
    def ec2(self) -> Any:
        if self._client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:
                raise RunnerError("aws runners need boto3: pip install 'tide-ml[s3]'")
            self._client = boto3.session.Session(region_name=self.region).client(
                "ec2", config=Config(retries={"max_attempts": 5, "mode": "standard"}))
        return self._client

    def _call(self, op: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.ec2, op)(**kwargs)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise RunnerError(f"aws {self.region}: {op} failed: {err.get('Code', '')}: {err.get('Message', '')}")
        except BotoCoreError as exc:
            raise RunnerError(f"aws {self.region}: {op} failed: {exc}")

    # --- launch ---------------------------------------------------------------------------------
    def _image(self, spec: RunnerSpec) -> str:
        if spec.image.startswith("ami-"):
            return spec.image
        pattern = spec.image or catalog.IMAGES["aws"]
        images = self._call("describe_images", Owners=[catalog.AWS_IMAGE_OWNER, "self"],
                            Filters=[{"Name": "name", "Values": [pattern]}]).get("Images", [])
        if not images:
            raise RunnerError(f"aws {self.region}: no image named '{pattern}'; pass --cloud-image ami-...")
        return max(images, key=lambda i: i.get("CreationDate", ""))["ImageId"]

    def _params(self, spec: RunnerSpec, user_data: str, launch_id: str) -> dict[str, Any]:
        place = catalog.resolve("aws", spec.region, spec.type, spec.gpu)
        tags = [{"Key": k, "Value": v} for k, v in tags_for(spec, launch_id, spec.deadline()).items()]
        tags.append({"Key": "Name", "Value": spec.name})
        data = user_data.encode()
        if len(data) > USER_DATA_LIMIT:
            data = gzip.compress(data, 9)
            if len(data) > USER_DATA_LIMIT:
                raise RunnerError(f"startup script too large for EC2 user data ({len(data)} bytes compressed)")
        params: dict[str, Any] = {
            "ImageId": self._image(spec), "InstanceType": place.type, "MinCount": 1, "MaxCount": 1,
            "UserData": data, "ClientToken": launch_id, "InstanceInitiatedShutdownBehavior": "terminate",
            "TagSpecifications": [{"ResourceType": "instance", "Tags": tags},
                                  {"ResourceType": "volume", "Tags": tags}],
            "BlockDeviceMappings": [{"DeviceName": spec.option("aws_root_device", "/dev/sda1"),
                                     "Ebs": {"VolumeSize": int(spec.hdd_size), "DeleteOnTermination": True,
                                             "VolumeType": "gp3"}}],
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
        }
        if self.zone:
            params["Placement"] = {"AvailabilityZone": self.zone}
        if spec.spot:
            opts: dict[str, Any] = {"SpotInstanceType": "one-time", "InstanceInterruptionBehavior": "terminate"}
            if spec.spot_price > 0:
                opts["MaxPrice"] = f"{spec.spot_price:g}"
            params["InstanceMarketOptions"] = {"MarketType": "spot", "SpotOptions": opts}
        if spec.permission_set:
            ps = spec.permission_set
            params["IamInstanceProfile"] = {"Arn": ps} if ps.startswith("arn:") else {"Name": ps}
        if spec.option("aws_security_group"):
            params["SecurityGroupIds"] = [spec.option("aws_security_group")]
        if spec.option("aws_subnet"):
            params["SubnetId"] = spec.option("aws_subnet")
        return params

    def _import_key(self, spec: RunnerSpec, launch_id: str) -> str:
        import subprocess

        try:
            pub = subprocess.run(["ssh-keygen", "-y", "-f", spec.ssh_private], capture_output=True,
                                 check=True, text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            raise RunnerError(f"--cloud-ssh-private: cannot read a private key from '{spec.ssh_private}'")
        name = f"tide-{launch_id}"
        self._call("import_key_pair", KeyName=name, PublicKeyMaterial=pub.encode())
        return name

    def launch(self, spec: RunnerSpec, user_data: str, launch_id: str) -> Machine:
        key_name = ""
        iid = ""

        def terminate_started() -> None:  # reads iid when undoing: set once run_instances answered
            if iid:
                self.terminate(iid)

        try:
            with undone_on_failure(terminate_started, lambda: self.cleanup(launch_id)):
                params = self._params(spec, user_data, launch_id)
                if spec.ssh_private:
                    key_name = self._import_key(spec, launch_id)
                    params["KeyName"] = key_name
                resp = self._call("run_instances", **params)
                iid = resp["Instances"][0]["InstanceId"]
                machine = self._wait_running(iid)
        finally:
            if key_name:
                try:  # the instance keeps the key; nothing needs the key pair after launch
                    self._call("delete_key_pair", KeyName=key_name)
                except RunnerError:
                    pass
        return machine

    def _wait_running(self, iid: str) -> Machine:
        end = time.monotonic() + self.wait_timeout
        while True:
            found = [m for m in self._describe([{"Name": "instance-id", "Values": [iid]}]) if m.id == iid]
            if found and found[0].state == "running":
                return found[0]
            if found and found[0].state not in ("pending",):
                raise RunnerError(f"aws {self.region}: instance {iid} is {found[0].state} before it ran"
                                  + (f" ({found[0].reason})" if found[0].reason else ""))
            if time.monotonic() > end:
                raise RunnerError(f"aws {self.region}: instance {iid} not running after {self.wait_timeout:.0f}s")
            time.sleep(self.poll)

    # --- list / terminate -----------------------------------------------------------------------
    def _describe(self, filters: list[dict]) -> list[Machine]:
        out: list[Machine] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"Filters": filters}
            if token:
                kwargs["NextToken"] = token
            resp = self._call("describe_instances", **kwargs)
            for res in resp.get("Reservations", []):
                for inst in res.get("Instances", []):
                    out.append(self._machine(inst))
            token = resp.get("NextToken")
            if not token:
                return out

    def _machine(self, inst: dict) -> Machine:
        tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
        state = _STATE.get(inst.get("State", {}).get("Name", ""), "pending")
        sr = inst.get("StateReason", {}) or {}
        reason = "spot-interruption" if "Spot" in sr.get("Code", "") else (sr.get("Message", "") or "")
        launched = inst.get("LaunchTime")
        return Machine(
            id=inst["InstanceId"], name=tags.get(TAG_NAME, inst["InstanceId"]), cloud="aws", state=state,
            region=inst.get("Placement", {}).get("AvailabilityZone", self.region),
            type=inst.get("InstanceType", ""), spot=inst.get("InstanceLifecycle") == "spot",
            launched_at=launched.timestamp() if hasattr(launched, "timestamp") else 0.0,
            deadline=deadline_from(tags), address=inst.get("PublicIpAddress") or inst.get("PrivateIpAddress", ""),
            reason=reason, job_ended=state == "stopped", tags=tags,
        )

    def list(self) -> list[Machine]:
        return self._describe([{"Name": f"tag:{TAG_MANAGED}", "Values": ["1"]},
                               {"Name": "instance-state-name", "Values": _ALIVE_FILTER}])

    def terminate(self, machine_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.ec2.terminate_instances(InstanceIds=[machine_id])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code.startswith("InvalidInstanceID"):
                return
            raise RunnerError(f"aws {self.region}: terminate {machine_id} failed: {code}")
        except BotoCoreError as exc:
            raise RunnerError(f"aws {self.region}: terminate {machine_id} failed: {exc}")

    def cleanup(self, launch_id: str) -> None:
        for m in self._describe([{"Name": f"tag:{TAG_LAUNCH}", "Values": [launch_id]},
                                 {"Name": "instance-state-name", "Values": _ALIVE_FILTER}]):
            self.terminate(m.id)


def make(region: str = "us-west", client: Any = None, **_: object) -> AwsProvisioner:
    return AwsProvisioner(region, client=client)
