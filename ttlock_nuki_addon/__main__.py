"""`python -m ttlock_nuki_addon`: run the add-on."""

from __future__ import annotations

import sys

from .app import main

if __name__ == "__main__":
    sys.exit(main())
