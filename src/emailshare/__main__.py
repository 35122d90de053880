"""``python -m emailshare`` runs the command line."""

from emailshare.cli import main

raise SystemExit(main())
