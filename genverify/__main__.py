"""``python -m genverify``: the same as the ``genverify`` console script."""

from genverify.cli import console_main

if __name__ == "__main__":
    console_main()
