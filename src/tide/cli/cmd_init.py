def register(p):
    p.add_argument("--no-scm", action="store_true", help="initialise without git")
    p.add_argument("-f", "--force", action="store_true", help="re-initialise an existing .dvc (the cache is kept)")
    p.add_argument("--subdir", action="store_true", help="initialise in a subdirectory of a git repository")
    p.add_argument("--example", metavar="DIR",
                   help="create DIR (git init if needed) with the example project (dvc.yaml, tide.yaml) and init it")


def run(args):
    import os

    from tide.ops.init import init

    if args.example:
        from tide.ops.example import init_example

        path = init_example(args.example, force=args.force)
        if not args.quiet:
            print(f"Example project written to {path} (get_data.py, train.py, params.yaml, dvc.yaml, tide.yaml).")
            from tide.ops.example import next_steps

            print("Next (storage and forge on this machine; 'tide retrain --check' lists anything missing):")
            for line in next_steps(args.example):
                print(f"  {line}")
        return 0
    init(os.getcwd(), no_scm=args.no_scm, force=args.force, subdir=args.subdir)
    if not args.quiet:
        print("Initialized tide repository (DVC 3 format: real dvc reads it too).")
        if not args.no_scm:
            print("\nYou can now commit the changes to git.")
    return 0
