"""GCP, Azure and Kubernetes provisioners against stateful fakes of their REST APIs: launch with
tags, list (paged), terminate (idempotent), cleanup after a failed launch, reap."""

from __future__ import annotations

import time

import pytest

from tests.fakes import runners as fakes
from tide.core.config import Env
from tide.core.errors import RunnerError
from tide.runners import azure, gcp, kubernetes
from tide.runners.base import RunnerSpec
from tide.runners.reaper import reap


def make(kind, serve, tmp_path):
    if kind == "gcp":
        app = fakes.GcpFake()
        s = serve(app)
        env = Env({"GOOGLE_OAUTH_ACCESS_TOKEN": app.token, "GOOGLE_CLOUD_PROJECT": "proj", "TIDE_GCP_ENDPOINT": s.url})
        return app, gcp.make(env=env, region="us-east")
    if kind == "azure":
        app = fakes.AzureFake()
        s = serve(app)
        env = Env({"AZURE_ACCESS_TOKEN": app.token, "AZURE_SUBSCRIPTION_ID": "sub", "AZURE_SUBNET_ID": "/sn",
                   "TIDE_AZURE_ENDPOINT": s.url})
        p = azure.make(env=env, region="eu-west")
        p.poll = 0.01
        return app, p
    app = fakes.K8sFake()
    s = serve(app)
    kc = tmp_path / "kubeconfig"
    kc.write_text(f"current-context: c\ncontexts:\n- name: c\n  context: {{cluster: k, user: u, namespace: ml}}\n"
                  f"clusters:\n- name: k\n  cluster: {{server: '{s.url}'}}\nusers:\n- name: u\n"
                  f"  user: {{token: {app.token}}}\n")
    return app, kubernetes.make(env=Env({"KUBECONFIG": str(kc)}))


@pytest.mark.parametrize("kind", ["gcp", "azure", "kubernetes"])
def test_conformance(kind, serve, tmp_path):
    app, p = make(kind, serve, tmp_path)
    specs = [RunnerSpec(name=f"r{i}", cloud=kind, spot=p.capabilities.spot and i == 0, max_runtime=60 if i else 3600,
                        type="s") for i in range(3)]
    machines = [p.launch(s, "#!/bin/bash\necho hi\n", f"launch-{s.name}") for s in specs]
    assert [m.name for m in machines] == ["r0", "r1", "r2"]
    listed = sorted(p.list(), key=lambda m: m.name)
    assert [m.name for m in listed] == ["r0", "r1", "r2"]  # all pages
    assert listed[0].tags.get("tide-managed") == "1" and listed[1].deadline
    if p.capabilities.spot:
        assert listed[0].spot
    verdicts = reap(p, time.time() + 120)
    assert sorted(v.machine.name for v in verdicts) == ["r1", "r2"]
    assert [m.name for m in p.list()] == ["r0"]
    p.terminate(listed[0].id)
    p.terminate(listed[0].id)  # idempotent
    assert p.list() == []


@pytest.mark.parametrize("kind,fail", [("gcp", "insert-op"), ("azure", "put-virtualMachines")])
def test_failed_launch_leaves_nothing(kind, fail, serve, tmp_path):
    app, p = make(kind, serve, tmp_path)
    app.fail.add(fail)
    with pytest.raises(RunnerError):
        p.launch(RunnerSpec(name="bad", cloud=kind, type="s"), "#!/bin/bash\n", "launch-bad")
    app.fail.clear()
    assert p.list() == []
    if kind == "azure":
        assert app.nics == {}


def test_kubernetes_job_spec_and_finished_job_is_reaped(serve, tmp_path):
    app, p = make("kubernetes", serve, tmp_path)
    p.launch(RunnerSpec(name="kjob", cloud="kubernetes", type="m", gpu="t4", max_runtime=600), "echo", "l-k")
    job = app.jobs["kjob"]
    spec = job["spec"]
    assert spec["activeDeadlineSeconds"] == 600 and spec["backoffLimit"] == 0
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"name": "TIDE_FOREGROUND", "value": "1"} in pod["containers"][0]["env"]
    app.finish("kjob")
    assert [v.reason for v in reap(p, time.time())] == ["job-ended"]


def test_gcp_body_no_service_account_and_native_deadline(serve, tmp_path):
    app, p = make("gcp", serve, tmp_path)
    p.launch(RunnerSpec(name="g1", cloud="gcp", type="m", gpu="t4", spot=True, max_runtime=7200), "echo", "l-g")
    inst = next(iter(app.instances.values()))
    assert inst["serviceAccounts"] == []
    assert inst["scheduling"]["maxRunDuration"] == {"seconds": "7200"}
    assert inst["scheduling"]["provisioningModel"] == "SPOT"
    assert inst["guestAccelerators"][0]["acceleratorType"].endswith("nvidia-tesla-t4")
    assert {"key": "startup-script", "value": "echo"} in inst["metadata"]["items"]


def test_bad_token_is_one_line_without_the_secret(serve, tmp_path):
    app = fakes.GcpFake()
    s = serve(app)
    p = gcp.GcpProvisioner("proj", "us-east1-c", "wrong-secret-token", endpoint=s.url)
    with pytest.raises(RunnerError) as exc:
        p.list()
    assert "401" in str(exc.value) and "wrong-secret-token" not in str(exc.value)
