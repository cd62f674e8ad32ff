# stages run as processes: no library is loaded in tide's own; the storage registry quiets library logs
LIGHT = True


def register(p):
    p.add_argument("targets", nargs="*", metavar="TARGET",
                   help="stages, dvc.yaml files, stage outputs or .dvc files to reproduce (default: ./dvc.yaml)")
    p.add_argument("-f", "--force", action="store_true", help="run stages even if nothing changed")
    p.add_argument("-s", "--single-item", action="store_true", help="only the named stages, not their upstream")
    p.add_argument("-R", "--recursive", action="store_true",
                   help="targets may be directories of dvc.yaml and .dvc files")
    p.add_argument("--dry", action="store_true", help="print what would run without running it")
    p.add_argument("--downstream", action="store_true", help="the named stages and the stages that depend on them")
    p.add_argument("-p", "--pipeline", action="store_true", help="every stage of the targets' pipelines")
    p.add_argument("-P", "--all-pipelines", action="store_true", help="every stage of the repository")
    p.add_argument("--force-downstream", action="store_true", help="also force stages after a changed one")
    p.add_argument("--pull", action="store_true", help="fetch the run cache and missing data from the remote first")
    p.add_argument("--allow-missing", action="store_true", help="missing outputs alone do not make a stage run")
    p.add_argument("-k", "--keep-going", action="store_const", const="keep-going", default="fail", dest="on_error",
                   help="after a failure, keep running the stages that do not depend on it")
    p.add_argument("--ignore-errors", action="store_const", const="ignore", default="fail", dest="on_error",
                   help="after a failure, keep running every other stage (its dependents too); exit 0")
    p.add_argument("--glob", action="store_true",
                   help="stage names in TARGETs ([dvc.yaml:]PATTERN) are shell-style wildcards")
    p.add_argument("--no-run-cache", action="store_true", help="neither restore from nor save to the run cache")
    p.add_argument("--no-commit", action="store_true", help="do not store outputs in the cache")
    p.add_argument("-i", "--interactive", action="store_true",
                   help="ask before each stage that would run (also config core.interactive)")


def run(args):
    from tide.cli.output import git_hint, repo, warn
    from tide.ops.repro import ReproRequest, reproduce

    req = ReproRequest(
        targets=tuple(args.targets), force=args.force, single_item=args.single_item, recursive=args.recursive,
        dry=args.dry, downstream=args.downstream, pipeline=args.pipeline, all_pipelines=args.all_pipelines,
        pull=args.pull, allow_missing=args.allow_missing, keep_going=args.on_error == "keep-going",
        ignore_errors=args.on_error == "ignore", glob=args.glob,
        force_downstream=args.force_downstream, run_cache=not args.no_run_cache, no_commit=args.no_commit,
        interactive=args.interactive,
    )

    def say(line):
        if not args.quiet:
            print(line, flush=True)

    r = repo()
    res = reproduce(r, req, say=say, warn=lambda line: warn([line]), confirm=ask_yes_no)
    if not args.dry:
        if not (res.ran or res.restored or res.verified or res.sources):
            say("Data and pipelines are up to date.")
        git_hint(res.git_files, False, args.quiet, r.root)
    return 0


ANSWERS = ("yes", "no", "y", "n")


def ask_yes_no(question: str) -> bool:
    """dvc's ``prompt.confirm``: ``QUESTION [y/n]`` until one of yes/no/y/n is answered. Without a
    terminal on stdin nothing can be asked: the stage is refused, saying why."""
    import sys

    from tide.core.errors import PipelineError

    if not sys.stdin.isatty():
        raise PipelineError("reproduction aborted by the user (-i/--interactive asks on a terminal: stdin is "
                            "not one)")
    while True:
        try:
            answer = input(f"{question} [y/n] ").strip().lower()
        except EOFError:
            return False
        if answer in ANSWERS:
            return answer.startswith("y")
        print(f"Your response must be one of: {list(ANSWERS)}. Please try again.", flush=True)
