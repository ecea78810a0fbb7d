"""`python -m ttlock_nuki_addon`: run the add-on, or `decode BRAND HEX` a pasted frame."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import cli
from .app import main as run_addon

COMMANDS_HELP = """
commands:
  decode BRAND HEX [--key HEX]
                        decode a frame pasted from a log into JSON and exit
                        (brands: {brands}; see `decode --help`)
"""


def main(argv: Sequence[str] | None = None) -> int:
    """`decode ...` goes to the decode CLI; anything else runs the add-on exactly as before."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["decode"]:
        return cli.main(args[1:])
    try:
        return run_addon(args)
    except SystemExit as stop:
        if stop.code in (0, None) and ("-h" in args or "--help" in args):
            sys.stdout.write(COMMANDS_HELP.format(brands=", ".join(cli.decoders())))
        raise


if __name__ == "__main__":
    sys.exit(main())
