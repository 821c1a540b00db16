"""A 6-queens backtracking search recorded with ``thinktree.Trace`` — open it on the Live page.

    python examples/trace_queens.py --db runs.db          # then: streamlit run app.py, ?run=ID
    python examples/trace_queens.py --n 8 --delay 0.2     # watch it grow on the Live page

Each node places one queen (its text says where, in words; its ``label`` is the short form the
tree prints); a placement with no safe square in the next row is a dead end (backtracked), the
first full board is solved. Prints the run id.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from thinktree import Trace  # noqa: E402


def safe(cols: list[int], col: int) -> bool:
    row = len(cols)
    return all(c != col and abs(c - col) != row - r for r, c in enumerate(cols))


def search(t: Trace, node: int, cols: list[int], n: int, delay: float) -> bool:
    """Depth first: place a queen in the next row, recurse; True once a board is complete."""
    if len(cols) == n:
        t.solve(node, answer=" ".join(str(c + 1) for c in cols), reason=f"{n} queens, none attacks another")
        return True
    row = len(cols) + 1
    for col in range(n):
        if not safe(cols, col):
            continue
        time.sleep(delay)
        child = t.step(node, f"row {row}: queen in column {col + 1}", label=f"row {row}: col {col + 1}")
        if search(t, child, cols + [col], n, delay):
            return True
        t.backtrack(child, reason=f"no safe square in row {row + 1} below this")
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=None, help="database file or URL (default $THINKTREE_DB)")
    ap.add_argument("--n", type=int, default=6, help="board size (default 6)")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds between steps")
    args = ap.parse_args(argv)
    with Trace(db=args.db, task=f"{args.n}-queens", problem=f"place {args.n} queens on a "
               f"{args.n}x{args.n} board", strategy="backtracking (Trace)") as t:
        root = t.root(f"an empty {args.n}x{args.n} board", label=f"{args.n}x{args.n} board")
        search(t, root, [], args.n, args.delay)
    print(t.run_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
