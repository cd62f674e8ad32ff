"""S3 servers on loopback for the S3 push/pull rows: moto (the kind the test suite uses) and s3lite.

moto spends ~3.6 ms of CPU per request, so on a small machine it, not the client, sets the time of
a transfer of many small objects; s3lite (``bench/s3lite.py``, ~0.1 ms) lets the clients be measured.
Both have the same interface: ``url``, ``env()``, ``remote_config(bucket)``, ``empty(bucket)``, ``stop()``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable

from harness import BenchError

CREDS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


class MotoServer:
    name = "s3"  # the dvc remote's name

    def __init__(self, log_path: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
        if not os.path.exists(exe):
            raise BenchError("moto_server not found in the tide venv: install tide-ml[test] (make venv)")
        self._start([exe, "-H", "127.0.0.1", "-p", str(self.port)], "/moto-api/", "moto_server", log_path)
        self._client = None

    def _start(self, argv: list[str], probe: str, name: str, log_path: str) -> None:
        """Start the server and wait (30 s at most) until ``probe`` answers."""
        self._log = open(log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + probe, timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise BenchError(f"{name} exited with {self.proc.returncode}; see {log_path}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise BenchError(f"{name} did not start within 30 s")
                time.sleep(0.05)

    def client(self):
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "s3", endpoint_url=self.url, aws_access_key_id="bench", aws_secret_access_key="bench",
                region_name="us-east-1",
            )
        return self._client

    def env(self) -> dict[str, str]:
        return dict(CREDS)

    def remote_config(self, bucket: str) -> str:
        return f"['remote \"{self.name}\"']\n    url = s3://{bucket}/store\n    endpointurl = {self.url}\n"

    def empty(self, bucket: str) -> None:
        c = self.client()
        try:
            c.create_bucket(Bucket=bucket)
        except c.exceptions.BucketAlreadyOwnedByYou:
            pass
        paginator = c.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                c.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class S3LiteServer(MotoServer):
    """``bench/s3lite.py`` run by this Python, its buckets directories under ``root`` (emptied first)."""

    name = "s3lite"

    def __init__(self, root: str, log_path: str, discard: Callable[[str], None] = shutil.rmtree) -> None:
        self.root = root
        self._discard = discard
        if os.path.exists(root):
            discard(root)
        os.makedirs(root)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s3lite.py")
        self._start([sys.executable, script, "--root", root, "--port", str(self.port)], "/", "s3lite", log_path)
        self._client = None

    def empty(self, bucket: str) -> None:
        """Swap the bucket's directory for an empty one (renamed aside: no deletion between timed runs)."""
        path = os.path.join(self.root, bucket)
        if os.path.exists(path):
            self._discard(path)
        os.makedirs(path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
