"""The command line, one module per group of verbs; ``cli.py`` at the repo root is its entry.

Each verb module has ``register(sub)``, which adds its sub-parsers and binds each to a handler
with ``set_defaults(handler=...)``; a handler takes the parsed arguments and returns the exit
code. A new verb is a new module listed in :data:`VERB_MODULES` (or a ``register`` call added
to an existing one), never a new branch in :func:`main`.
"""
from __future__ import annotations

import argparse
import sys

from reasoning import plugins
from reasoning.models.base import ModelError
from storage import StorageError

from . import experiment_verbs, export_verbs, interop_verbs, otel_verbs, run_verbs, session_verbs

VERB_MODULES = (run_verbs, export_verbs, experiment_verbs, interop_verbs, session_verbs, otel_verbs)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cli.py", description="Thinktree: watch language models "
                                "reason by search.")
    sub = p.add_subparsers(dest="cmd", required=True)
    for module in VERB_MODULES:
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the verb. Bad input: one line on stderr and exit code 2."""
    plugins.ensure()  # plug-ins join the registries at start-up; their errors never stop the CLI
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, StorageError, ModelError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
