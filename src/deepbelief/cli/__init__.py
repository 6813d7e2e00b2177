"""The ``deepbelief`` command line: one module per group of subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module defines ``register(subparsers)``, adding its subcommands with a
# ``func(args) -> int`` default.
COMMAND_MODULES = ["demo", "rbm", "evaluate", "dbn"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepbelief",
        description="Restricted Boltzmann machines and deep belief nets in PyTorch.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"deepbelief {args.command}: error: {exc}", file=sys.stderr)
        return 2
