"""Strategy and evaluator plug-ins: discovery, broken files reported and skipped, the CLI flags
and help, ``cli.py check``, evaluator settings, and the worked example (REBASE)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reasoning import plugins
from reasoning.engine import run_search
from reasoning.evaluators import BUILTIN_EVALUATORS, EVALUATORS
from reasoning.models.scripted import ScriptedModel
from reasoning.plugin_check import random_policy
from reasoning.settings import Budget
from reasoning.strategies import BUILTIN_STRATEGIES, STRATEGIES, make_strategy
from reasoning.tasks import get_task

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "plugins"

GOOD = textwrap.dedent('''
    from dataclasses import dataclass
    from reasoning.engine import Result
    from reasoning.evaluators import Evaluator, Score
    from reasoning.strategies import Strategy

    @dataclass
    class ChainSettings:
        steps: int = 2
        evaluator: str = "halfway"

    class Chain(Strategy):
        """Greedy for ``steps`` steps, scoring each with the evaluator."""
        name = "chain2"
        title = "Two-step chain"
        Settings = ChainSettings

        def run(self, ctx):
            from reasoning.evaluators import score
            node = ctx.root()
            ev = self.make_evaluator()
            for _ in range(self.settings.steps):
                child = ctx.propose(node, 0.0)
                if child is None or child.step is None:
                    return Result("failed", detail="stuck")
                score(ctx, ev, child.node_id)
                node = child.node_id
            return Result("failed", detail="done")

    @dataclass
    class HalfSettings:
        level: float = 0.5

    class Halfway(Evaluator):
        name = "halfway"
        title = "Always the same value"
        default_threshold = 0.5
        Settings = HalfSettings

        def __init__(self, settings=None):
            self.s = settings or HalfSettings()

        def evaluate(self, ctx, node_id):
            return Score(self.s.level, self.s.level, {"level": self.s.level})
''')

BROKEN = {
    "b_syntax.py": "def broken(:\n",
    "c_norun.py": textwrap.dedent('''
        from dataclasses import dataclass
        from reasoning.strategies import Strategy
        @dataclass
        class S:
            x: int = 1
        class NoRun(Strategy):
            name = "norun"
            title = "No run"
            Settings = S
    '''),
    "d_reserved.py": textwrap.dedent('''
        from dataclasses import dataclass
        from reasoning.strategies import Strategy
        @dataclass
        class S:
            seed: int = 1
        class Seedy(Strategy):
            name = "seedy"
            title = "Shadows --seed"
            Settings = S
            def run(self, ctx):
                pass
    '''),
    "e_clash.py": textwrap.dedent('''
        from dataclasses import dataclass
        from reasoning.strategies import Strategy
        @dataclass
        class S:
            x: int = 1
        class Beam2(Strategy):
            name = "beam"
            title = "Another beam"
            Settings = S
            def run(self, ctx):
                pass
    '''),
    "f_nodefault.py": textwrap.dedent('''
        from dataclasses import dataclass
        from reasoning.strategies import Strategy
        @dataclass
        class S:
            x: int
        class NoDefault(Strategy):
            name = "nodefault"
            title = "x has no default"
            Settings = S
            def run(self, ctx):
                pass
    '''),
    "g_eval.py": textwrap.dedent('''
        from reasoning.evaluators import Evaluator
        class NoEval(Evaluator):
            name = "noeval"
            title = "No evaluate"
            default_threshold = 0.5
    '''),
}


@pytest.fixture
def registry():
    """Leave the registries as the built-ins after each test."""
    yield
    for reg, builtin in ((STRATEGIES, BUILTIN_STRATEGIES), (EVALUATORS, BUILTIN_EVALUATORS)):
        for name in [n for n in reg if n not in builtin]:
            del reg[name]


def _taken():
    return {"strategy": {n: "a built-in strategy" for n in BUILTIN_STRATEGIES},
            "evaluator": {n: "a built-in evaluator" for n in BUILTIN_EVALUATORS}}


def test_strategy_and_evaluator_from_one_file_and_broken_ones_named(tmp_path, registry):
    (tmp_path / "a_good.py").write_text(GOOD)
    for name, text in BROKEN.items():
        (tmp_path / name).write_text(text)
    found = plugins.load([tmp_path], _taken())
    assert list(found.strategies) == ["chain2"] and list(found.evaluators) == ["halfway"]
    by_file = {Path(e["file"]).name: e["error"] for e in found.errors}
    assert set(by_file) == set(BROKEN)
    assert "SyntaxError" in by_file["b_syntax.py"]
    assert "does not implement run()" in by_file["c_norun.py"]
    assert "'seed' clashes with the run option --seed" in by_file["d_reserved.py"]
    assert "'beam' is already taken by a built-in strategy" in by_file["e_clash.py"]
    assert "'x' needs a default" in by_file["f_nodefault.py"]
    assert "does not implement evaluate()" in by_file["g_eval.py"]


def test_a_plugin_strategy_runs_with_its_plugin_evaluator_and_settings(tmp_path, registry):
    (tmp_path / "good.py").write_text(GOOD)
    found = plugins.load([tmp_path], _taken())
    STRATEGIES.update(found.strategies)
    EVALUATORS.update(found.evaluators)
    strategy = make_strategy("chain2", {"steps": "1", "halfway_level": "0.25"})
    assert strategy.params() == {"steps": 1, "evaluator": "halfway", "halfway_level": 0.25}
    task = get_task("game24")
    model = ScriptedModel(random_policy)
    _, rec = run_search(strategy, task, task.parse_problem("4 5 6 10"), model, run_id=1,
                        budget=Budget())
    scored = [e for e in rec.events if e.type == "node_scored"]
    assert [(e.payload["evaluator"], e.payload["value"]) for e in scored] == [("halfway", 0.25)]
    started = rec.events[0].payload
    assert started["strategy"] == "chain2" and started["params"]["halfway_level"] == 0.25
    with pytest.raises(ValueError, match="^halfway_level: expected float"):
        make_strategy("chain2", {"halfway_level": "lots"})
    with pytest.raises(ValueError, match="^halfway_level: applies to evaluator halfway, but this "
                                         "beam run uses value_prompt"):
        make_strategy("beam", {"halfway_level": "0.3"})


def _cli(args, env_extra=None, cwd=None, stdin=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("THINKTREE_TASK_PATH", "THINKTREE_PLUGIN_PATH")}
    env.update({"PYTHONPATH": str(ROOT), **(env_extra or {})})
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=300, input=stdin)


def test_run_help_lists_plugin_strategy_flags_evaluator_flags_and_broken_plugins(tmp_path):
    plug = tmp_path / "plug"
    plug.mkdir()
    (plug / "rebase.py").write_text((EXAMPLES / "rebase.py").read_text())   # as a user copies it
    (plug / "broken.py").write_text("raise RuntimeError('half written')\n")
    out = _cli(["run", "--help"], {"THINKTREE_PLUGIN_PATH": str(plug)}, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "rebase (REBASE (reward-balanced expansion))" in text
    for flag in ("--expansions X default rebase: 8", "--balance-temperature X default rebase: 0.2",
                 "--prm-base-url", "--prm-model", "--prm-api-key-env"):
        assert flag in text
    assert "plug-ins that failed to load" in text and "broken.py" in text and "half written" in text
    # the other listing names the same failure; and the old variable still finds tasks
    tasks = _cli(["tasks"], {"THINKTREE_PLUGIN_PATH": str(plug),
                             "THINKTREE_TASK_PATH": str(ROOT / "examples" / "tasks")}, cwd=tmp_path)
    data = json.loads(tasks.stdout)
    assert [Path(e["file"]).name for e in data["errors"]] == ["broken.py"]
    assert "countdown3" in {t["name"] for t in data["tasks"]}


def test_evaluator_setting_for_an_unused_evaluator_is_a_one_line_error(tmp_path):
    out = _cli(["run", "--strategy", "beam", "--prm-model", "big", "--db", str(tmp_path / "x.db")])
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == "error: prm_model: applies to evaluator prm, but this beam run " \
                                 "uses value_prompt"


def test_check_passes_the_example_and_names_what_a_bad_strategy_breaks(tmp_path):
    ok = _cli(["check", str(EXAMPLES)])
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["ok"] and report["errors"] == []
    assert {p["name"] for p in report["plugins"]} == {"rebase", "restarts"}   # the examples
    for plugin in report["plugins"]:
        assert all(c["ok"] for c in plugin["checks"]) and len(plugin["checks"]) == 5
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "sloppy.py").write_text(textwrap.dedent('''
        import random
        from dataclasses import dataclass
        from reasoning.engine import Result
        from reasoning.strategies import Strategy

        @dataclass
        class S:
            tries: int = 3

        class Sloppy(Strategy):
            name = "sloppy"
            title = "Ignores the seed"
            Settings = S

            def run(self, ctx):
                root = ctx.root()
                for _ in range(random.randint(1, 4)):   # the global RNG: not reproducible
                    ctx.propose(root, 0.7, seed_k=random.randint(0, 10**6))
                return Result("solved", "24", root, "claims a solution it does not have")
    '''))
    out = _cli(["check", str(bad)])
    assert out.returncode == 1
    checks = {c["check"]: c for c in json.loads(out.stdout)["plugins"][0]["checks"]}
    assert not checks["runs on defaults"]["ok"]
    assert "answer_node 0 is not a solved node" in checks["runs on defaults"]["detail"]
    assert checks["settings from strings"]["ok"]
    assert "FAIL  strategy sloppy: runs on defaults" in out.stderr


def test_check_catches_a_strategy_that_swallows_the_budget(tmp_path):
    (tmp_path / "greedy_forever.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass
        from reasoning.engine import Result
        from reasoning.strategies import Strategy

        @dataclass
        class S:
            tries: int = 50

        class Stubborn(Strategy):
            name = "stubborn"
            title = "Keeps going whatever happens"
            Settings = S

            def run(self, ctx):
                node = ctx.root()
                for _ in range(self.settings.tries):
                    try:
                        child = ctx.propose(node, 0.0)
                    except Exception:          # also swallows the budget: a bug
                        continue
                    if child is None or child.terminal:
                        break
                    node = child.node_id
                return Result("failed", detail="gave up")
    '''))
    out = _cli(["check", str(tmp_path)])
    assert out.returncode == 1
    checks = {c["check"]: c for c in json.loads(out.stdout)["plugins"][0]["checks"]}
    assert not checks["honours max_nodes"]["ok"]
    assert "ended 'failed', not 'budget'" in checks["honours max_nodes"]["detail"]
    assert checks["runs on defaults"]["ok"]


def test_check_reports_a_crash_with_its_traceback_and_an_empty_folder(tmp_path):
    (tmp_path / "crash.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass
        from reasoning.strategies import Strategy

        @dataclass
        class S:
            depth: int = 2

        class Crash(Strategy):
            name = "crash"
            title = "Divides by zero"
            Settings = S

            def run(self, ctx):
                ctx.root()
                return 1 / 0
    '''))
    out = _cli(["check", str(tmp_path)])
    assert out.returncode == 1
    assert "ZeroDivisionError" in out.stderr and "crash.py\", line 16, in run" in out.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    out = _cli(["check", str(empty)])
    assert out.returncode == 1 and "no task, strategy or evaluator class found" in out.stderr


def _rebase():
    found = plugins.load([EXAMPLES], _taken())
    assert found.errors == []
    return found.strategies["rebase"]


def test_rebase_shares_expansions_by_softmax_of_scores():
    allocate = sys.modules[_rebase().__module__].allocate
    assert allocate({1: 1.0, 2: 0.0, 3: 0.0}, 8, 0.2) == {1: 8, 2: 0, 3: 0}
    assert allocate({1: 0.6, 2: 0.5, 3: 0.5}, 8, 10.0) == {1: 3, 2: 3, 3: 2}   # nearly even
    assert allocate({1: 0.9, 2: 0.7}, 5, 0.2) == {1: 4, 2: 1}                  # 3.66 / 1.34
    assert allocate({1: 0.7, 2: 0.9}, 5, 0.2) == {1: 1, 2: 4}   # the larger remainder wins
    for scores in ({1: 0.1}, {1: 0.2, 2: 0.9, 3: 0.4, 4: 0.4}):
        assert sum(allocate(scores, 7, 0.3).values()) == 7


def test_rebase_gives_each_node_its_share_and_prunes_the_rest(registry):
    cls = _rebase()
    STRATEGIES[cls.name] = cls
    task = get_task("game24")
    model = ScriptedModel(random_policy)
    strategy = make_strategy("rebase", {"expansions": 4, "evaluator": "verifier"})
    result, rec = run_search(strategy, task, task.parse_problem("1 1 1 1"), model, run_id=1,
                             budget=Budget(max_nodes=200))
    tree = rec.tree
    assert result.outcome == "failed"        # 1 1 1 1 cannot make 24
    depth1 = tree.nodes[tree.root_id].children
    assert len(depth1) == 4                  # the root gets every expansion (distinct steps)
    # the verifier scores every open state alike (neutral 0.5): an even split, 1 per node
    depth2 = [c for n in depth1 for c in tree.nodes[n].children]
    assert all(len(tree.nodes[n].children) == 1 for n in depth1) and len(depth2) == 4
    pruned = [n for n in tree.nodes.values() if n.state == "pruned"]
    assert all(n.reason.startswith("REBASE: no expansion") for n in pruned)


def test_check_runs_evaluators_and_names_a_norm_out_of_range(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    out = _cli(["check", str(tmp_path)])
    assert out.returncode == 0, out.stderr
    kinds = {(p["kind"], p["name"]): p["checks"] for p in json.loads(out.stdout)["plugins"]}
    assert set(kinds) == {("strategy", "chain2"), ("evaluator", "halfway")}
    assert kinds[("evaluator", "halfway")][0]["detail"] == "3 nodes scored, last value 0.5"
    (tmp_path / "good.py").write_text(GOOD.replace("return Score(self.s.level, self.s.level,",
                                                   "return Score(self.s.level, 3.0,"))
    out = _cli(["check", str(tmp_path)])
    assert out.returncode == 1
    assert "FAIL  evaluator halfway: scores nodes: norm 3.0 is outside 0..1" in out.stderr


@pytest.mark.parametrize("name", sorted(BUILTIN_STRATEGIES))
def test_every_builtin_strategy_passes_the_plugin_contract(name):
    """The contract holds for the strategies that ship, so a failure names a real problem."""
    from reasoning.plugin_check import check_strategy
    failed = [c for c in check_strategy(BUILTIN_STRATEGIES[name]) if not c["ok"]]
    assert failed == []
