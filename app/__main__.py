"""`python -m app` is the `tieout` command."""

import sys

from app.cli import main

sys.exit(main())
