"""A small JSON-over-HTTPS client for the clouds driven through their REST APIs (GCP Compute,
Azure Resource Manager, Kubernetes): httpx with retries on 429/5xx/connection errors, one-line
RunnerErrors that never contain the bearer token."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tide.core.errors import RunnerError

RETRY = {429, 500, 502, 503, 504}


@dataclass
class Rest:
    base_url: str
    token: str = field(default="", repr=False)
    where: str = "cloud"
    verify: Any = True
    headers: dict[str, str] = field(default_factory=dict)
    tries: int = 4
    backoff: float = 0.5
    timeout: float = 30.0
    _client: Any = field(default=None, repr=False)

    def client(self) -> Any:
        if self._client is None:
            try:
                import httpx
            except ImportError:
                raise RunnerError(f"{self.where}: needs httpx: pip install 'tide-ml[forge]'")
            headers = {"Accept": "application/json", **self.headers}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            self._client = httpx.Client(base_url=self.base_url, headers=headers, verify=self.verify,
                                        timeout=self.timeout)
        return self._client

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
                ok404: bool = False, content_type: str = "") -> Any:
        import httpx

        headers = {"Content-Type": content_type} if content_type else None
        last = ""
        for attempt in range(self.tries):
            try:
                resp = self.client().request(method, path, json=json, params=params, headers=headers)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code == 404 and ok404:
                    return None
                if resp.status_code < 400:
                    if not resp.content:
                        return {}
                    try:
                        return resp.json()
                    except ValueError:
                        return {"raw": resp.text}
                last = f"HTTP {resp.status_code}: {self._message(resp)}"
                if resp.status_code not in RETRY:
                    break
            if attempt + 1 < self.tries:
                time.sleep(self.backoff * (2**attempt))
        msg = f"{self.where}: {method} {path} failed: {last}"
        if self.token:
            msg = msg.replace(self.token, "***")
        raise RunnerError(msg)

    @staticmethod
    def _message(resp: Any) -> str:
        try:
            body = resp.json()
        except ValueError:
            return resp.text[:200]
        err = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or err)[:300]
        return str(err)[:300]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
