"""Task plug-ins: discovery from folders, broken files reported and skipped, the CLI listing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reasoning.tasks.discovery import load_plugins, plugin_dirs

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "tasks" / "countdown3.py"

TINY = textwrap.dedent('''
    from reasoning.tasks import InvalidStep, Problem, Task, Verdict

    class Echo(Task):
        name = "{name}"
        title = "Echo"
        max_depth = 1

        def problems(self):
            return [Problem(id="1", text="say yes")]

        def parse_problem(self, text):
            return Problem(id=text, text=text)

        def initial_state(self, problem):
            return ()

        def prompt(self, problem, state, mode):
            return problem.text if mode == "completions" else [{{"role": "user", "content": problem.text}}]

        def apply_step(self, problem, state, text):
            if not text.strip():
                raise InvalidStep("empty")
            return text.strip(), (text.strip(),)

        def is_terminal(self, state):
            return bool(state)

        def verify(self, problem, state):
            return Verdict(state[0] == "yes", "said " + state[0], answer=state[0])

        def describe(self, state):
            return state[0] if state else "start"
''')


def test_discovers_tasks_from_a_folder(tmp_path):
    (tmp_path / "echo.py").write_text(TINY.format(name="echo"))
    (tmp_path / "_private.py").write_text("raise RuntimeError('never scanned')")
    (tmp_path / "helpers.py").write_text("X = 1\n")          # no task: silently fine
    (tmp_path / "_tt_shared_bits.py").write_text("Y = 2\n")   # "_": a helper, not scanned
    (tmp_path / "uses_helper.py").write_text("from _tt_shared_bits import Y\nassert Y == 2\n")
    found, errors = load_plugins([tmp_path])
    sys.modules.pop("_tt_shared_bits", None)
    assert list(found) == ["echo"] and errors == []
    task = found["echo"]()
    p = task.problems()[0]
    _, s = task.apply_step(p, task.initial_state(p), "yes")
    assert task.verify(p, s).correct is True


def test_broken_plugins_are_reported_and_skipped(tmp_path):
    (tmp_path / "a_good.py").write_text(TINY.format(name="good"))
    (tmp_path / "b_syntax.py").write_text("def broken(:\n")
    (tmp_path / "c_import.py").write_text("import no_such_module_xyz\n")
    (tmp_path / "d_incomplete.py").write_text(textwrap.dedent('''
        from reasoning.tasks import Task
        class Half(Task):
            name = "half"
            title = "Half a task"
            def problems(self):
                return []
    '''))
    (tmp_path / "e_clash.py").write_text(TINY.format(name="game24"))
    (tmp_path / "f_badname.py").write_text(TINY.format(name="has spaces!"))
    (tmp_path / "g_exit.py").write_text("import sys\nsys.exit(3)\n")
    found, errors = load_plugins([tmp_path], taken={"game24": "a built-in task"})
    assert list(found) == ["good"]
    by_file = {Path(e["file"]).name: e["error"] for e in errors}
    assert set(by_file) == {"b_syntax.py", "c_import.py", "d_incomplete.py", "e_clash.py",
                            "f_badname.py", "g_exit.py"}
    assert "SyntaxError" in by_file["b_syntax.py"]
    assert "no_such_module_xyz" in by_file["c_import.py"]
    assert "does not implement" in by_file["d_incomplete.py"] and "apply_step" in by_file["d_incomplete.py"]
    assert "already taken" in by_file["e_clash.py"]
    assert "'name'" in by_file["f_badname.py"]
    assert "SystemExit" in by_file["g_exit.py"]


def test_plugin_dirs_from_env_and_cwd(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (tmp_path / "work" / "tasks").mkdir(parents=True)
    dirs = plugin_dirs(env=os.pathsep.join([str(a), "", str(b), str(a)]), cwd=tmp_path / "work")
    assert dirs == [a, b, tmp_path / "work" / "tasks"]
    assert plugin_dirs(env="", cwd=tmp_path) == []


def test_missing_folder_is_an_error_not_a_crash(tmp_path):
    found, errors = load_plugins([tmp_path / "nope"])
    assert found == {} and errors[0]["error"] == "not a folder"


def _cli(args, cwd, env_extra):
    env = {**os.environ, **env_extra, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_lists_plugins_and_errors(tmp_path):
    plug = tmp_path / "plug"
    plug.mkdir()
    (plug / "countdown3.py").write_text(EXAMPLE.read_text())       # as a user would copy it
    (plug / "broken.py").write_text("raise ValueError('oops')\n")
    local = tmp_path / "tasks"                                      # ./tasks/ of the cwd
    local.mkdir()
    (local / "echo.py").write_text(TINY.format(name="echo"))
    out = _cli(["tasks"], cwd=tmp_path, env_extra={"THINKTREE_TASK_PATH": str(plug)})
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    by_name = {t["name"]: t for t in data["tasks"]}
    assert {"game24", "gsm8k", "math", "free", "countdown3", "echo"} <= set(by_name)
    cd = by_name["countdown3"]
    assert cd["problems"] == 5 and cd["has_verifier"] and not cd["builtin"]
    assert set(cd["features"]) == {"legal_steps", "solvable"}
    assert cd["source"].endswith("countdown3.py")
    assert by_name["free"]["has_verifier"] is False
    assert [Path(e["file"]).name for e in data["errors"]] == ["broken.py"]
    assert "oops" in data["errors"][0]["error"]


def test_unknown_task_and_bad_task_file_are_one_line_errors(tmp_path):
    out = _cli(["run", "--task", "nope", "--db", str(tmp_path / "x.db")], cwd=tmp_path, env_extra={})
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0
    assert "unknown task 'nope'" in out.stderr and "Traceback" not in out.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answer": 1, "checker": "numeric"}\n{oops\n')
    out = _cli(["run", "--task-file", str(bad), "--problem", "1", "--db", str(tmp_path / "x.db")],
               cwd=tmp_path, env_extra={})
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0
    assert "line 2: not valid JSON" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("name", ["countdown3"])
def test_registry_picks_up_plugins_via_env(monkeypatch, name):
    from reasoning import plugins, tasks
    monkeypatch.setenv("THINKTREE_TASK_PATH", str(EXAMPLE.parent))
    try:
        assert plugins.ensure(reload=True) == []
        assert tasks.get_task(name).name == name
        assert name in {t["name"] for t in tasks.list_tasks()}
    finally:
        monkeypatch.delenv("THINKTREE_TASK_PATH")
        plugins.ensure(reload=True)
    assert name not in tasks.TASKS
