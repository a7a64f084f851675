"""``python -m genverify``: the same as the ``genverify`` console script."""

import sys

from genverify.cli import main

if __name__ == "__main__":
    sys.exit(main())
