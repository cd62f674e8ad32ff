"""Servers for the runner tests: a real OpenSSH sshd on loopback, moto's EC2 server, stateful fakes
of the GCP Compute, Azure Resource Manager and Kubernetes APIs, and a spot-notice metadata endpoint."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.reliability import canaries
from tests.runners import fakes

LAUNCHER_KEY_ID = "AKIA" + canaries.value("AWS_ACCESS_KEY_ID").upper()
LAUNCHER_SECRET = canaries.value("AWS_SECRET_ACCESS_KEY")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A real sshd on 127.0.0.1 accepting one generated key for the current user."""
    exe = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(exe):
        pytest.fail("sshd not installed: run 'make sysdeps' (scripts/sysdeps.sh installs openssh-server)")
    d = tmp_path_factory.mktemp("sshd")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "client_key")], check=True)
    shutil.copy(d / "client_key.pub", d / "authorized_keys")
    os.chmod(d / "authorized_keys", 0o600)
    port = free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n"
        f"PidFile {d}/sshd.pid\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
        "MaxStartups 50\nClientAliveInterval 5\n"
    )
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", exist_ok=True)
    proc = subprocess.Popen([exe, "-D", "-e", "-f", str(d / "sshd_config")], stderr=open(d / "sshd.log", "w"))  # noqa: SIM115
    wait_port(port)
    import getpass

    yield {"host": f"{getpass.getuser()}@127.0.0.1:{port}", "key": str(d / "client_key"), "port": port,
           "user": getpass.getuser(), "dir": d}
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def ssh_home(sshd, monkeypatch):
    """The isolated HOME's ~/.ssh/config points at the test sshd's key (as a user would set it up)."""
    home = Path(os.environ["HOME"])
    (home / ".ssh").mkdir(mode=0o700, exist_ok=True)
    (home / ".ssh" / "config").write_text(
        f"Host 127.0.0.1\n  IdentityFile {sshd['key']}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {home}/.ssh/known_hosts\n")
    return sshd


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    wait_port(port, 30)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def aws_env(moto_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LAUNCHER_KEY_ID)  # the launcher's credentials: canaries, which
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LAUNCHER_SECRET)  # the canary run fails a test for printing
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return moto_server


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
