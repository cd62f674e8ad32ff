"""Fixtures of the runner tests, on the suite's servers and fakes (tests/fakes): the sshd as a runner
target, moto's EC2 API, stateful fakes of the GCP Compute, Azure Resource Manager and Kubernetes APIs,
and a spot-notice metadata endpoint."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fakes import runners as fakes
from tests.reliability import canaries

LAUNCHER_KEY_ID = "AKIA" + canaries.value("AWS_ACCESS_KEY_ID").upper()
LAUNCHER_SECRET = canaries.value("AWS_SECRET_ACCESS_KEY")


@pytest.fixture
def ssh_home(sshd, monkeypatch):
    """The suite's sshd (tests/fakes) as a runner target: the isolated HOME's ~/.ssh/config points at
    its key (as a user would set it up). ``host`` is USER@127.0.0.1:PORT, ``key`` the private key."""
    home = Path(os.environ["HOME"])
    (home / ".ssh").mkdir(mode=0o700, exist_ok=True)
    (home / ".ssh" / "config").write_text(
        f"Host 127.0.0.1\n  IdentityFile {sshd.client_key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {home}/.ssh/known_hosts\n")
    return {"host": f"{sshd.user}@127.0.0.1:{sshd.port}", "key": sshd.client_key, "port": sshd.port,
            "user": sshd.user}


@pytest.fixture
def aws_env(moto_s3, monkeypatch):
    """The launcher's AWS settings, against the suite's moto server (tests/fakes; it serves EC2 too)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LAUNCHER_KEY_ID)  # the launcher's credentials: canaries, which
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LAUNCHER_SECRET)  # the canary run fails a test for printing
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_s3.endpoint)
    return moto_s3.endpoint


class _Server:
    def __init__(self, app) -> None:
        handler = type("H", (fakes.Handler,), {"app": app})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.app = app

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(app):
        s = _Server(app)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def metadata(serve):
    """A spot-notice endpoint: 404 until ``.notice = True`` (AWS ``spot/instance-action`` behaviour)."""
    app = fakes.SpotMetadata()
    return serve(app)


__all__ = ["json", "BaseHTTPRequestHandler"]
