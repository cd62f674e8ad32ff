def register(p):
    p.add_argument("targets", nargs="+", metavar="TARGET",
                   help=".dvc files (or their outputs), or pipeline stages (dvc.yaml:name), to stop tracking")
    p.add_argument("--outs", action="store_true", help="also delete the outputs from the workspace")


def run(args):
    from tide.cli.output import repo
    from tide.ops.remove import remove

    for p in remove(repo(), args.targets, outs=args.outs):
        if not args.quiet:
            print(f"Removed '{p}'")
    return 0
