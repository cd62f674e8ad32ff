"""Real servers on loopback for the storage tests: moto (S3), OpenSSH sshd (SFTP), wsgidav (WebDAV),
http.server (HTTP). A server that cannot start fails the test run; nothing is skipped."""

from __future__ import annotations

import functools
import getpass
import http.server
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"server exited with {proc.returncode}: {out}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"server on port {port} did not start within {timeout}s")


# --- S3 (moto) -----------------------------------------------------------------------------------
class MotoS3:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        wait_port(self.port)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._n = 0

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def new_bucket(self, prefix: str = "b") -> str:
        self._n += 1
        name = f"{prefix}-{os.getpid()}-{self._n}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.server.stop()


S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
          "AWS_EC2_METADATA_DISABLED": "true"}


# --- Google Cloud Storage (gcp-storage-emulator, a Python emulator of the JSON API) ------------------
class GcsEmulator:
    def __init__(self) -> None:
        import logging

        from gcp_storage_emulator.server import create_server

        logging.getLogger("gcp_storage_emulator").setLevel(logging.ERROR)
        self.port = free_port()
        self.server = create_server("127.0.0.1", self.port, in_memory=True)
        self.server.start()
        wait_port(self.port)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._n = 0

    def new_bucket(self) -> str:
        import json
        import urllib.request

        self._n += 1
        name = f"gb-{os.getpid()}-{self._n}"
        req = urllib.request.Request(f"{self.endpoint}/storage/v1/b?project=test", method="POST",
                                     data=json.dumps({"name": name}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()
        return name

    def stop(self) -> None:
        self.server.stop()


# --- Azure Blob Storage (Azurite, installed from npm by scripts/sysdeps.sh) --------------------------
# Azurite's well-known development account key (public, documented by Microsoft)
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_binary() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    for p in (os.environ.get("TIDE_TEST_AZURITE"), os.path.join(root, ".venv", "azurite", "node_modules", ".bin",
                                                                 "azurite-blob"), shutil.which("azurite-blob")):
        if p and os.path.exists(p):
            return p
    pytest.fail("Azurite is not installed: run 'make sysdeps' (scripts/sysdeps.sh installs it with npm)")


class Azurite:
    def __init__(self, base: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [azurite_binary(), "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", base,
             "--silent", "--skipApiVersionCheck", "--loose"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(self.port, timeout=30, proc=self.proc)
        self.conn = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
                     f"BlobEndpoint=http://127.0.0.1:{self.port}/devstoreaccount1;")
        self._n = 0

    def new_container(self) -> str:
        from azure.storage.blob import BlobServiceClient

        self._n += 1
        name = f"c-{os.getpid()}-{self._n}"
        BlobServiceClient.from_connection_string(self.conn).create_container(name)
        return name

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --- SFTP (OpenSSH sshd) -------------------------------------------------------------------------
def sshd_binary() -> str:
    for p in (shutil.which("sshd"), "/usr/sbin/sshd", "/usr/bin/sshd"):
        if p and os.path.exists(p):
            return p
    pytest.fail("OpenSSH sshd is not installed: run 'make sysdeps' (scripts/sysdeps.sh installs openssh-server)")


class Sshd:
    def __init__(self, base: str) -> None:
        self.base = base
        os.makedirs(base, exist_ok=True)
        self.port = free_port()
        self.user = getpass.getuser()
        host_key = os.path.join(base, "host_ed25519")
        self.client_key = os.path.join(base, "client_ed25519")
        for key in (host_key, self.client_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        auth = os.path.join(base, "authorized_keys")
        shutil.copy(self.client_key + ".pub", auth)
        os.chmod(auth, 0o600)
        conf = os.path.join(base, "sshd_config")
        lines = [
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}",
            f"PidFile {os.path.join(base, 'sshd.pid')}", f"AuthorizedKeysFile {auth}", "StrictModes no",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
            "UsePAM no", "Subsystem sftp internal-sftp", "LogLevel ERROR", "MaxSessions 64", "MaxStartups 64",
            "ClientAliveInterval 5",  # a killed client's session ends (runner tests cut connections)
        ]
        if os.geteuid() == 0:
            lines.append("PermitRootLogin prohibit-password")
            os.makedirs("/run/sshd", exist_ok=True)
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([sshd_binary(), "-D", "-e", "-f", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        wait_port(self.port, proc=self.proc)

    def url(self, path: str) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --- WebDAV (wsgidav + cheroot) ------------------------------------------------------------------
class WebDav:
    user = "dav"
    password = "secret-dav"

    def __init__(self, root: str) -> None:
        from cheroot import wsgi
        from wsgidav.wsgidav_app import WsgiDAVApp

        self.root = root
        os.makedirs(root, exist_ok=True)
        self.port = free_port()
        app = WsgiDAVApp({
            "host": "127.0.0.1", "port": self.port, "provider_mapping": {"/": root},
            "http_authenticator": {"domain_controller": None, "accept_basic": True, "accept_digest": False,
                                   "default_to_digest": False},
            "simple_dc": {"user_mapping": {"*": {self.user: {"password": self.password}}}},
            "verbose": 0, "logging": {"enable": False, "enable_loggers": []},
        })
        self.server = wsgi.Server(("127.0.0.1", self.port), app, numthreads=16)
        self.thread = threading.Thread(target=self.server.safe_start, daemon=True)
        self.thread.start()
        wait_port(self.port)

    def url(self, sub: str) -> str:
        return f"webdav://127.0.0.1:{self.port}/{sub}"

    def stop(self) -> None:
        self.server.stop()


# --- HTTP (read-only) ----------------------------------------------------------------------------
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class StaticHttp:
    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.port = free_port()
        handler = functools.partial(_Quiet, directory=root)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        wait_port(self.port)

    def url(self, sub: str) -> str:
        return f"http://127.0.0.1:{self.port}/{sub}"

    def stop(self) -> None:
        self.server.shutdown()
