"""tide ui: a read-only local web app (production model, metric trends, registry, runs, data, plots)."""


def register(p):
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1, loopback only; the UI has no login)")
    p.add_argument("--open", action="store_true", help="open the UI in the default web browser")


def run(args):
    import importlib.util

    from tide.cli.output import repo
    from tide.core.errors import TideError, UsageError

    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    missing = [m for m in ("starlette", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise TideError(f"tide ui needs {', '.join(missing)}; install them with: pip install 'tide-ml[ui]'")
    from tide.ui.app import serve

    r = repo()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        import sys

        print(f"WARNING: tide ui listens on {args.host}: whoever can reach it reads this repository's history "
              "(there is no login)", file=sys.stderr)
    try:
        serve(r, args.host, args.port, args.open, ready=lambda url: print(f"tide ui: {url} (Ctrl-C stops it)",
                                                                        flush=True))
    except KeyboardInterrupt:
        pass
    return 0
