"""AWS provisioner against moto's EC2 server: launch (tags, user data, spot, instance profile),
list, stop, reap, failure injected at every API step of launch and teardown."""

from __future__ import annotations

import base64
import functools
import gzip
import time

import boto3
import pytest

from tests.runners.conftest import LAUNCHER_KEY_ID, LAUNCHER_SECRET
from tide.core.errors import RunnerError
from tide.ops import runner as ops
from tide.runners.aws import AwsProvisioner
from tide.runners.base import RunnerSpec
from tide.runners.reaper import reap

pytestmark = pytest.mark.usefixtures("aws_env")


def client():
    from botocore.config import Config

    return boto3.client("ec2", region_name="us-east-1", config=Config(retries={"max_attempts": 1}))


@functools.lru_cache(maxsize=1)
def image_id() -> str:
    imgs = client().describe_images(Owners=["099720109477"], Filters=[
        {"Name": "name", "Values": ["ubuntu/images/*"]}])["Images"]
    return (imgs or client().describe_images()["Images"])[0]["ImageId"]


def prov(c=None) -> AwsProvisioner:
    return AwsProvisioner("us-east", client=c or client(), poll=0.05, wait_timeout=5)


def running(name_prefix: str = "") -> list[dict]:
    out = []
    for r in client().describe_instances()["Reservations"]:
        for i in r["Instances"]:
            tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
            if i["State"]["Name"] in ("pending", "running") and tags.get("tide-runner", "").startswith(name_prefix):
                out.append(i)
    return out


def spec(name: str, **kw) -> RunnerSpec:
    return RunnerSpec(name=name, cloud="aws", region="us-east", type="s", image=image_id(), **kw)


def test_launch_tags_user_data_spot_profile_and_no_credentials():
    iam = boto3.client("iam", region_name="us-east-1")
    arn = iam.create_instance_profile(InstanceProfileName="tide-tr")["InstanceProfile"]["Arn"]
    s = spec("aws-full", spot=True, spot_price=0.05, permission_set=arn,
             labels=("gpu", "train"), metadata=(("team", "ml"),), max_runtime=3600)
    res = ops.launch(s, no_agent=True, prov=prov(), emit=lambda e: None)
    m = res.machine
    assert m.state == "running" and m.type == "t3.medium"
    inst = client().describe_instances(InstanceIds=[m.id])["Reservations"][0]["Instances"][0]
    tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
    assert tags["tide-managed"] == "1" and tags["tide-runner"] == "aws-full" and tags["team"] == "ml"
    assert tags["tide-labels"] == "gpu_train"
    assert abs(int(tags["tide-deadline"]) - (time.time() + 3600)) < 60
    assert inst.get("InstanceLifecycle") == "spot"
    assert inst["IamInstanceProfile"]["Arn"] == arn
    raw = client().describe_instance_attribute(InstanceId=m.id, Attribute="userData")["UserData"]["Value"]
    data = base64.b64decode(raw)
    script = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()
    assert script.startswith("#!/usr/bin/env bash") and "watchdog.py" in script
    assert 'TIDE_POWEROFF="${TIDE_POWEROFF-shutdown -h now}"' in script
    for secret in (LAUNCHER_SECRET, LAUNCHER_KEY_ID):
        assert secret not in script
    shutdown = client().describe_instance_attribute(InstanceId=m.id, Attribute="instanceInitiatedShutdownBehavior")
    assert shutdown["InstanceInitiatedShutdownBehavior"]["Value"] == "terminate"
    listed = [x for x in prov().list() if x.id == m.id]
    assert listed and listed[0].spot and listed[0].name == "aws-full"
    ops.stop(prov(), "aws-full")
    assert not running("aws-full")


def test_reap_past_deadline_and_stopped():
    p = prov()
    p.launch(spec("aws-reap-old", max_runtime=60), "#!/bin/sh\n", "aws-reap-old-l")
    done = p.launch(spec("aws-reap-done"), "#!/bin/sh\n", "aws-reap-done-l")
    keep = p.launch(spec("aws-reap-keep"), "#!/bin/sh\n", "aws-reap-keep-l")
    client().stop_instances(InstanceIds=[done.id])
    verdicts = {v.machine.name: v.reason for v in reap(p, time.time() + 120)}
    assert verdicts.get("aws-reap-old") == "past-deadline"
    assert verdicts.get("aws-reap-done") == "job-ended"
    assert "aws-reap-keep" not in verdicts
    alive = {i["InstanceId"] for i in running("aws-reap")}
    assert alive == {keep.id}
    p.terminate(keep.id)
    p.terminate(keep.id)  # idempotent
    p.terminate("i-0123456789abcdef0")  # unknown: not an error


class Boom(Exception):
    pass


@pytest.mark.parametrize("hook", [
    "before-call.ec2.DescribeImages", "before-call.ec2.ImportKeyPair", "before-call.ec2.RunInstances",
    "after-call.ec2.RunInstances", "after-call.ec2.DescribeInstances",
])
def test_failure_at_every_launch_step_leaves_nothing_running(hook, tmp_path):
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    name = "aws-f-" + hook.split(".")[-1].lower()[:12] + ("a" if hook.startswith("after") else "b")
    c = client()
    fired = []

    def boom(**kw):
        if not fired:
            fired.append(1)
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="injected")

    c.meta.events.register(hook, boom)
    s = spec(name, ssh_private=str(tmp_path / "k"))
    if "DescribeImages" in hook:
        s = s.with_(image="ubuntu/images/*")
    with pytest.raises(RunnerError, match="injected"):
        ops.launch(s, no_agent=True, prov=prov(c), emit=lambda e: None)
    assert fired, "the injected failure never fired"
    assert not running(name), f"{hook}: an instance is left running"
    assert not [k for k in client().describe_key_pairs()["KeyPairs"] if k["KeyName"].startswith(f"tide-{name}")]


@pytest.mark.parametrize("hook", ["before-call.ec2.TerminateInstances", "before-call.ec2.DescribeInstances"])
def test_failure_in_teardown_is_reported_and_reaper_finishes(hook):
    name = "aws-t-" + hook.split(".")[-1].lower()[:10]
    m = prov().launch(spec(name, max_runtime=60), "#!/bin/sh\n", name + "-l")
    c = client()

    def boom(**kw):
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="injected")

    c.meta.events.register(hook, boom)
    with pytest.raises(RunnerError):
        ops.stop(prov(c), name)
    assert running(name)
    # the launcher is gone; the reaper, run later on its own, still ends the machine
    verdicts = reap(prov(), time.time() + 120)
    assert any(v.machine.id == m.id and not v.error for v in verdicts)
    assert not running(name)


def test_cli_list_stop_reap(tide, tmp_path):
    s = spec("aws-cli")
    prov().launch(s, "#!/bin/sh\n", "aws-cli-l")
    out = tide("runner", "list", "--cloud", "aws", "--cloud-region", "us-east-1", cwd=tmp_path).stdout
    assert "aws-cli" in out and "running" in out
    tide("runner", "stop", "aws-cli", "--cloud", "aws", "--cloud-region", "us-east-1", cwd=tmp_path)
    assert not running("aws-cli")
    bad = tide("runner", "stop", "nope", "--cloud", "aws", "--cloud-region", "us-east-1", cwd=tmp_path, check=False)
    assert bad.returncode == 1 and bad.stderr.strip() == "ERROR: no runner named 'nope' on aws"
