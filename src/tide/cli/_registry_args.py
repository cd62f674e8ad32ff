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
