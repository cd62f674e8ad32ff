"""The HTTP client every hosted-forge driver shares: httpx plus retries, backoff and pagination.

Retried: connection errors, 429, 502/503/504, and 403 responses that are rate limits (GitHub
answers 403 with ``x-ratelimit-remaining: 0`` or ``Retry-After``). The wait is ``Retry-After``
(seconds or HTTP date), else ``x-ratelimit-reset``, else exponential backoff; capped by
``max_wait`` so a CI job never sleeps for an hour. Secrets given to the client are scrubbed from
every error message.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tide.core.errors import ForgeError
from tide.core.retry import RetryPolicy, Transient
from tide.forge.answer import Answer, answers

RETRY_STATUS = {429, 502, 503, 504}


class _Retryable(ForgeError, Transient):
    """A connection error or a rate-limit/5xx answer: ``Api.request``'s policy repeats the call."""


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


def _retry_after(resp: Any, now: float) -> float | None:
    value = resp.headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
            return max(0.0, when - now)
        except (TypeError, ValueError):
            return None
    reset = resp.headers.get("x-ratelimit-reset")
    if reset and reset.strip().isdigit() and resp.headers.get("x-ratelimit-remaining") == "0":
        return max(0.0, float(reset) - now)
    return None


def _is_rate_limited(resp: Any) -> bool:
    if resp.status_code in RETRY_STATUS:
        return True
    if resp.status_code == 403:
        return resp.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in resp.headers
    return False


@dataclass
class Api:
    """A JSON REST client for one forge API base URL.

    ``describe_error(response)`` extracts the forge's own error message from a failed response;
    ``page_key`` and ``page_next`` are this forge's defaults for :meth:`pages`. Answers are read
    through :class:`~tide.forge.answer.Answer` (:meth:`answer`, :meth:`pages`): a malformed answer is a
    ForgeError naming the field.
    """

    forge: str
    base_url: str
    headers: Mapping[str, str]
    secrets: tuple[str, ...] = ()
    describe_error: Callable[[Any], str] | None = None
    retries: int = 4
    max_wait: float = 60.0
    timeout: float = 30.0
    verify: bool = True
    sleep: Callable[[float], None] = time.sleep
    page_key: str | None = None
    page_next: Callable[[Any, Any], str | None] | None = None
    _client: Any = field(default=None, init=False, repr=False)

    def _http(self):
        if self._client is None:
            import httpx

            self._client = httpx.Client(
                base_url=self.base_url.rstrip("/"), headers=dict(self.headers), timeout=self.timeout,
                follow_redirects=True, trust_env=True, verify=self.verify,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _fail(self, what: str, resp: Any) -> ForgeError:
        detail = ""
        if self.describe_error is not None:
            try:
                detail = self.describe_error(resp)
            except Exception:  # a malformed error body must not hide the status
                detail = ""
        if not detail:
            detail = resp.reason_phrase or ""
        hint = ""
        if resp.status_code == 401:
            hint = " (authentication failed: check the token)"
        elif resp.status_code == 403:
            hint = " (permission denied: the token lacks a scope or permission)"
        msg = f"{self.forge}: {what} failed: HTTP {resp.status_code}{hint}: {detail}".rstrip(": ")
        return ForgeError(redact(msg, self.secrets))

    def request(self, method: str, path: str, *, what: str = "", ok: tuple[int, ...] = (), **kw: Any) -> Any:
        """Send a request, transient failures repeated by the one retry policy (``core.retry``:
        ``retries`` more attempts, the wait a rate limit names or exponential backoff); return the
        ``httpx.Response`` on success."""
        what = what or f"{method} {path.split('?')[0]}"
        policy = RetryPolicy(attempts=self.retries + 1, base_delay=0.25, max_delay=self.max_wait)
        return policy.run(lambda: self._once(method, path, what, ok, kw), self.sleep)

    def _once(self, method: str, path: str, what: str, ok: tuple[int, ...], kw: dict[str, Any]) -> Any:
        import httpx

        try:
            resp = self._http().request(method, path, **kw)
        except httpx.TransportError as exc:
            raise _Retryable(self._unreachable(what, exc)) from None
        except httpx.HTTPError as exc:
            raise ForgeError(self._unreachable(what, exc)) from None
        if resp.is_success or resp.status_code in ok:
            return resp
        if not _is_rate_limited(resp):
            raise self._fail(what, resp)
        wait = _retry_after(resp, time.time())
        if wait is not None and wait > self.max_wait:
            raise ForgeError(f"{self.forge}: {what} failed: rate limited for {int(wait)} s"
                             f" (more than {int(self.max_wait)} s)")
        err = _Retryable(str(self._fail(what, resp)))
        err.retry_after = wait
        raise err

    def _unreachable(self, what: str, exc: Exception) -> str:
        msg = f"{self.forge}: {what} failed: cannot reach {self.base_url}: {exc.__class__.__name__}: {exc}"
        return redact(msg, self.secrets)

    def json(self, method: str, path: str, *, what: str = "", **kw: Any) -> Any:
        """The decoded JSON answer, of any shape (None for an empty one): callers that read fields use
        :meth:`answer`."""
        resp = self.request(method, path, what=what, **kw)
        if resp.status_code == 204 or not resp.content:
            return None
        return self._decode(resp, what or path)

    def answer(self, method: str, path: str, *, what: str = "", **kw: Any) -> Answer:
        """The answer as one JSON object whose fields are checked as they are read."""
        what = what or f"{method} {path.split('?')[0]}"
        return Answer(self.json(method, path, what=what, **kw), f"{self.forge}: {what}")

    def answer_of(self, resp: Any, what: str) -> Answer:
        """The body of a response obtained with :meth:`request`, as one checked JSON object."""
        return Answer(self._decode(resp, what), f"{self.forge}: {what}")

    def _decode(self, resp: Any, what: str) -> Any:
        try:
            return resp.json()
        except (ValueError, RecursionError):  # RecursionError: deeply nested JSON
            raise ForgeError(f"{self.forge}: {what}: the server answered with something that is not JSON")

    def pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        key: str | None = None,
        next_url: Callable[[Any, Any], str | None] | None = None,
        what: str = "",
        max_pages: int = 1000,
    ) -> Iterator[Answer]:
        """Yield every item of a paginated list, each an :class:`Answer` (a page that is not a list
        of objects is a ForgeError).

        ``key``: a page is an object whose ``key`` field holds the items (default: ``page_key``, else
        the page is the list itself); ``next_url(response, data)`` returns the next page's URL
        (absolute or relative) or None (default: ``page_next``, else the RFC 8288 ``Link: <...>;
        rel="next"`` header, as GitHub and Gitea send).
        """
        key = key or self.page_key
        nxt = next_url or self.page_next or link_next
        where = f"{self.forge}: {what or path.split('?')[0]}"
        url: str | None = path
        kw: dict[str, Any] = {"params": dict(params or {})}
        for _ in range(max_pages):
            resp = self.request("GET", url, what=what, **kw)  # type: ignore[arg-type]
            data = self._decode(resp, what or path)
            page = Answer(data, where).list(key, []) if key else data
            yield from answers(page, where)
            url = nxt(resp, data)
            if url is not None and not isinstance(url, str):
                raise ForgeError(f"{where}: unexpected answer from the API: the next page's address is not a string")
            if not url:
                return
            kw = {}  # the next URL carries its own query string
        raise ForgeError(f"{where}: more than {max_pages} pages")


def forge_api(forge: str, api_url: str, headers: Mapping[str, str], *, secrets: tuple[str, ...], verify: bool,
              page_key: str | None = None,
              page_next: Callable[[Any, Any], str | None] | None = None) -> Api:
    """The client of a hosted forge driver: ``api_url`` without a trailing slash, ``headers`` plus
    tide's User-Agent, and the forge's error bodies read by :func:`error_message`."""
    return Api(forge, api_url.rstrip("/"), {**headers, "User-Agent": "tide"}, secrets=secrets,
               describe_error=error_message, verify=verify, page_key=page_key, page_next=page_next)


def link_next(resp: Any, data: Any) -> str | None:
    link = resp.links.get("next") if hasattr(resp, "links") else None
    return link.get("url") if link else None


def gitlab_next(resp: Any, data: Any) -> str | None:
    """GitLab: ``X-Next-Page`` (offset pagination); falls back to the Link header."""
    page = resp.headers.get("x-next-page", "").strip()
    if page:
        url = resp.request.url
        return str(url.copy_set_param("page", page))
    return link_next(resp, data)


def bitbucket_next(resp: Any, data: Any) -> str | None:
    return data.get("next") if isinstance(data, dict) else None


def error_message(resp: Any) -> str:
    """The message in the usual error bodies of GitHub, GitLab, Gitea and Bitbucket."""
    try:
        data = resp.json()
    except ValueError:
        return resp.text.strip().splitlines()[0][:200] if resp.text.strip() else ""
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):  # Bitbucket: {"type": "error", "error": {"message": ...}}
            return str(err.get("message", ""))
        msg = data.get("message", err)
        if isinstance(msg, dict):  # GitLab validation errors: {"message": {"field": ["..."]}}
            return "; ".join(f"{k} {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in msg.items())
        if isinstance(msg, list):
            return "; ".join(map(str, msg))
        parts = [str(msg)] if msg else []
        errors = data.get("errors")
        if isinstance(errors, list):
            for e in errors[:3]:
                parts.append(str(e.get("message", e)) if isinstance(e, dict) else str(e))
        return "; ".join(parts)
    return str(data)[:200]
