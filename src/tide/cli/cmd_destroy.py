"""``tide destroy [-f]``: remove tide/DVC from this repository, leaving the data as plain files."""


def register(p):
    p.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")


def run(args):
    from tide.cli.output import confirm, repo
    from tide.core.errors import UsageError
    from tide.ops.destroy import destroy

    r = repo()
    if not args.force:
        print("This will destroy all information about your pipelines, all data files, as well\n"
              "as the cache in .dvc/cache (tracked data stays in the workspace as plain files).")
        if not confirm("Are you sure you want to continue?"):
            raise UsageError("cannot destroy without a confirmation: use -f to force")
    destroy(r)
    return 0
