"""``python -m livecells``: the ``livecells`` command."""

import sys

from livecells.cli import main

sys.exit(main())
