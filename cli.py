"""Thinktree without a browser.

    python cli.py run --task game24 --problem "4 5 6 10" --strategy greedy
    python cli.py run --strategy mcts --simulations 50 --seed 1 --db runs.db
    python cli.py show RUN_ID
    python cli.py export pairs --runs 3,4 --out pairs.jsonl --split 0.1
    python cli.py run --task-file my_tasks.jsonl --problem 3
    python cli.py probe --base-url http://localhost:8000/v1 --api-key-env MY_KEY
    python cli.py tasks

``run`` prints progress on stderr and ends with one JSON line on stdout:
``{"run_id", "outcome", "answer", "nodes", "tokens", "events", "seconds"}``; ``outcome`` is one of
solved, failed, answered (an answer no verifier can judge: free questions), budget, error,
cancelled. ``probe`` prints the endpoint's capability report as JSON; ``tasks`` lists every task
(built-in and plug-in, see ``THINKTREE_TASK_PATH``) and plug-in errors as JSON. Bad input ends with a
one-line message on stderr and exit code 2, never a traceback. Every strategy's settings are
flags (``--simulations``, ``--c-uct`` …), generated from the strategy's settings dataclass.

The verbs live in ``runner/cli/`` (one module per group); this file is only the entry point.
"""
from __future__ import annotations

import sys

from runner.cli import build_parser, main
from runner.cli.common import FINISHED_FIGURES, summary

__all__ = ["FINISHED_FIGURES", "build_parser", "main", "summary"]

if __name__ == "__main__":
    sys.exit(main())
