"""``python -m inngest``: command-line entry point (``python -m inngest dev``)."""

from __future__ import annotations

import sys

from inngest._engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
