"""The Starlette app of ``tide ui``: pages (one HTML shell, rendered by ``static/app.js``), a read-only JSON API
and the static files installed with tide (Vega, Vega-Lite and vega-embed are vendored: nothing from a CDN).

Only GET is routed (read-only). Hosts other than the one served are refused (a DNS-rebinding page cannot read
the API) and a Content-Security-Policy keeps the browser from loading anything from another origin.
"""

from __future__ import annotations

import os
from typing import Any

from tide.core.errors import TideError
from tide.workspace.repo import Repo

STATIC = os.path.join(os.path.dirname(__file__), "static")
FEW = 16  # up to this many new commits are read one by one at start; more: the whole history in one pass
PAGES = ("", "trends", "registry", "runs", "data", "plots")
CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _warm(facts) -> None:
    """Before the first visit: read every commit of the main branch not in the cache yet (the lock is taken per
    commit, so pages stay answerable meanwhile), then build the pages' JSON once."""
    from tide.ui import pages

    try:
        with facts.lock:
            pages.overview(facts)
            base = facts.base_ref()
            shas = [c["sha"] for c in facts.log(base)]
            missing = [s for s in shas if s not in facts.commits]
        if len(missing) > FEW:  # the whole history from one git log (tide/ui/history.py)
            facts.fill(base)
        else:  # a few new commits since the last start: each on its own (one git ls-tree)
            for sha in missing:
                with facts.lock:
                    facts.commit(sha)
        for build in (pages.trends, pages.runs, pages.data):
            with facts.lock:
                build(facts)
        if shas:
            pages.plots(facts, [shas[-1]])
        if len(shas) > 1:
            pages.compare(facts, shas[-2], shas[-1])
        with facts.lock:
            facts.save()
    except TideError:  # the request that needs it reports the error
        return


def create_app(repo: Repo, host: str = "127.0.0.1", warm: bool = True):
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from tide.ui import pages
    from tide.ui.facts import Facts

    facts = Facts(repo)
    if warm:
        import threading

        threading.Thread(target=_warm, args=(facts,), name="tide-ui-warm", daemon=True).start()
    from tide.ui.runners import Watch, targets

    watch = Watch(lambda: targets(repo.root, repo.env), repo.env)  # never waits on a provider (ui/runners.py)

    def api(build, locked: bool = True):
        def endpoint(request) -> Any:
            q = request.query_params
            try:
                if locked:
                    with facts.lock:
                        body = build(q)
                else:
                    body = build(q)
            except TideError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse(body, headers={"Cache-Control": "no-store"})
        return endpoint

    def page(request) -> Any:
        return FileResponse(os.path.join(STATIC, "index.html"), headers={"Content-Security-Policy": CSP})

    routes = [Route("/" + p, page) for p in PAGES]
    routes += [
        Route("/api/overview", api(lambda q: pages.overview(facts))),
        Route("/api/trends", api(lambda q: pages.trends(facts))),
        Route("/api/runners", api(lambda q: watch.snapshot(), locked=False)),
        Route("/api/registry", api(lambda q: pages.registry(facts))),
        Route("/api/runs", api(lambda q: pages.runs(facts))),
        Route("/api/compare", api(lambda q: pages.compare(facts, q.get("a", ""), q.get("b", "")))),
        Route("/api/data", api(lambda q: pages.data_now(facts))),
        Route("/api/data/diff", api(lambda q: pages.data_diff(facts, q.get("a", ""), q.get("b", "")))),
        Route("/api/data/where", api(lambda q: pages.data_where(facts, q.get("remote", "")), locked=False)),
        Route("/api/plots", api(lambda q: pages.plots(facts, q.getlist("rev") or [facts.base_ref()]))),
        Mount("/static", app=StaticFiles(directory=STATIC)),
    ]
    # the Host header must name this server (a DNS-rebinding page cannot read the API); bound to every address
    # (--host 0.0.0.0), the names it is reached by are unknown here: any is accepted
    hosts = ["*"] if host in ("0.0.0.0", "::", "") else sorted({host, "127.0.0.1", "localhost", "[::1]", "::1"})
    return Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])


def serve(repo: Repo, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False,
          ready=None) -> None:
    """Run the app on uvicorn until interrupted. ``ready(url)`` is called once the socket listens."""
    import socket

    import uvicorn

    app = create_app(repo, host)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # connections queue from now on: the URL printed below answers as soon as uvicorn runs
    except OSError as exc:
        sock.close()
        raise TideError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    if ready is not None:
        ready(url)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
