"""`python -m postdodo_connect` runs the `postdodo` command."""

import sys

from .cli import main

sys.exit(main())
