"""Helpers shared by the data-registry commands (get, get-url, import, import-url, update, ls)."""


def fs_config(pairs):
    """``--fs-config KEY=VALUE`` options as a dict."""
    from tide.core.errors import UsageError

    out = {}
    for p in pairs or ():
        key, sep, value = p.partition("=")
        if not sep or not key:
            raise UsageError(f"--fs-config takes KEY=VALUE, got '{p}'")
        out[key.strip().lower()] = value
    return out


def check_jobs(jobs):
    from tide.core.errors import UsageError

    if jobs is not None and jobs < 1:
        raise UsageError("-j/--jobs must be at least 1")


def add_source_options(p):
    """dvc's ``--config``/``--remote``/``--remote-config`` of get, import and ls (the source's config)."""
    p.add_argument("--config", metavar="config",
                   help="a config file merged over the source repository's config")
    p.add_argument("--remote", metavar="remote", help="the source's remote to read data from (as its default)")
    p.add_argument("--remote-config", nargs="*", action="append", metavar="<name>=<value>",
                   help="options merged into the source's remote (its default or --remote)")


def source_options(args):
    """The options above as an import records them (``repo.config``/``repo.remote``), checked."""
    from tide.core.errors import UsageError
    from tide.ops.registry_config import repo_options

    rc = None
    if args.remote_config is not None:
        rc = {}
        for group in args.remote_config:
            for kv in group:
                key, sep, value = kv.partition("=")
                if not sep or not key or not value:
                    raise UsageError(f'Could not parse argument "{kv}" as k1=v1 k2=v2 ... format')
                rc[key] = value
    return repo_options(args.config, args.remote, rc)
