from tide.cli.main import main

raise SystemExit(main())
