"""Every test that starts the real model is marked ``embedded`` in its own file, so
``pytest -m "not embedded"`` never starts llama.cpp (tests/conftest.py adds a missing mark too,
as a safety net; this test insists on the file's own)."""
from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

from tests.conftest import MODEL_FIXTURES, ROOT, STRICT_MARKS, unmarked_model_tests


def _item(nodeid: str, fixtures: tuple[str, ...], marks: tuple[str, ...] = ()):
    return SimpleNamespace(nodeid=nodeid, fixturenames=list(fixtures),
                           get_closest_marker=lambda name: name if name in marks else None)


def test_an_unmarked_test_that_uses_the_model_is_found():
    items = [_item("a", ("embedded_url", "tmp_path")), _item("b", ("app_url", "embedded_url"),
                                                              ("browser", "embedded")),
             _item("c", ("embedded_model",)), _item("d", ("tmp_path",))]
    assert unmarked_model_tests(items) == ["a", "c"]


def test_every_test_that_starts_the_model_is_marked_in_its_file():
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                   if any(name in p.read_text() for name in MODEL_FIXTURES))
    env = {**os.environ, STRICT_MARKS: "1"}
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "embedded",
                          "-p", "no:cacheprovider", *files], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    marked = {line.split("::")[0] for line in out.stdout.splitlines() if "::" in line}
    assert {"tests/test_export_embedded.py", "tests/test_tasks_embedded.py"} <= marked
    assert "tests/test_probe.py::test_probe_embedded_server" in out.stdout
    assert "test_probe_degrades_on_a_plain_server" not in out.stdout

