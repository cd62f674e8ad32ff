"""tide ci: prepare the repository in CI.  tide ci init github|gitlab: write a scheduled workflow."""

import argparse


def register(p):
    from tide.cli.forgeargs import add_forge_options

    p.add_argument("action", nargs="?", choices=("init",),
                   help="'init PROVIDER': write a scheduled CI workflow (tide ci init github|gitlab)")
    p.add_argument("init_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    add_prepare_options(p)
    add_forge_options(p)


def add_prepare_options(p):
    p.add_argument("--fetch-depth", type=int, help="fetch N commits of history (0: everything, unshallow)")
    p.add_argument("--unshallow", action="store_true", help="same as --fetch-depth 0")
    p.add_argument("--user-name", default="tide[bot]", help="git user.name for this repository")
    p.add_argument("--user-email", default="tide-bot@users.noreply.localhost", help="git user.email")


def run_prepare(args):
    from tide.cli.forgeargs import forge_options
    from tide.ops.ci import prepare

    depth = 0 if args.unshallow else args.fetch_depth
    res = prepare(user_name=args.user_name, user_email=args.user_email, fetch_depth=depth, **forge_options(args))
    if not args.quiet:
        for step in res.steps:
            print(step)
    return 0


def init_parser() -> argparse.ArgumentParser:
    """``tide ci init``'s own options (after PROVIDER)."""
    from tide.core.errors import UsageError
    from tide.ops.workflows import CLOUDS, DEFAULT_LABELS, DIST, PROVIDERS

    class Parser(argparse.ArgumentParser):
        def error(self, message: str):
            raise UsageError(f"tide ci init: {message} (usage: tide ci init github|gitlab [--schedule CRON] "
                             "[--cloud KIND --cloud-type T] [--install REQUIREMENT] [--force])")

    p = Parser(prog="tide ci init", description="Write a scheduled retraining workflow.")
    p.add_argument("provider", choices=sorted(PROVIDERS))
    p.add_argument("--schedule", metavar="CRON", help="cron schedule (default: schedule.cron in tide.yaml, "
                   "else daily 08:00 UTC)")
    p.add_argument("--cloud", choices=CLOUDS, help="train on a single-use runner of this kind (default: ci.runner)")
    p.add_argument("--cloud-type", help="machine type (default m, or the runner profile's)")
    p.add_argument("--cloud-region", help="region (default us-west, or the runner profile's)")
    p.add_argument("--host", default="", help="--cloud ssh: USER@HOST[:PORT]")
    p.add_argument("--labels", help=f"the runner's label (default: ci.labels, else {DEFAULT_LABELS})")
    p.add_argument("--install", metavar="REQUIREMENT",
                   help="where tide comes from: a version, a git URL, a wheel path; or a whole install command "
                        f"(default: ci.install, else {DIST} of this version with the extras the project needs)")
    p.add_argument("-o", "--output", help="file to write (default: the provider's usual path)")
    p.add_argument("-f", "--force", action="store_true",
                   help="overwrite an existing file; write even when tide retrain --check finds the project not "
                        "ready (with a warning)")
    p.add_argument("--stdout", action="store_true", help="print instead of writing")
    return p


def init_request(argv: list[str]):
    """The typed request of ``tide ci init ARGV``."""
    from tide.ops.workflows import CiInitRequest

    ns = init_parser().parse_args(argv)
    return CiInitRequest(ns.provider, ns.schedule, ns.cloud, ns.cloud_type, ns.cloud_region, ns.host, ns.labels,
                         ns.install, ns.output, ns.force, ns.stdout)


def run_init(args) -> int:
    import os
    import sys

    from tide.cli.readiness_out import lines
    from tide.core.git import find_root
    from tide.ops.readiness import NotReady
    from tide.ops.workflows import ci_init

    req = init_request(list(args.init_args or []))
    root = find_root(os.getcwd()) or os.getcwd()
    try:
        res = ci_init(root, req)
    except NotReady as exc:
        print("\n".join(lines(exc.readiness, "the workflow's tide retrain")), file=sys.stderr)
        raise
    if res.path is None:
        print(res.text, end="")
        return 0
    if res.not_ready:
        from tide.ops.readiness import Readiness

        print("WARNING: written anyway (--force); the workflow's tide retrain will fail until these are fixed:",
              file=sys.stderr)
        print("\n".join(lines(Readiness(res.not_ready), "the workflow's tide retrain")[1:]), file=sys.stderr)
    if args.quiet:
        return 0
    spec = res.spec
    print(f"Wrote {os.path.relpath(res.path)}: tide retrain on '{spec.schedule}' and on demand"
          + (f", on a single-use {spec.cloud} runner" if spec.cloud else "") + ".")
    print(f"Installs: {spec.install}")
    print("Create these " + ("secrets:" if spec.provider == "github" else "CI/CD variables:"))
    for ln in res.secrets or ("(none)",):
        print("  " + ln)
    for note in res.notes:
        print(f"Note: {note}")
    return 0


def run(args):
    if args.action == "init":
        return run_init(args)
    return run_prepare(args)
