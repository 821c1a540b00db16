"""Break the search maths on purpose, one break at a time, and show which tests catch it.

    python scripts/search_breaks.py                 # every break, against the default test files
    python scripts/search_breaks.py tests/test_search_maths.py

Each break is a one-line edit of a product file; the file is restored right after its test run
(also when the run is interrupted). A break that no test catches prints NONE: a test is missing.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/test_search_maths.py", "tests/test_baselines.py"]
MCTS, BASE, BEAM = ("reasoning/strategies/mcts.py", "reasoning/strategies/base.py",
                    "reasoning/strategies/beam.py")
BREAKS = [  # (what, file, text, replacement)
    ("beam keeps b+1", BEAM, "        b = self.settings.beam_width\n",
     "        b = self.settings.beam_width + 1\n"),
    ("MCTS selection ignores Q", MCTS, "uct(s.value[c], s.visits[c]", "uct(0.0, s.visits[c]"),
    ("final answer = least-visited path", MCTS,
     "node = max(s.children[node], key=lambda c: (s.visits[c], s.value[c], -c))",
     "node = min(s.children[node], key=lambda c: (s.visits[c], s.value[c], -c))"),
    ("pw_alpha ignored", MCTS, "if self.settings.pw_alpha <= 0:", "if True:"),
    ("stop_on_solution ignored (never stops)", MCTS,
     "if solved_node is not None and self.settings.stop_on_solution:",
     "if solved_node is not None and False:"),
    ("stop_on_solution ignored (always stops)", MCTS,
     "if solved_node is not None and self.settings.stop_on_solution:",
     "if solved_node is not None:"),
    ("a found solution dropped at the budget cut", BASE,
     "        if first is not None:\n            return Result(\"solved\"",
     "        if False:\n            return Result(\"solved\""),
    ("MCTS reports a verified most-visited path as failed (the old _final)", MCTS,
     "        if ctx.is_solved(node):\n", "        if False:\n"),
    ("MCTS ignores a solution off the most-visited path", MCTS,
     "        found = first_solved(ctx)\n", "        found = None\n"),
    ("max_calls ignored", "reasoning/compute.py",
     '("max_calls", getattr(budget, "max_calls", None), self.n_calls)',
     '("max_calls", None, self.n_calls)'),
    ("parallel calls not counted by purpose", "reasoning/parallel.py",
     "        ctx.compute.call(p)\n", "        pass\n"),
    ("reflections not fed back", "reasoning/strategies/reflect.py", "ctx.notes.append(",
     "[].append("),
    ("random policy always picks the first legal step", "reasoning/models/random_policy.py",
     "text = rng.choice(req.choices)", "text = req.choices[0]"),
    ("oracle inverted", "reasoning/evaluators/oracle.py", "value = 1.0 if truth else 0.0",
     "value = 0.0 if truth else 1.0"),
]


def main(argv: list[str]) -> int:
    files = argv or TESTS
    missed = 0
    for what, path, old, new in BREAKS:
        p = ROOT / path
        src = p.read_text()
        if src.count(old) != 1:
            print(f"{what}: the code to break was not found once in {path} (update this script)")
            missed += 1
            continue
        p.write_text(src.replace(old, new))
        try:
            out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                  *files], cwd=ROOT, capture_output=True, text=True).stdout
        finally:
            p.write_text(src)
        failed = [line.split("::", 1)[-1].split(" ")[0] for line in out.splitlines()
                  if line.startswith("FAILED")]
        missed += not failed
        print(f"{what}: {len(failed)} failed: {', '.join(failed) or 'NONE'}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
