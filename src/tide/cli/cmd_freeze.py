"""``tide freeze TARGET...``: stages (``name``, ``dir/dvc.yaml:name``) or ``.dvc`` files that repro and update skip."""

FROZEN = True


def register(p):
    p.add_argument("targets", nargs="+", metavar="TARGET", help="stages (NAME or path/dvc.yaml:NAME) or .dvc files")


def run(args, frozen: bool = FROZEN):
    from tide.cli.output import repo
    from tide.ops.freeze import set_frozen

    r = repo()
    for t in set_frozen(r, args.targets, frozen):
        if t.stage and not args.quiet:  # dvc names the stages it modifies, not the .dvc files
            print(f"Modifying stage '{t.stage}' in '{r.rel(t.path)}'")
    return 0
