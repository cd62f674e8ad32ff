"""Deploy a promoted model: run the configured command, or copy the model to a storage location.

``deploy.command`` runs in the repository root through the shell with TIDE_MODEL_PATH,
TIDE_MODEL_NAME, TIDE_MODEL_VERSION and TIDE_STAGE in its environment; exit code 0 is success.
``deploy.copy_to`` is a directory or a remote URL (any scheme tide's storage supports); the model
is put there under its file name, then ``deployed.json`` says which version it is. Both puts are
atomic, so a reader never sees half a model. The result is returned, never raised: the caller
records it and keeps the previous production assignment when it failed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import time

from tide.core.errors import TideError
from tide.core.paths import config_path, is_url
from tide.core.redact import redact
from tide.core.settings import DeploySettings
from tide.registry.records import DeployResult


def deploy(root: str, cfg: DeploySettings, model_path: str, name: str, version: str, stage: str,
           env: dict[str, str] | None = None, timeout: float = 3600, file_name: str | None = None) -> DeployResult:
    """``file_name``: the deployed file's name (default: the model path's; the model may come from the
    cache, whose file names are hashes)."""
    if not cfg.configured:
        return DeployResult("none", True, "no deploy step configured (tide.yaml: deploy)")
    if not os.path.isfile(model_path):
        return DeployResult("command" if cfg.command else "copy", False, f"model file '{model_path}' is missing")
    if cfg.command:
        return _command(root, cfg.command, model_path, name, version, stage, env, timeout)
    return _copy(root, cfg.copy_to, model_path, name, version, stage, file_name)


def _command(root: str, command: str, model: str, name: str, version: str, stage: str,
             env: dict[str, str] | None, timeout: float) -> DeployResult:
    shown = redact(command)
    full = dict(env if env is not None else os.environ)
    full.update(TIDE_MODEL_PATH=model, TIDE_MODEL_NAME=name, TIDE_MODEL_VERSION=version, TIDE_STAGE=stage)
    try:
        proc = subprocess.run(command, shell=True, cwd=root, env=full, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return DeployResult("command", False, f"'{shown}' did not finish within {timeout:.0f} s")
    out = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
    last = redact(out[-1]) if out else ""  # the command may print a credential it was given
    if proc.returncode != 0:
        err = redact((proc.stderr.strip().splitlines() or [""])[-1])
        return DeployResult("command", False, f"'{shown}' exited with {proc.returncode}: {err}".rstrip(": "))
    return DeployResult("command", True, f"'{shown}' succeeded" + (f": {last}" if last else ""))


def _target(root: str, dest: str) -> str:
    from tide.storage.registry import scheme_of

    if scheme_of(dest) == "local" and not os.path.isabs(dest) and not is_url(dest):
        return config_path(root, dest, "deploy.copy_to")  # a relative target stays in the repository
    return dest


def deployed(root: str, cfg: DeploySettings) -> dict | None:
    """What ``deploy.copy_to`` holds now (its ``deployed.json``: name, version, stage, file), None when
    nothing was deployed there. Raises TideError when the target cannot be read, or has no way to tell
    (``deploy.command``: UsageError)."""
    from tide.core.config import Env
    from tide.core.errors import UsageError
    from tide.storage.base import RemoteSpec
    from tide.storage.registry import scheme_of
    from tide.storage.wrappers import open_retrying

    if not cfg.copy_to:
        raise UsageError("only a deploy.copy_to target can be checked (a deploy.command cannot be asked)")
    url = _target(root, cfg.copy_to)
    if scheme_of(url) == "local" and not os.path.isdir(url):
        return None
    backend = open_retrying(RemoteSpec("deploy", url), Env())
    try:
        if not backend.exists("deployed.json"):
            return None
        with backend.open("deployed.json") as f:
            raw = f.read()
    finally:
        backend.close()
    try:
        info = json.loads(raw)
    except ValueError:
        return {"version": None, "error": "deployed.json is not JSON"}
    if not isinstance(info, dict):
        return {"version": None, "error": "deployed.json is not a JSON object"}
    if scheme_of(url) == "local" and info.get("md5") and isinstance(info.get("file"), str):
        # a deploy cut short between the model and deployed.json: the file is not the version named
        path = os.path.join(url, os.path.basename(info["file"]))
        have = _md5_file(path) if os.path.isfile(path) else None
        if have != info["md5"]:
            return {**info, "version": None, "error": f"{info['file']} is not the model of {info.get('version')}"}
    return info


def _md5_file(path: str) -> str:
    import hashlib

    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _copy(root: str, dest: str, model: str, name: str, version: str, stage: str,
          file_name: str | None = None) -> DeployResult:
    from tide.core.config import Env
    from tide.storage.base import RemoteSpec
    from tide.storage.registry import scheme_of
    from tide.storage.wrappers import open_retrying

    try:
        url = _target(root, dest)
    except TideError as exc:
        return DeployResult("copy", False, str(exc))
    base = file_name or os.path.basename(model)
    info = {"name": name, "version": version, "stage": stage, "file": base, "md5": _md5_file(model),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        if scheme_of(url) == "local":
            os.makedirs(url, exist_ok=True)
        backend = open_retrying(RemoteSpec("deploy", url), Env())
        try:
            backend.put_file(model, base)
            data = (json.dumps(info, indent=2) + "\n").encode()
            backend.put_stream(io.BytesIO(data), "deployed.json", len(data))
        finally:
            backend.close()
    except (TideError, OSError) as exc:
        return DeployResult("copy", False, f"copy to {redact(dest)} failed: {exc}")
    return DeployResult("copy", True, f"{base} ({version}) copied to {redact(dest)}")
