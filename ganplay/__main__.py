"""`python -m ganplay ...` — see ganplay.cli."""
from ganplay.cli import main

raise SystemExit(main())
