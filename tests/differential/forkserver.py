"""A fork server: run a Python CLI (dvc, gto or tide) many times without paying its import time each time.

Started as ``<venv python> forkserver.py <module>:<callable> <modlist> [<module>:<callable>,...]`` (the entry
the console script calls, a side file, and the tool's own memoized builders to warm, see below). It
reads one JSON request per line on stdin ({"argv", "cwd", "env", "out", "err"}), forks, and the child runs
the entry exactly as the console script would in a fresh process (argv, cwd, environment, stdin from
/dev/null, stdout and stderr to the named files), then exits with the entry's exit status. The parent
answers {"rc": N, "cpu": seconds} on stdout (the child's CPU time, for profiling).

Why this is faithful: the child starts from a parent that only *imported* modules and never ran a
command, so no in-process cache or state carries over between commands. The one exception is the warm
list: functions the tool itself memoizes for the life of a process and that depend on nothing but the
tool's code (dvc's ``dvc.cli.parser.get_main_parser``, ``functools.lru_cache``-d: its argparse tree of
every command, about half of a warm ``dvc status``; ``dvc.config.get_compiled_schema``, funcy-memoized).
The parent calls them once, so each child finds the memo filled, exactly as a second ``main()`` in one dvc
process would. After each child exits, the parent imports the modules that child imported (listed in a
side file), so later children start warmer.
Set TIDE_DIFFTEST_NO_FORKSERVER=1 in the driver to run plain subprocesses instead (slower, for doubt).
"""

from __future__ import annotations

import importlib
import json
import os
import sys


def _child(entry, req: dict, modlist: str) -> None:
    try:
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        fd0 = os.open(os.devnull, os.O_RDONLY)
        fd1 = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        fd2 = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd0, 0)
        os.dup2(fd1, 1)
        os.dup2(fd2, 2)
        sys.argv = [req["prog"], *req["argv"]]
        code = 0
        try:
            code = entry()
        except SystemExit as e:
            c = e.code
            code = c if isinstance(c, int) else (0 if c is None else 1)
            if not isinstance(c, int) and c is not None:
                print(c, file=sys.stderr)
        except BaseException:  # an uncaught exception is the tool's traceback exit
            import traceback

            traceback.print_exc()
            code = 1
        try:
            with open(modlist, "w") as f:
                f.write("\n".join(sorted(sys.modules)))
        except OSError:
            pass
        for s in (sys.stdout, sys.stderr):
            try:
                s.flush()
            except Exception:
                pass
        os._exit(int(code or 0) & 0xFF)
    except BaseException:
        os._exit(99)


def main() -> None:
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]     # this directory is not the tool's (tests/differential holds a gtodiff.py)
    modname, _, attr = sys.argv[1].partition(":")
    entry = getattr(importlib.import_module(modname), attr)
    modlist = sys.argv[2]
    for spec in filter(None, (sys.argv[3] if len(sys.argv) > 3 else "").split(",")):
        mod, _, fn = spec.partition(":")
        getattr(importlib.import_module(mod), fn)()
    proto_in = os.fdopen(os.dup(0), "r")
    proto_out = os.fdopen(os.dup(1), "w")
    sys.stdout.flush()
    print(json.dumps({"ready": True}), file=proto_out, flush=True)
    for line in proto_in:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            proto_in.close()
            proto_out.close()
            _child(entry, req, modlist)
        _, status, ru = os.wait4(pid, 0)
        rc = os.waitstatus_to_exitcode(status)
        print(json.dumps({"rc": rc, "cpu": ru.ru_utime + ru.ru_stime}), file=proto_out, flush=True)
        try:  # warm up: import what the child needed
            with open(modlist) as f:
                names = f.read().split()
            os.unlink(modlist)
        except OSError:
            names = []
        for n in names:
            if n not in sys.modules and not n.startswith("__"):
                try:
                    importlib.import_module(n)
                except BaseException:  # some modules import only in context
                    pass


if __name__ == "__main__":
    main()
