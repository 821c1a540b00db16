"""Code that raises mid-run is not hidden: the CLI prints a one-line cause and where to read the
traceback (``cli.py show RUN --traceback``), which prints it; the node inspector shows it. A task
name whose plug-in file failed to load says which file failed and why.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from benchmarks.fault_server import FaultServer
from storage import reopen
from tests.conftest import ROOT
from tests.helpers import new_run

CLI = str(ROOT / "cli.py")

# A plug-in task that raises in its own code after the model answered (a bug in a user's file).
RAISING = textwrap.dedent('''
    from reasoning.tasks import Problem, Task, Verdict

    def check_answer(text):
        raise RuntimeError("checker exploded on " + repr(text[:10]))

    class Fragile(Task):
        name = "fragile"
        title = "Raises in apply_step"
        max_depth = 2

        def problems(self):
            return [Problem(id="1", text="say something")]

        def parse_problem(self, text):
            return Problem(id=text, text=text)

        def initial_state(self, problem):
            return ()

        def prompt(self, problem, state, mode):
            return problem.text

        def apply_step(self, problem, state, text):
            return check_answer(text)

        def is_terminal(self, state):
            return bool(state)

        def verify(self, problem, state):
            return Verdict(True, "ok", answer="x")

        def describe(self, state):
            return "start"
''')


def cli(*args, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, CLI, *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def test_a_plugin_raising_mid_run_names_its_cause_and_the_traceback_command(tmp_path):
    plug = tmp_path / "plugins"
    plug.mkdir()
    (plug / "fragile.py").write_text(RAISING)
    db = str(tmp_path / "err.db")
    env = dict(os.environ, THINKTREE_TASK_PATH=str(plug))
    with FaultServer() as server:
        out = cli("run", "--db", db, "--task", "fragile", "--problem", "1", "--base-url", server.url,
                  "--model", "ok", "--mode", "completions", "--quiet", env=env)
    assert out.returncode == 1, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])   # the JSON line is still last
    assert summary["outcome"] == "error"
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: run {summary['run_id']} stopped on an error in the code: "
                           "RuntimeError: checker exploded on ")
    assert last.endswith(f"(traceback: python cli.py show {summary['run_id']} --traceback --db {db})")
    assert "Traceback" not in out.stderr                       # one line, not the traceback
    shown = cli("show", str(summary["run_id"]), "--db", db, "--traceback")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == summary
    trace = "\n".join(lines[:-1])
    assert trace.startswith("Traceback (most recent call last):")
    # the frame that raised is there (not only the engine's outer frames)
    assert "fragile.py" in trace and "in check_answer" in trace
    assert trace.endswith("RuntimeError: checker exploded on '4 + 6 = 10'")
    plain = cli("show", str(summary["run_id"]), "--db", db)
    assert json.loads(plain.stdout) == summary                 # without the flag: as before


def test_show_traceback_of_a_run_without_one(tmp_path):
    db = str(tmp_path / "ok.db")
    with FaultServer() as server:
        out = cli("run", "--db", db, "--base-url", server.url, "--model", "ok", "--mode",
                  "completions", "--quiet")
    assert out.returncode == 0, out.stderr
    shown = cli("show", "1", "--db", db, "--traceback")
    assert shown.stdout.splitlines()[0] == "run 1 has no traceback (outcome failed)"


def test_unknown_task_whose_plugin_failed_says_why(tmp_path):
    plug = tmp_path / "plugins"
    plug.mkdir()
    (plug / "countdown9.py").write_text("from reasoning.tasks import Task\nclass C(Task):\n"
                                        "    name = 'countdown9'\n    def broken(:\n")
    (plug / "other.py").write_text("import not_a_module_anywhere\n")
    env = dict(os.environ, THINKTREE_TASK_PATH=str(plug))
    out = cli("run", "--task", "countdown9", "--db", str(tmp_path / "x.db"), env=env)
    assert out.returncode == 2
    msg = out.stderr.strip()
    assert msg.startswith(f"error: task: unknown task 'countdown9'; the plug-in file "
                          f"{plug / 'countdown9.py'} failed: import failed: SyntaxError")
    assert "other.py" not in msg                       # only the file that would have defined it
    assert "choose one of" in msg and "game24" in msg
    # a name no failed file mentions: every failed file is pointed at
    out = cli("run", "--task", "nosuch", "--db", str(tmp_path / "x.db"), env=env)
    assert "unknown task 'nosuch'; 2 plug-in file(s) failed to load" in out.stderr
    assert "cli.py tasks" in out.stderr


def test_the_inspector_shows_the_traceback(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from reasoning.engine import run_search
    from reasoning.models.scripted import ScriptedModel
    from reasoning.settings import Budget
    from reasoning.tasks import get_task
    from storage import open_store
    from tests.helpers import pick_first

    class Exploding:
        """A strategy with a bug: one step, then an exception in its own code."""
        name = "exploding"

        def params(self):
            return {}

        def run(self, ctx):
            ctx.propose(ctx.root())
            return {}["missing key in the strategy"]

        def best_effort(self, ctx, outcome, detail):  # pragma: no cover - not reached
            raise AssertionError

    db = str(tmp_path / "insp.db")
    monkeypatch.setenv("THINKTREE_DB", db)
    store = open_store(db)
    task = get_task("game24")
    rid = new_run(store, task="game24", problem="4 5 6 10", problem_id=None, strategy="exploding",
                           params={}, model={}, budget={}, seed=0)
    result, _ = run_search(Exploding(), task, task.resolve_problem("4 5 6 10"),
                           ScriptedModel(pick_first), run_id=rid, budget=Budget(),
                           sink=reopen(store, rid))
    assert result.outcome == "error" and "traceback" in result.extra
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.query_params["run"] = str(rid)
    at.run()
    at.switch_page("pages/sessions.py").run()
    assert not at.exception, at.exception
    codes = [c.value for c in at.code]
    trace = [c for c in codes if c.startswith("Traceback (most recent call last):")]
    assert trace and "KeyError: 'missing key in the strategy'" in trace[0]
    assert "in run" in trace[0]
