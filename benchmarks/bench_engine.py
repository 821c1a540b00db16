"""Engine overhead: time outside model calls as a share of an MCTS run's wall time.

Measured on the embedded model (real server) with events written to a real SQLite file, and on
the scripted fake (no model time at all) to show the engine's own cost per node.
"""
from __future__ import annotations

import os
import tempfile
import time

from reasoning.engine import run_search
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from storage import open_store


def _run(model, store, simulations: int, max_nodes: int, puzzle: str, width: int = 4):
    task = get_task("game24")
    rid = store.create_run(task="game24", problem=puzzle, problem_id=None, strategy="mcts",
                           params={}, model={}, budget={}, seed=0)
    t = time.perf_counter()
    result, rec = run_search(make_strategy("mcts", {"simulations": simulations, "stop_on_solution": False,
                                                      "width": width}),
                             task, task.resolve_problem(puzzle), model, run_id=rid,
                             budget=Budget(max_nodes=max_nodes, max_tokens=10**7, max_seconds=3600),
                             sink=store.writer(rid))
    wall = time.perf_counter() - t
    fin = rec.events[-1].payload
    return wall, fin["model_seconds"], len(rec.tree.nodes), len(rec.events)


def run(quick: bool) -> list[dict]:
    from reasoning.models.embedded import embedded_model
    rows = []
    with tempfile.TemporaryDirectory() as d:
        store = open_store(os.path.join(d, "engine.db"))
        model = embedded_model()
        target_nodes = 30 if quick else 500
        wall, model_s, nodes, n_ev = _run(model, store, 10_000, target_nodes, "4 5 6 10", width=12)
        overhead = (wall - model_s) / wall
        rows.append({"what": "engine overhead, MCTS on the embedded model", "work":
                     f"{nodes} nodes, {n_ev:,} events, {wall:.1f} s",
                     "measured": f"{overhead:.2%} outside model calls", "target": "≤ 3 %",
                     "baseline": f"model calls {model_s:.1f} s of {wall:.1f} s", "ok": overhead <= 0.03})
        import random
        fake = ScriptedModel(lambda r: random.Random(r.seed).choice(r.choices))
        wall_f, _, nodes_f, n_ev_f = _run(fake, store, 100_000, 2_000 if quick else 10_000, "4 5 6 10",
                                            width=30)
        rows.append({"what": "engine alone (scripted model, SQLite sink)", "work":
                     f"{nodes_f:,} nodes, {n_ev_f:,} events",
                     "measured": f"{wall_f / nodes_f * 1000:.2f} ms per node", "target": "—",
                     "baseline": f"embedded model: {wall / nodes * 1000:.0f} ms per node "
                                 f"(×{(wall / nodes) / (wall_f / nodes_f):.0f})", "ok": True})
    return rows
