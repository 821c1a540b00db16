"""Update constraints.txt: the newest versions requirements*.txt allow, installed into a new
virtual environment, frozen exactly (every package, direct and transitive).

    python scripts/lock.py          # then run the tests and commit constraints.txt

The requirements files keep their lower bounds; only this file says which exact versions a fresh
machine gets, and CI tests those.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = ("# Exact versions of every package Thinktree installs (direct and transitive), the ones CI\n"
          "# tested. requirements*.txt read this file. Made by `python scripts/lock.py`; do not edit.\n")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("requirements.txt", "requirements-dev.txt"):   # the same, unconstrained
            lines = (ROOT / name).read_text().splitlines()
            Path(tmp, name).write_text("\n".join(ln for ln in lines if not ln.startswith("-c")) + "\n")
        venv = Path(tmp, "venv")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        subprocess.run([*pip, "install", "-r", str(Path(tmp, "requirements-dev.txt"))], check=True)
        frozen = subprocess.run([*pip, "freeze", "--exclude-editable"], check=True,
                                capture_output=True, text=True).stdout
    pins = sorted((ln for ln in frozen.splitlines() if "==" in ln), key=str.lower)
    (ROOT / "constraints.txt").write_text(HEADER + "\n".join(pins) + "\n")
    print(f"constraints.txt: {len(pins)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
