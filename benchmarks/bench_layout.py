"""Layout stability: how much of the drawn tree moves when a refresh brings new nodes.

Real searches (engine + scripted model, whose choices are random but seeded) are folded event by
event and laid out after every new node — the Live page refreshes about once per node on the
embedded model. The stable layout (what the Live page draws) is compared with a fresh tidy layout
per refresh (what it drew before), and timed on a big tree.
"""
from __future__ import annotations

import random
import time

from reasoning.engine import run_search
from reasoning.layout import StableLayout, motion, off_centre, tidy_layout
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from reasoning.tree import Tree
from runner.synthetic import synthetic_events

SEARCHES = [("mcts", {"simulations": 100_000, "stop_on_solution": False, "width": 6}),
            ("beam", {"beam_width": 5, "proposals": 5}),
            ("dfs", {"proposals": 5}),
            ("best_of_n", {"n": 64})]


def _policy(req):
    rng = random.Random(req.seed)
    return rng.choice(req.choices) if req.choices else rng.choice(["sure", "likely", "impossible"])


def search_events(strategy: str, params: dict, nodes: int, puzzle: str = "4 5 6 10"):
    """The events of a real search (engine + seeded scripted model) of up to ``nodes`` nodes."""
    task = get_task("game24")
    _, rec = run_search(make_strategy(strategy, params), task, task.resolve_problem(puzzle),
                        ScriptedModel(_policy, chunk=4), run_id=1, budget=Budget(max_nodes=nodes))
    return rec.events


def _replay(events, layout) -> tuple[Tree, dict, list]:
    tree, prev, moves = Tree(), None, []
    for e in events:
        tree.apply(e)
        if e.type != "node_created":
            continue
        pos = layout(tree)
        if prev is not None:
            moves.append(motion(prev, pos))
        prev = pos
    return tree, prev, moves


def _summary(moves) -> tuple[float, float, float]:
    existing = sum(m.existing for m in moves) or 1
    return (sum(1 for m in moves if m.moved) / max(1, len(moves)),
            sum(m.moved for m in moves) / existing,
            sum(m.mean_shift * m.existing for m in moves) / existing)


def run(quick: bool) -> list[dict]:
    rows = []
    nodes = 150 if quick else 600
    for strategy, params in SEARCHES:
        events = search_events(strategy, params, nodes)
        stable = StableLayout()
        tree, pos, moves = _replay(events, stable.update)
        _, tidy_pos, tidy_moves = _replay(events, tidy_layout)
        calm, moved, shift = _summary(moves)
        t_calm, t_moved, t_shift = _summary(tidy_moves)
        width = max(x for x, _ in pos.values()) - min(x for x, _ in pos.values()) + 1
        tidy_width = max(x for x, _ in tidy_pos.values()) + 1
        rows.append({
            "what": f"layout stability, {strategy} (a refresh per new node)",
            "work": f"{len(tree.nodes)} nodes, {len(moves)} refreshes",
            "measured": f"{calm:.1%} of refreshes move anything; {moved:.1%} of drawn nodes move per "
                        f"refresh (mean {shift:.2f} unit); width {width:.0f}, parents off-centre "
                        f"{off_centre(tree, pos):.2f}",
            "target": "existing nodes stay put",
            "baseline": f"tidy re-layout: {t_calm:.1%} of refreshes, {t_moved:.1%} of nodes "
                        f"(mean {t_shift:.2f}); width {tidy_width:.0f}",
            "ok": moved == 0.0,
        })
    # time per refresh on a big tree: 10 new nodes onto ~10,000 (synthetic: a Game-of-24 search
    # tree for one puzzle has under 3,000 distinct steps)
    big = 2_000 if quick else 10_000
    events = synthetic_events(big)
    tree, layout, cut = Tree(), StableLayout(), None
    created = 0
    for i, e in enumerate(events):
        tree.apply(e)
        created += e.type == "node_created"
        if created == big - 10 and cut is None:
            cut = i + 1
            layout.update(tree)
            break
    if cut is None:
        raise RuntimeError(f"the search stopped at {created} nodes")
    t = time.perf_counter()
    for e in events[cut:]:
        tree.apply(e)
    layout.update(tree)
    dt = time.perf_counter() - t
    t = time.perf_counter()
    tidy_layout(tree)
    dt_tidy = time.perf_counter() - t
    rows.append({"what": "stable layout, one refresh with 10 new nodes", "work": f"{len(tree.nodes):,}-node synthetic tree",
                 "measured": f"{dt:.3f} s", "target": "≤ 1 s (figure budget)",
                 "baseline": f"tidy layout alone: {dt_tidy:.3f} s", "ok": dt <= 1.0})
    return rows
