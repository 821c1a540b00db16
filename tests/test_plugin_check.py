"""``cli.py check``'s same-seed check: two runs of one seed must make the same tree, whatever the
machine's load does to the timing of events (so a correct plug-in never fails it), and a
plug-in that is not deterministic fails it with the first node that differs."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from reasoning import events as ev
from reasoning import plugin_check, plugins
from reasoning.recorder import Recorder
from reasoning.strategies import BUILTIN_STRATEGIES, STRATEGIES
from tests.helpers import EventLog

ROOT = Path(__file__).resolve().parents[1]

WOBBLY = textwrap.dedent('''
    from dataclasses import dataclass
    from reasoning.engine import Result
    from reasoning.strategies import Strategy

    @dataclass
    class WobblySettings:
        steps: int = 3

    class Wobbly(Strategy):
        """A chain whose first step depends on how often it ran: not reproducible from a seed."""
        name = "wobbly"
        title = "Not deterministic"
        Settings = WobblySettings
        runs = 0

        def run(self, ctx):
            node = ctx.root()
            Wobbly.runs += 1
            for k in range(self.settings.steps):
                child = ctx.propose(node, 0.7, seed_k=Wobbly.runs if k == 0 else 0)
                if child is None or child.step is None:
                    return Result("failed", detail="stuck")
                node = child.node_id
            return Result("failed", detail="done")
''')


def _rebase() -> type:
    taken = {"strategy": {n: "a built-in strategy" for n in BUILTIN_STRATEGIES}}
    found = plugins.load([ROOT / "examples" / "plugins"], taken)
    assert found.errors == []
    return found.strategies["rebase"]


def test_same_seed_passes_when_token_batching_differs(monkeypatch):
    """Each check run gets a recorder on its own fake clock: one that never moves (a node's
    streamed text is one ``tokens`` event) and one that jumps 0.15 s every other reading (about
    every second chunk is flushed on its own), the way a loaded machine cuts batches apart."""
    made: list[Recorder] = []

    def recorder() -> Recorder:
        if len(made) % 2:
            rec = Recorder(1, clock=lambda: 0.0)
        else:
            ticks = itertools.cycle([0.0, 0.15])
            rec = Recorder(1, clock=lambda: next(ticks))
        made.append(rec)
        return rec

    monkeypatch.setattr(plugin_check, "_recorder", recorder)
    cls = _rebase()
    monkeypatch.setitem(STRATEGIES, cls.name, cls)   # registered by name, as check_folder does
    checks = {c["check"]: c for c in plugin_check.check_strategy(cls)}
    same = checks["same seed, same tree"]
    assert same["ok"], same["detail"]
    assert all(c["ok"] for c in checks.values()), checks
    # the two same-seed runs did batch their tokens differently, and made the same tree
    pair = [r for r in made if r.tree.info.get("seed") == 3]
    assert len(pair) == 2
    batches = [sum(e.type == ev.TOKENS for e in r.events) for r in pair]
    assert batches[0] != batches[1], batches
    assert [(e.type, e.node_id) for e in pair[0].events] != \
        [(e.type, e.node_id) for e in pair[1].events]   # what the old check compared


def test_first_difference_ignores_timing_and_token_batches():
    def log(batches: list[str], t: float, seconds: float) -> list[ev.Event]:
        lg = EventLog()
        lg.add("run_started", t=0.0, task="game24", problem="4 5 6 10", strategy="x")
        lg.add("node_created", 0, t=t, parent_id=None, depth=0, role="problem")
        lg.add("node_completed", 0, t=t, text="4 5 6 10")
        lg.add("node_created", 1, t=t, parent_id=0, depth=1)
        for text in batches:
            lg.add("tokens", 1, t=t, text=text)
        lg.add("node_completed", 1, t=2 * t, step="4 + 5 = 9", prompt_tokens=9, completion_tokens=3)
        lg.add("run_finished", t=3 * t, outcome="failed", nodes=2, tokens=3, seconds=seconds,
               model_seconds=seconds / 2)
        return lg.events

    a = log(["4 + ", "5 = 9"], 0.1, 0.5)
    b = log(["4 ", "+ 5", " = 9"], 0.7, 2.5)
    assert plugin_check.first_difference(a, b) is None
    c = log(["4 + 5 = 8"], 0.1, 0.5)
    assert plugin_check.first_difference(a, c) == "node 1 differs in text: '4 + 5 = 9' vs '4 + 5 = 8'"
    d = a[:-1] + [ev.Event(1, a[-1].seq, 0.3, "run_finished", None,
                           {**a[-1].payload, "nodes": 3})]
    assert plugin_check.first_difference(a, d).startswith("event 6 (not counting token batches)")


def test_a_non_deterministic_plugin_fails_naming_the_first_differing_node(tmp_path):
    (tmp_path / "wobbly.py").write_text(WOBBLY)
    env = {k: v for k, v in os.environ.items()
           if k not in ("THINKTREE_TASK_PATH", "THINKTREE_PLUGIN_PATH")}
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", str(tmp_path)], cwd=ROOT,
                         env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 1, out.stderr
    line = next(x for x in out.stderr.splitlines() if "same seed, same tree" in x)
    assert line.startswith("FAIL  strategy wobbly: same seed, same tree: two runs with seed 3 made "
                           "different trees: node 1 differs in text: '"), line
    assert " vs '" in line
