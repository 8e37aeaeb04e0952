"""The ``conformance`` command. Each subcommand lives in its own module that defines
``register(subparsers)``; adding one is one new module and one line in SUBCOMMAND_MODULES."""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import ConformanceError

SUBCOMMAND_MODULES = (
    "conformance.commands",            # targets, run
    "conformance.report.cli",          # matrix
    "conformance.gate",                # gate
    "conformance.check_cli",           # check (ONNX files and, via source_check, framework files)
    "conformance.source_check",        # convert
    "conformance.export",              # export-cases
    "conformance.bench.cli",           # bench, bench-kernels
    "conformance.bench.reference",     # bench-reference
    "converters.optimizer.cli",        # optimize
    "conformance.environments",        # env (list, build, show, remove)
    "conformance.debug_cli",           # debug precision, debug attribution
    "conformance.accuracy_cli",        # accuracy, compare
    "conformance.fuzz_cli",            # fuzz
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Conformance and validation of ML model converters: source framework -> ONNX -> target.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:        # subcommand not part of this build
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except ConformanceError as exc:
        if args.verbose:
            raise
        print(f"conformance: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
