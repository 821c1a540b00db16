"""Break the product on purpose, one break at a time, and show which tests catch it.

    python scripts/search_breaks.py                 # every break, each against its own tests
    python scripts/search_breaks.py tests/test_search_maths.py    # every break, these tests
    python scripts/search_breaks.py -k MCTS         # only the breaks whose name has this text

Each break is a small edit of one product file (the search maths first, then the other holes a
mutation audit found: issue 29); the file is restored right after its test run (also when the
run is interrupted). A break runs against the tests named with it (test files or node ids), or
``TESTS`` when it names none. A break that no test catches prints NONE: a test is missing.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/test_search_maths.py", "tests/test_baselines.py"]
MCTS, BASE, BEAM = ("reasoning/strategies/mcts.py", "reasoning/strategies/base.py",
                    "reasoning/strategies/beam.py")
G24, INGEST = "reasoning/tasks/game24.py", "tests/test_ingest.py"
BREAKS = [  # (what, file, text, replacement[, tests])
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
    ("MCTS selection ignores c_uct (0 instead)", MCTS,
     "                                          self.settings.c_uct), -c))",
     "                                          0.0), -c))"),
    ("MCTS simulations that learn nothing write their own events again", MCTS,
     "write=not (idle or nothing_new)", "write=True"),
    ("anytime MCTS with c_uct 0 never sees that selection repeats itself", MCTS,
     "        return (self.settings.c_uct == 0 and", "        return (False and"),
    # -- beyond the search maths (issue 29) ---------------------------------------------------
    ("Game of 24 accepts a near miss (|value - 24| <= 1)", G24,
     "        if value == TARGET:\n", "        if abs(value - TARGET) <= 1:\n",
     ["tests/test_game24.py"]),
    ("Game of 24 ends as soon as 24 is among the numbers left", G24,
     "        return len(state.items) == 1\n\n    def verify(self, problem: Problem, state: G24State)"
     " -> Verdict:\n        if not self.is_terminal(state):\n            return Verdict(None, "
     "\"not finished\")\n        value, expr = state.items[0]\n",
     "        return len(state.items) == 1 or TARGET in state.numbers\n\n    def verify(self, "
     "problem: Problem, state: G24State) -> Verdict:\n        if not self.is_terminal(state):\n"
     "            return Verdict(None, \"not finished\")\n        value, expr = max(state.items, "
     "key=lambda it: it[0] == TARGET)\n",
     ["tests/test_game24.py"]),
    ("ingest accepts a node created twice", "reasoning/event_stream.py",
     "            if e.node_id in nodes:\n", "            if False:\n",
     [f"{INGEST}::test_a_bad_line_is_named_and_nothing_is_stored[node twice]"]),
    ("a cut stdin stream is closed without writing its pending events", "runner/ingest.py",
     "    _flush(store, stored)\n    for s in stored.values():\n",
     "    for s in stored.values():\n",
     [f"{INGEST}::test_a_cut_stream_stores_every_event_it_read",
      f"{INGEST}::test_input_that_stops_before_run_finished_is_kept_as_interrupted"]),
    ("the train/validation split keys on problem_id before the problem text",
     "reasoning/export/common.py", "str(row.get('problem') or row.get('problem_id'))",
     "str(row.get('problem_id') or row.get('problem'))", ["tests/test_export.py"]),
    ("opening the store marks another live process's run interrupted", "storage/door.py",
     "if pid != os.getpid() and not pid_alive(pid)]", "if pid != os.getpid()]",
     ["tests/test_reopen_race.py::test_a_live_run_is_never_marked_interrupted_by_another_process"]),
]


def main(argv: list[str]) -> int:
    missed, only = 0, ""
    if argv[:1] == ["-k"]:
        only, argv = argv[1], argv[2:]
    for what, path, old, new, *own in BREAKS:
        if only.lower() not in what.lower():
            continue
        files = argv or (own[0] if own else TESTS)
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
        failed = [line.split("::", 1)[-1].split(" - ")[0] for line in out.splitlines()
                  if line.startswith("FAILED")]
        missed += not failed
        print(f"{what}: {len(failed)} failed: {', '.join(failed) or 'NONE'}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
