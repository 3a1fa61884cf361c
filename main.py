"""CNN Designer entry point: ``python main.py [DESIGN.json]`` or ``python main.py SUBCOMMAND …``."""

import sys

from designer.cli import main

if __name__ == "__main__":
    sys.exit(main())
