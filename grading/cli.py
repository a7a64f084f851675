"""The ``genverify`` command line.

    genverify report [--out DIR] [--quick]      verify every derivation (the main job)
    genverify equiv REFERENCE ANSWER [--json]   0 equivalent, 1 not, 2 undecided/unparsable
    genverify check PART ANSWER [--json]        an answer against the key, e.g. PART = 1.h
    genverify grade ANSWERS.toml [--gradescope results.json]

Subcommands import their machinery only when they run, so ``genverify --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _report(args: argparse.Namespace) -> int:
    from grading.report import run_report

    return run_report(out=args.out, quick=args.quick, mnist_dir=args.mnist_dir,
                      progress=not args.no_progress)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genverify",
        description="Verify the mathematics of VAEs, GANs and score-based diffusion.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    report = commands.add_parser("report", help="verify every derivation and check it numerically")
    report.add_argument("--out", default="genverify-report", help="folder of the HTML report")
    report.add_argument("--quick", action="store_true", help="the fast subset of the checks")
    report.add_argument("--mnist-dir", default=None, help="MNIST IDX files to use for the VAE")
    report.add_argument("--no-progress", action="store_true", help="no progress display")
    report.set_defaults(run=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
