"""A small JSON-over-HTTPS client for the clouds driven through their REST APIs (GCP Compute,
Azure Resource Manager, Kubernetes): httpx, calls repeated on 429/5xx/connection errors by the one
retry policy (``core.retry``), one-line RunnerErrors that never contain the bearer token."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tide.core.errors import RunnerError
from tide.core.retry import RetryPolicy, Transient

RETRY = {429, 500, 502, 503, 504}


class _Retryable(RunnerError, Transient):
    """A connection error or a 429/5xx answer: ``Rest.request``'s policy repeats the call."""


@dataclass
class Rest:
    base_url: str
    token: str = field(default="", repr=False)
    where: str = "cloud"
    verify: Any = True
    headers: dict[str, str] = field(default_factory=dict)
    policy: RetryPolicy = RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
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
        """One API call, repeated by ``policy`` (the one retry loop, ``core.retry``) while it fails
        with a connection error or a 429/5xx; any other answer of 400 or more fails at once."""
        try:
            return self.policy.run(lambda: self._once(method, path, json, params, ok404, content_type),
                                   self.sleep)
        except _Retryable as exc:
            raise self._error(method, path, str(exc)) from None

    def _once(self, method: str, path: str, json: Any, params: dict | None, ok404: bool,
              content_type: str) -> Any:
        import httpx

        headers = {"Content-Type": content_type} if content_type else None
        try:
            resp = self.client().request(method, path, json=json, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
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
        if resp.status_code in RETRY:
            raise _Retryable(last)
        raise self._error(method, path, last)

    def _error(self, method: str, path: str, last: str) -> RunnerError:
        msg = f"{self.where}: {method} {path} failed: {last}"
        if self.token:
            msg = msg.replace(self.token, "***")
        return RunnerError(msg)

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
