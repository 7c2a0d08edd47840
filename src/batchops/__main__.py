from batchops.cli.main import main

raise SystemExit(main())
