"""The ``genverify`` command line: the one place that wires the subcommands (:mod:`genverify.cli`)."""
