"""Benchmarks write under a git-ignored folder; the committed results change only when asked."""
from __future__ import annotations

import subprocess
from pathlib import Path

from benchmarks import outputs

ROOT = Path(__file__).resolve().parents[1]


def test_a_benchmark_run_writes_outside_the_checkout_unless_asked(tmp_path, monkeypatch):
    monkeypatch.delenv("THINKTREE_BENCH_UPDATE", raising=False)
    monkeypatch.setenv("THINKTREE_BENCH_DIR", str(tmp_path / "scratch"))
    out = outputs.output("effectiveness_runs.jsonl")
    assert out == tmp_path / "scratch" / "effectiveness_runs.jsonl" and out.parent.is_dir()
    out.write_text("{}\n")
    # reused runs: the committed file (when there is one) first, then this machine's
    assert outputs.recorded("effectiveness_runs.jsonl")[-1] == out
    monkeypatch.setenv("THINKTREE_BENCH_UPDATE", "1")
    assert outputs.output("RESULTS.md") == ROOT / "benchmarks" / "RESULTS.md"


def test_the_scratch_folder_is_git_ignored():
    p = subprocess.run(["git", "check-ignore", "-q", "artifacts/benchmarks/RESULTS.md"], cwd=ROOT)
    assert p.returncode == 0
