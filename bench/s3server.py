"""A moto S3 server on loopback, the same kind the test suite uses, for the S3 push/pull rows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from harness import BenchError

CREDS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


class MotoServer:
    def __init__(self, log_path: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
        if not os.path.exists(exe):
            raise BenchError("moto_server not found in the tide venv: install tide[test] (make venv)")
        self._log = open(log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(self.port)], stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise BenchError(f"moto_server exited with {self.proc.returncode}; see {log_path}")
                time.sleep(0.2)
        else:
            self.stop()
            raise BenchError("moto_server did not start within 30 s")
        self._client = None

    def client(self):  # noqa: ANN201
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
        return f"['remote \"s3\"']\n    url = s3://{bucket}/store\n    endpointurl = {self.url}\n"

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
